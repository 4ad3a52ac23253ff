"""The face descriptor on each backend: dlib itself, its ONNX graph on onnxruntime (float32)
and on OpenVINO (float32, and bfloat16 where the CPU has it), on the same aligned chips.

Every image of a pair list is analysed once (detection, alignment, enhancement as the
engine does); its 150x150 chip and mirror are then described by each backend. Reported per
backend: EER and FNMR at FMR 1e-3 over the pairs, decisions at the default operating point
that differ from dlib's, the largest pair-distance difference and the smallest cosine to
dlib's descriptor, and ms per face (chip and mirror as one batch of 2; median and best of
``--reps`` runs per face), threads as set by
OPENIDV_ONNX_THREADS (run with OPENIDV_ONNX_THREADS=1 and ``taskset -c 0`` for one core).

Usage: python bench/face_descriptor.py [--data ../shared/data] [--set deepface] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from openidv.eval import metrics
from openidv.eval.faces import read_pairs
from openidv.face.descriptor import onnx_runner
from openidv.face.dlib_net import parse_resnet, resnet_onnx
from openidv.face.matching import MatchConfig, QualityGates, analyse_side
from openidv.face.operating_points import DEFAULT_OPERATING_POINT, threshold_for
from openidv.imaging import load_rgb
from openidv.models import _frm_file
from openidv.runtimes import compile_openvino, cpu_computes_bf16, onnxruntime_model


def backends() -> dict[str, object]:
    import dlib

    path = _frm_file("dlib_face_recognition_resnet_model_v1.dat")()
    net = parse_resnet(Path(path).read_bytes())
    graph = resnet_onnx(net)
    dlib_net = dlib.face_recognition_model_v1(path)
    out: dict[str, object] = {
        "dlib": lambda c: np.array([dlib_net.compute_face_descriptor(np.ascontiguousarray(x)) for x in c]),
        "onnxruntime_f32": onnx_runner(onnxruntime_model(graph), net.input),
        "openvino_f32": onnx_runner(compile_openvino(graph, precision="f32"), net.input),
    }
    if cpu_computes_bf16():
        out["openvino_bf16"] = onnx_runner(compile_openvino(graph), net.input)
    return out


def main() -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=here.parent.parent / "shared" / "data")
    parser.add_argument("--set", default="deepface")
    parser.add_argument("--reps", type=int, default=3, help="timed runs per face (dlib: 1)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tsv = args.data / args.set / "pairs.tsv"
    if not tsv.is_file():
        print(f"missing {tsv}", file=sys.stderr)
        return 1
    pairs = read_pairs(tsv)
    cfg, gates = MatchConfig(), QualityGates(min_iod_px=0.0)
    chips = {}
    for name in dict.fromkeys(f for p in pairs for f in (p.file_a, p.file_b)):
        side = analyse_side(
            load_rgb((tsv.parent / name).read_bytes()), "image", cfg.document_detector, gates, cfg.enhance
        )
        if side.embedding is not None:
            chips[name] = side.embedding.chip
    kept = [p for p in pairs if p.file_a in chips and p.file_b in chips]
    same = np.array([p.same for p in kept])
    t = threshold_for(DEFAULT_OPERATING_POINT).distance
    rows, reference, reps = [], {}, args.reps
    for backend, run in backends().items():
        vectors, ms = {}, []
        for name, chip in chips.items():
            batch = np.stack([chip, chip[:, ::-1]])
            run(batch)  # warm
            for _ in range(reps if backend != "dlib" else 1):
                t0 = time.perf_counter()
                out = np.asarray(run(batch), np.float64)
                ms.append((time.perf_counter() - t0) * 1000)
            vectors[name] = out.mean(axis=0)
        d = np.array([np.linalg.norm(vectors[p.file_a] - vectors[p.file_b]) for p in kept])
        reference = reference or {"d": d, "v": vectors}
        cos = [
            float(v @ reference["v"][k] / np.linalg.norm(v) / np.linalg.norm(reference["v"][k]))
            for k, v in vectors.items()
        ]
        rows.append(
            {
                "backend": backend,
                "pairs": len(kept),
                "eer": metrics.eer(d, same)[0],
                "fnmr_at_fmr_1e-3": metrics.operating_point(d, same, 1e-3).fnmr,
                "decisions_changed": int(np.sum((d <= t) != (reference["d"] <= t))),
                "max_distance_diff": float(np.abs(d - reference["d"]).max()),
                "min_cosine_to_dlib": min(cos),
                "ms_per_face": float(np.median(ms)),
                "ms_per_face_min": float(np.min(ms)),
            }
        )
    if args.json:
        print(json.dumps({"set": args.set, "threshold": t, "rows": rows}))
        return 0
    print(f"face descriptor backends on {args.set} ({len(kept)} pairs, {len(chips)} faces; threshold {t})")
    print(
        f"{'backend':<17}{'EER':>8}{'FNMR@1e-3':>11}{'changed':>9}{'max |dd|':>10}{'min cos':>10}{'ms/face':>9}{'best':>7}"
    )
    for r in rows:
        print(
            f"{r['backend']:<17}{100 * r['eer']:>7.2f}%{100 * r['fnmr_at_fmr_1e-3']:>10.2f}%{r['decisions_changed']:>9}"
            f"{r['max_distance_diff']:>10.5f}{r['min_cosine_to_dlib']:>10.6f}{r['ms_per_face']:>9.1f}{r['ms_per_face_min']:>7.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
