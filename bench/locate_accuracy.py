"""Corner accuracy and CPU time of :func:`openidv.document.geometry.locate_document` on generated photos.

Issue 3 asks for a faster locator without losing accuracy; this is the before/after
measurement. Three sets, all generated (no third-party data), fixed seeds:

* ``photos``: ``--n`` (default 50) ID-1 card fronts (astronaut / cameraman portraits)
  through :func:`openidv.synth.document.photograph_with_corners` with in-plane tilt up
  to 30 degrees and perspective skew, card 35-80 % of the 1280 px frame width, blur
  0.5-1.5 px, noise 2-6 grey levels, JPEG 60-95, kept inside the frame;
* ``passports``: ``--n-passport`` (default 20) TD3 data pages through the same camera;
* ``hard``: the harder scenes of ``tests/test_geometry.py`` (pale, wooden and check-cloth
  tables, rounded corners, glare, a finger over an edge, steep tilt, small and large
  cards), two seeds each.

Per set: how many were found (``reason == "ok"``), the corner error in input pixels
(largest of the four corner distances per photo; the corner order is matched to the
truth up to a cyclic shift, so a swapped "top" side does not count as an error)
as mean / median / 90th percentile / max, and the median thread CPU milliseconds per
call (``time.thread_time``, barely affected by other processes). Corner convention:
pixel centres at integers, i.e. the camera's corner positions minus half a pixel.

Usage: python bench/locate_accuracy.py [--n 50] [--n-passport 20] [--seed 3] [--json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

cv2.setNumThreads(1)

_TD3_MRZ = [
    "P<USAHOLDER<<ALEX<JORDAN<<<<<<<<<<<<<<<<<<<<",
    "5123456784USA8501159F3004136<<<<<<<<<<<<<<06",
]


def _error(found: np.ndarray, truth: np.ndarray) -> float:
    """Largest corner distance (px), minimised over the 4 cyclic orders of ``found``."""
    return min(float(np.linalg.norm(np.roll(found, k, axis=0) - truth, axis=1).max()) for k in range(4))


def _portraits() -> list[np.ndarray]:
    from skimage import data

    from openidv.synth import document as synth

    # Fixed crops around the faces (no face detector needed): astronaut and cameraman.
    astronaut = data.astronaut()
    cameraman = np.dstack([data.camera()] * 3)
    return [
        synth.portrait_crop(astronaut, (178.0, 59.0, 95.0, 120.0)),
        synth.portrait_crop(cameraman, (194.0, 112.0, 64.0, 89.0)),
    ]


def _generated(n: int, seed: int, kind: str) -> list[tuple[np.ndarray, np.ndarray]]:
    from openidv.synth import document as synth

    portraits = _portraits()
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        portrait = portraits[i % len(portraits)]
        if kind == "id1":
            doc = synth.render_id_front(portrait, rng)
            fraction = float(rng.uniform(0.35, 0.8))
        else:
            doc = synth.render_passport_page(portrait, _TD3_MRZ, rng)
            fraction = float(rng.uniform(0.45, 0.8))
        photo, corners = synth.photograph_with_corners(
            doc,
            rng,
            card_fraction=fraction,
            max_tilt_deg=30.0,
            blur_sigma=float(rng.uniform(0.5, 1.5)),
            noise_sigma=float(rng.uniform(2.0, 6.0)),
            jpeg_quality=int(rng.integers(60, 96)),
            fit_inside=True,
        )
        out.append((photo, np.asarray(corners, np.float64) - 0.5))
    return out


def _hard() -> list[tuple[np.ndarray, np.ndarray]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests import test_geometry as tg

    from openidv.synth import document as synth

    portrait = _portraits()[0]
    cards = [synth.render_id_front(portrait, np.random.default_rng(500 + i)) for i in range(2)]
    out = []
    variants = cast(list[dict[str, Any]], tg.HARD)
    for variant in variants:
        for i in range(2):
            photo, truth = tg._scene(cards[i], np.random.default_rng(900 + i), **variant)
            out.append((photo, np.asarray(truth, np.float64)))
    return out


def _measure(samples: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    from openidv.document.geometry import locate_document

    errors: list[float] = []
    cpu: list[float] = []
    found = 0
    for photo, truth in samples:
        c0 = time.thread_time()
        result = locate_document(photo)
        cpu.append((time.thread_time() - c0) * 1000.0)
        if result.quad is not None:
            found += 1
            errors.append(_error(result.quad.corners, truth))
    err = np.array(errors) if errors else np.array([np.nan])
    return {
        "n": len(samples),
        "found": found,
        "corner_error_px": {
            "mean": round(float(np.mean(err)), 3),
            "median": round(float(np.median(err)), 3),
            "p90": round(float(np.percentile(err, 90)), 3),
            "max": round(float(np.max(err)), 3),
        },
        "cpu_ms_median": round(float(np.median(cpu)), 1),
        "cpu_ms_p90": round(float(np.percentile(cpu, 90)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=50, help="generated ID-1 card photos")
    parser.add_argument("--n-passport", type=int, default=20, help="generated passport-page photos")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--no-hard", action="store_true", help="skip the hard scenes of tests/test_geometry.py")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    sets = {"photos": _generated(args.n, args.seed, "id1"), "passports": _generated(args.n_passport, args.seed, "td3")}
    if not args.no_hard:
        sets["hard"] = _hard()
    from openidv.document.geometry import locate_document

    locate_document(sets["photos"][0][0])  # warm-up outside the timing
    results = {name: _measure(samples) for name, samples in sets.items()}
    if args.json:
        print(json.dumps({"seed": args.seed, "results": results}, indent=2))
        return
    print(f"locate_document on generated photos, seed {args.seed}")
    print(f"  {'set':<10}{'found':>9}{'mean':>8}{'median':>8}{'p90':>8}{'max':>8}   cpu ms median / p90")
    for name, r in results.items():
        e = r["corner_error_px"]
        print(
            f"  {name:<10}{r['found']:>4}/{r['n']:<4}{e['mean']:>8.2f}{e['median']:>8.2f}{e['p90']:>8.2f}"
            f"{e['max']:>8.2f}   {r['cpu_ms_median']:.0f} / {r['cpu_ms_p90']:.0f}"
        )


if __name__ == "__main__":
    main()
