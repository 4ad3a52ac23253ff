"""The screen check alone on the forgery evaluation's licence fronts: which screens it misses, and why.

For one seed of ``openidv eval forgery`` this makes the same screen-recapture and genuine
licence fronts (``--n`` of each kind; genuine: the licence indices of the first ``--n``
genuine documents), finds each outline with the engine's locator and runs
:func:`openidv.document.integrity.screen_recapture` on it: much quicker than the whole
engine (no OCR, no back). Per kind: how many fail, the largest shared-lattice value over
its limit (:func:`openidv.document.integrity.screen_moire.shared_lattice_limit`) and, for the missed screens, their shared
value, tiles around the document and peaks.

Usage: python bench/screen_shared.py --seed 211 [--n 200] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import Any

import numpy as np

TODAY = date(2026, 6, 1)
_PORTRAITS: list[np.ndarray] = []


def _init() -> None:
    from openidv.eval.forgery import default_portraits

    _PORTRAITS.extend(default_portraits())


def _front(job: tuple[str, int]) -> dict[str, Any]:
    """One licence front as :func:`openidv.synth.forgery.generate` makes it (the back is not made)."""
    from openidv.document import geometry, integrity
    from openidv.imaging import load_rgb
    from openidv.synth import tamper
    from openidv.synth.forgery import card_fields, random_person

    label, seed = job
    rng = np.random.default_rng(seed)
    portrait = _PORTRAITS[int(rng.integers(len(_PORTRAITS)))]
    sample = tamper.genuine_sample(portrait, rng, card_fields(random_person(rng, TODAY)))
    front = tamper.screen_recapture(sample.photo, rng) if label == "screen_recapture" else sample.data
    rgb = load_rgb(front)
    quad = geometry.locate_document(rgb).quad
    result = integrity.screen_recapture(rgb, outline=None if quad is None else np.asarray(quad.corners, np.float64))
    keys = ("peaks", "shared_lattice", "shared_limit", "outside_tiles", "tiles", "cue")
    return {"label": label, "seed": seed, "status": result.status.value, **{k: result.data.get(k) for k in keys}}


def main() -> None:
    from openidv.synth.forgery import FORGERY_TYPES

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    t = FORGERY_TYPES.index("screen_recapture")
    jobs = [("screen_recapture", args.seed * 100_003 + (t + 1) * 10_000 + i) for i in range(args.n)]
    jobs += [("genuine", args.seed * 100_003 + i) for i in range(args.n) if i % 10 < 7]  # the eval's licences
    with ProcessPoolExecutor(args.workers, initializer=_init) as pool:
        rows = list(pool.map(_front, jobs, chunksize=4))
    summary: dict[str, Any] = {"seed": args.seed}
    for label in ("screen_recapture", "genuine"):
        mine = [r for r in rows if r["label"] == label]
        ratios = [r["shared_lattice"] / r["shared_limit"] for r in mine if r["shared_limit"]]
        summary[label] = {
            "n": len(mine),
            "fail": sum(r["status"] == "fail" for r in mine),
            "by_cue": {c: sum(str(r["cue"]) == c for r in mine) for c in sorted({str(r["cue"]) for r in mine})},
            "max_shared_over_limit": round(max(ratios, default=0.0), 2),
        }
    summary["missed_screens"] = [r for r in rows if r["label"] == "screen_recapture" and r["status"] != "fail"]
    print(json.dumps(summary, indent=1) if args.json else _table(summary))


def _table(summary: dict[str, Any]) -> str:
    lines = [f"seed {summary['seed']}"]
    for label in ("screen_recapture", "genuine"):
        s = summary[label]
        lines.append(f"{label}: {s['fail']}/{s['n']} fail {s['by_cue']}; max shared/limit {s['max_shared_over_limit']}")
    for r in summary["missed_screens"]:
        lines.append(
            f"  missed {r['seed']}: shared {r['shared_lattice']} (limit {r['shared_limit']}), "
            f"{r['outside_tiles']} tiles around, peaks {r['peaks']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
