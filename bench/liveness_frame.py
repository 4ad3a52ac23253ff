"""Liveness per-frame analysis time (target: median <= 30 ms per 640 x 480 frame on one core).

Times :meth:`openidv.liveness.frame.FrameAnalyzer.analyse` (face mesh, head pose, eyes,
mouth, quality, guidance; decode not included) on 640 x 480 frames of generated live
sequences (real photos re-posed, :mod:`openidv.synth.liveness`) and of the real Hamilton
clip (../shared/data/video, resized to 640 x 480) when present, and the sequence checks
(:func:`openidv.liveness.pad.sequence_checks`) per session. Prints median and p90 and the
ratio to the 30 ms target. The screen-light step adds the face / surround colour means
(:func:`openidv.liveness.frame.light_regions`) to each of its frames: timed separately and
as "analyse + light" (the per-frame cost during that step).

One core: the script re-executes itself under ``taskset -c 0`` when available (unless
``--no-pin``) and sets ``OPENIDV_ONNX_THREADS=1``, ``OMP_NUM_THREADS=1`` before importing
anything heavy. Timings on a shared or loaded machine are inflated.

Usage: python bench/liveness_frame.py [--sessions 3] [--fps 10] [--hamilton-frames 120] [--json] [--no-pin]
"""

from __future__ import annotations

import os
import sys

import _pin  # noqa: F401  (first: re-executes under taskset with one ONNX / OpenMP thread)

# isort: split

import argparse
import json
import time
from itertools import islice
from typing import Any

import cv2
import numpy as np

TARGET_MS = 30.0


def _time_analyse(
    frames: list[tuple[np.ndarray, float]], light: tuple[list[float], list[float]] | None = None
) -> tuple[list[float], list[Any]]:
    """Per-frame analysis ms and the analyses; with ``light`` = (alone, with analysis) lists, the
    screen-light measurement of each frame with a face is timed into them too."""
    from openidv.liveness.frame import FrameAnalyzer, light_regions

    times: list[float] = []
    analyses: list[Any] = []
    with FrameAnalyzer() as analyzer:
        analyzer.analyse(frames[0][0], frames[0][1] - 1.0)  # build the graph outside the timing
        for rgb, ts in frames:
            t0 = time.perf_counter()
            a = analyzer.analyse(rgb, ts)
            t1 = time.perf_counter()
            analyses.append(a)
            times.append((t1 - t0) * 1000.0)
            if light is not None and a.landmarks is not None:
                light_regions(rgb, a.landmarks)
                t2 = time.perf_counter()
                light[0].append((t2 - t1) * 1000.0)
                light[1].append((t2 - t0) * 1000.0)
    return times, analyses


def _hamilton(limit: int) -> list[tuple[np.ndarray, float]]:
    from openidv.eval.liveness import HAMILTON

    if not HAMILTON.is_file():
        return []
    from openidv.liveness.offline import iter_frames

    out = [
        (cv2.resize(rgb, (640, 480), interpolation=cv2.INTER_AREA), ts)
        for rgb, ts in islice(iter_frames(HAMILTON), limit)
    ]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=3, help="generated live sessions")
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--hamilton-frames", type=int, default=120)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-pin", action="store_true", help="do not re-run under taskset -c 0")
    args = ap.parse_args()

    from openidv.eval.liveness import face_photos
    from openidv.liveness import pad
    from openidv.liveness.session import start_session
    from openidv.synth import liveness as synth

    rows: dict[str, dict[str, float]] = {}
    photos = face_photos(limit=args.sessions + 2)
    gen_ms: list[float] = []
    light_ms: list[float] = []  #: light_regions per frame with a face, ms
    with_light_ms: list[float] = []  #: analyse + light_regions, ms
    pad_ms: list[float] = []
    pad_frames: list[int] = []
    for i in range(args.sessions):
        rng = np.random.default_rng([args.seed, i])
        session = start_session(now=0.0, rng=rng)
        steps = list(session.steps)
        try:
            subject = synth.prepare_subject(photos[i % len(photos)], rng)
        except synth.NoFaceInPhotoError:
            continue
        seq = synth.live_sequence(subject, [s.challenge for s in steps], rng, args.fps)
        times, analyses = _time_analyse(seq, (light_ms, with_light_ms))
        gen_ms += times
        t0 = time.perf_counter()
        pad.sequence_checks([f for f, _ in seq], analyses, steps, nonce=session.nonce)
        pad_ms.append((time.perf_counter() - t0) * 1000.0)
        pad_frames.append(len(seq))
    if gen_ms:
        rows["generated live 640x480"] = {"frames": len(gen_ms), "median_ms": float(np.median(gen_ms)),
                                          "p90_ms": float(np.percentile(gen_ms, 90))}  # fmt: skip
    if with_light_ms:
        rows["generated, analyse + light"] = {"frames": len(with_light_ms), "median_ms": float(np.median(with_light_ms)),
                                              "p90_ms": float(np.percentile(with_light_ms, 90))}  # fmt: skip
        rows["light_regions alone"] = {"frames": len(light_ms), "median_ms": float(np.median(light_ms)),
                                       "p90_ms": float(np.percentile(light_ms, 90))}  # fmt: skip
    ham = _hamilton(args.hamilton_frames)
    if ham:
        times, _ = _time_analyse(ham)
        rows["Hamilton clip -> 640x480"] = {"frames": len(times), "median_ms": float(np.median(times)),
                                            "p90_ms": float(np.percentile(times, 90))}  # fmt: skip
    result = {
        "pinned": os.environ.get("_OPENIDV_PINNED") == "1",
        "target_ms": TARGET_MS,
        "frame_analysis": rows,
        "sequence_checks": {
            "sessions": len(pad_ms),
            "median_ms_per_session": float(np.median(pad_ms)) if pad_ms else float("nan"),
            "median_frames": float(np.median(pad_frames)) if pad_frames else float("nan"),
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"FrameAnalyzer.analyse, one core: {'taskset -c 0' if result['pinned'] else 'not pinned'}")
    print(f"{'input':<28}{'frames':>8}{'median ms':>11}{'p90 ms':>9}{'target':>8}{'median/target':>15}")
    for name, r in rows.items():
        ratio = r["median_ms"] / TARGET_MS
        print(f"{name:<28}{r['frames']:>8.0f}{r['median_ms']:>11.1f}{r['p90_ms']:>9.1f}{TARGET_MS:>8.0f}{ratio:>15.2f}")
    sc = result["sequence_checks"]
    assert isinstance(sc, dict)
    print(
        f"sequence checks (pad.sequence_checks): {sc['median_ms_per_session']:.0f} ms per session "
        f"(median of {sc['sessions']}, {sc['median_frames']:.0f} frames each)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
