"""Document engine speed per stage, and printed-field accuracy, on generated genuine documents.

Target (issue 3): a whole front+back check well under a second on one core.

Generates ``--n`` genuine US licences (front + back) and ``--n`` genuine passport data
pages with :func:`openidv.synth.forgery.generate` (real portrait photos printed on
synthetic documents, camera-simulated: tilt up to 30 degrees, blur, noise, JPEG), runs
:func:`openidv.document.engine.analyse_side` on each side and
:func:`openidv.document.engine.build_report`, and prints per-stage medians (and p90 of
the total) of

* **CPU** milliseconds of the calling thread (``time.thread_time``): the work done,
  barely affected by other processes on a shared machine;
* **wall** milliseconds (``time.perf_counter``): inflated when the machine is loaded.

Stages: decode, locate (outline, rectification, upright), face (portrait detection),
barcode (PDF417), text_detect (the PP-OCR text detector, once per portrait side; on
passport pages it serves the MRZ and the printed zone), MRZ, printed OCR (recognition of
the printed-zone lines and field extraction), integrity (the report: validation,
cross-checks and image-integrity checks), total.

Printed-field accuracy compares the fields read from the printed zone with the
generated truth (names, dates, document number, and sex on passports): a speed-up that
loses fields shows here. Generation is not timed.

One core: the script re-executes itself under ``taskset -c 0`` when available (unless
``--no-pin``) and sets ``OPENIDV_ONNX_THREADS=1``, ``OMP_NUM_THREADS=1`` before importing
anything heavy.

Usage: python bench/document_speed.py [--n 12] [--seed 5] [--json] [--no-pin]
"""

from __future__ import annotations

import os

import _pin  # noqa: F401  (first: re-executes under taskset with one ONNX / OpenMP thread)

# isort: split

import argparse
import json
import time
from collections import defaultdict
from datetime import date
from typing import Any

import numpy as np

TARGET_MS = 1000.0
TODAY = date(2026, 6, 1)
STAGES = ("decode", "locate", "face", "barcode", "text_detect", "mrz", "printed_ocr", "integrity", "total")
#: engine steps whose stage has another name (the rest are named as their stage); re-rectifying a side
#: as a passport page or as a card counts as locating it
_STEP_TO_STAGE = {"faces": "face", "printed_text": "printed_ocr", "locate_td3": "locate", "locate_id1": "locate"}
FIELDS = ("family_name", "given_names", "birth_date", "expiry_date", "issue_date", "document_number", "sex")


def _truth(doc: Any) -> dict[str, str]:
    p = doc.person
    out = {
        "family_name": p.family_name,
        "given_names": f"{p.given_name} {p.middle_name}",
        "birth_date": p.birth_date.isoformat(),
        "expiry_date": p.expiry_date.isoformat(),
        "issue_date": p.issue_date.isoformat(),
        "document_number": p.number if doc.kind == "us_dl" else p.number[1:],
    }
    if doc.kind == "passport":
        out["sex"] = p.sex
    return out


def _same(name: str, read: str, truth: str) -> bool:
    if name in ("family_name", "given_names"):
        return read.replace(" ", "") == truth.replace(" ", "")  # OCR often drops the space between names
    return read == truth


def _run_one(doc: Any) -> tuple[dict[str, float], dict[str, float], dict[str, tuple[bool, bool]]]:
    from openidv.document.engine import analyse_side, build_report

    cpu: dict[str, float] = defaultdict(float)
    wall: dict[str, float] = defaultdict(float)
    c0, w0 = time.thread_time(), time.perf_counter()
    sides = [analyse_side(doc.front, "front")]
    if doc.back is not None:
        sides.append(analyse_side(doc.back, "back"))
    c1, w1 = time.thread_time(), time.perf_counter()
    build_report(sides, today=TODAY)
    c2, w2 = time.thread_time(), time.perf_counter()
    for side in sides:
        for step, ms in side.cpu_ms.items():
            cpu[_STEP_TO_STAGE.get(step, step)] += ms
        for step, ms in side.timings_ms.items():
            wall[_STEP_TO_STAGE.get(step, step)] += ms
    cpu["integrity"], wall["integrity"] = (c2 - c1) * 1000.0, (w2 - w1) * 1000.0
    cpu["total"], wall["total"] = (c2 - c0) * 1000.0, (w2 - w0) * 1000.0
    truth = _truth(doc)
    printed = {f.name: f.value for f in sides[0].printed}
    fields = {name: (name in printed, name in printed and _same(name, printed[name], truth[name])) for name in truth}
    return dict(cpu), dict(wall), fields


def _summary(rows: list[tuple[dict[str, float], dict[str, float], dict[str, tuple[bool, bool]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows), "cpu_ms": {}, "wall_ms": {}, "fields": {}}
    for key, timings in (("cpu_ms", [r[0] for r in rows]), ("wall_ms", [r[1] for r in rows])):
        for stage in STAGES:
            out[key][stage] = round(float(np.median([t.get(stage, 0.0) for t in timings])), 1)
        out[key]["total_p90"] = round(float(np.percentile([t["total"] for t in timings], 90)), 1)
    names = sorted({n for r in rows for n in r[2]}, key=FIELDS.index)
    for name in names:
        found = sum(r[2][name][0] for r in rows if name in r[2])
        right = sum(r[2][name][1] for r in rows if name in r[2])
        out["fields"][name] = {"found": found, "correct": right, "n": sum(name in r[2] for r in rows)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=12, help="documents of each kind")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()

    from openidv.eval.forgery import default_portraits
    from openidv.synth.forgery import generate

    portraits = default_portraits()
    rng = np.random.default_rng(args.seed)
    kinds = {"us_dl": "licence front+back", "passport": "passport page"}
    docs = {k: [generate("genuine", rng, portraits, TODAY, kind=k) for _ in range(args.n)] for k in kinds}
    _run_one(docs["us_dl"][0])  # load the models outside the timing
    results = {k: _summary([_run_one(d) for d in docs[k]]) for k in kinds}
    payload = {
        "target_ms": TARGET_MS,
        "n_per_kind": args.n,
        "seed": args.seed,
        "onnx_threads": os.environ.get("OPENIDV_ONNX_THREADS"),
        "data": "generated genuine documents (real portraits, camera-simulated)",
        "results": results,
    }
    if args.json:
        print(json.dumps(payload, indent=2))
        return
    print(f"document engine speed, {args.n} generated documents per kind, seed {args.seed}, one core")
    print("median milliseconds per document (CPU of the calling thread / wall clock)")
    print(f"  {'stage':<13}" + "".join(f"{label:>24}" for label in kinds.values()))
    for stage in (*STAGES, "total_p90"):
        cells = "".join(
            f"{results[k]['cpu_ms'][stage]:>12.0f} / {results[k]['wall_ms'][stage]:>7.0f} ms" for k in kinds
        )
        print(f"  {stage:<13}{cells}")
    for k, label in kinds.items():
        total = results[k]["cpu_ms"]["total"]
        print(f"  {label}: median CPU {total:.0f} ms = {total / TARGET_MS:.2f} x the {TARGET_MS:.0f} ms target")
    print("printed-zone fields read correctly (found) of n")
    for k, label in kinds.items():
        cells = ", ".join(f"{n} {v['correct']}({v['found']})/{v['n']}" for n, v in results[k]["fields"].items())
        print(f"  {label}: {cells}")


if __name__ == "__main__":
    main()
