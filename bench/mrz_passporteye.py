"""Benchmark: this project's MRZ reader vs PassportEye on the same real images, same run.

Images: ``../shared/data/passporteye/mrz_expected.tsv`` and ``../shared/data/fastmrz/
mrz_expected.tsv`` (42 images with an MRZ, plus the fastmrz card without one). Each engine
is scored by :mod:`openidv.eval.mrz`: MRZ found, every line read exactly, and each check
digit judged (pass/fail) as labelled. Times are wall-clock per image, decoding included,
model loading excluded, one image at a time.

PassportEye (MIT; Tesseract OCR) is not a project dependency. It runs in its own
interpreter so that the project's environment stays unchanged::

    apt-get install -y tesseract-ocr
    python3 -m venv /tmp/pe-venv && /tmp/pe-venv/bin/pip install passporteye
    .venv/bin/python bench/mrz_passporteye.py --peer-python /tmp/pe-venv/bin/python

(or set ``OPENIDV_PASSPORTEYE_PYTHON``). PassportEye's lines are its OCR text after its own
clean-up (``mrz.aux['text']``); its check-digit judgement is its own ``valid_*`` flags
(``valid_number``, ``valid_date_of_birth``, ``valid_expiration_date``,
``valid_personal_number`` for TD3's optional data, ``valid_composite``). Set
``OPENIDV_ONNX_THREADS=1`` for the one-core figure of this engine (Tesseract is
single-threaded with ``OMP_THREAD_LIMIT=1``, which this script sets for it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from openidv.eval.mrz import (
    MrzEvalResult,
    MrzImageResult,
    Reading,
    evaluate_mrz,
    format_report,
    load_cases,
    merge,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LISTS = ("passporteye/mrz_expected.tsv", "fastmrz/mrz_expected.tsv")

# Runs inside the PassportEye interpreter: JSON list of paths on stdin, JSON results on stdout.
_PEER = r"""
import json, sys, time
from passporteye import read_mrz
paths = json.load(sys.stdin)
out = []
for p in paths:
    t = time.perf_counter()
    try:
        mrz = read_mrz(p)
        err = ""
    except Exception as exc:  # a crash on one image is a miss, not the end of the bench
        mrz, err = None, f"{type(exc).__name__}: {exc}"
    ms = (time.perf_counter() - t) * 1000
    if mrz is None:
        out.append({"file": p, "found": False, "ms": ms, "error": err})
        continue
    d = mrz.to_dict()
    text = (mrz.aux or {}).get("text", "") if hasattr(mrz, "aux") else ""
    out.append({
        "file": p, "found": True, "ms": ms, "type": d.get("mrz_type"),
        "lines": [x for x in str(text).split("\n") if x.strip()],
        "valid": {k: bool(d.get(k)) for k in (
            "valid_number", "valid_date_of_birth", "valid_expiration_date",
            "valid_personal_number", "valid_composite")},
        "valid_score": d.get("valid_score"),
    })
json.dump(out, sys.stdout)
"""

_PE_KEYS = {
    "number": "valid_number",
    "dob": "valid_date_of_birth",
    "expiry": "valid_expiration_date",
    "optional": "valid_personal_number",
    "composite": "valid_composite",
}


def run_passporteye(python: str, lists: list[Path], timeout_s: float = 1800) -> MrzEvalResult:
    """Run PassportEye on every image of ``lists`` in the interpreter ``python``."""
    cases = [(tsv, c) for tsv in lists for c in load_cases(tsv)]
    paths = [str(tsv.parent / c.file) for tsv, c in cases]
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    proc = subprocess.run(
        [python, "-c", _PEER],
        input=json.dumps(paths),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"PassportEye failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    rows = json.loads(proc.stdout)
    images: list[MrzImageResult] = []
    for (_tsv, case), row in zip(cases, rows, strict=True):
        if not row["found"]:
            reading = Reading(False, reason=row.get("error") or "not_found")
        else:
            keys = case.check_digits.keys() if case.check_digits else ()
            judged = {k: bool(row["valid"].get(_PE_KEYS[k])) for k in keys if k in _PE_KEYS}
            reading = Reading(True, row["lines"], judged, row["lines"], row.get("type"), "ok")
        images.append(MrzImageResult(case, reading, float(row["ms"])))
    return MrzEvalResult(images, sum(i.ms for i in images) / 1000)


def _row(name: str, d: dict[str, Any]) -> str:
    n = d["n"]
    return (
        f"| {name:<11} | {d['found']:>2}/{n} | {d['exact']:>2}/{n} | {d['check_digits_agree']:>2}/{n} "
        f"| {d['exact_and_agree']:>2}/{n} | {d['no_mrz_correct']}/{d['n_no_mrz']} | {d['ms_per_image']:>8.1f} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    ap.add_argument(
        "--peer-python",
        default=os.environ.get("OPENIDV_PASSPORTEYE_PYTHON", "/tmp/pe-venv/bin/python"),
        help="Python interpreter with passporteye installed (env OPENIDV_PASSPORTEYE_PYTHON)",
    )
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--details", action="store_true", help="also print each engine's failures")
    args = ap.parse_args(argv)
    lists = [args.data / x for x in LISTS]
    missing = [p for p in lists if not p.is_file()]
    if missing:
        print(f"data not found: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    if not Path(args.peer_python).is_file():
        print(f"PassportEye interpreter {args.peer_python} not found; see this script's docstring", file=sys.stderr)
        return 2
    ours = merge([evaluate_mrz(p) for p in lists])
    peer = run_passporteye(args.peer_python, lists)
    a, b = ours.to_dict(), peer.to_dict()
    if args.json:
        print(json.dumps({"openidv": a, "passporteye": b}, indent=2))
        return 0
    print("| engine      | found | exact | check digits agree | exact+agree | no MRZ ok | ms/image |")
    print("|-------------|-------|-------|--------------------|-------------|-----------|----------|")
    print(_row("openidv", a))
    print(_row("PassportEye", b))

    def ratio(x: float, y: float) -> str:
        return f"{x / y:.2f}x" if y else "n/a"

    print(
        f"\nratios openidv / PassportEye: exact {ratio(a['exact'], b['exact'])}, "
        f"check digits agree {ratio(a['check_digits_agree'], b['check_digits_agree'])}, "
        f"exact+agree {ratio(a['exact_and_agree'], b['exact_and_agree'])}, "
        f"speed {ratio(b['ms_per_image'], a['ms_per_image'])} faster "
        f"(openidv CPU {a['cpu_ms_per_image']} ms/image)"
    )
    if args.details:
        print("\n== openidv ==\n" + format_report(ours))
        print("\n== PassportEye ==\n" + format_report(peer))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
