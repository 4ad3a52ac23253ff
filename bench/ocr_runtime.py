"""OCR networks on OpenVINO against onnxruntime, on the inputs the document engine gives them.

Why the engine runs the PP-OCR detector and its Latin recogniser on OpenVINO: on a CPU
with AVX-512 BF16 or AMX, OpenVINO computes in bfloat16, which onnxruntime's CPU
provider cannot. This script measures, in one run, the same inputs through

* **onnxruntime** (float32; the peer, and what the engine used before);
* **OpenVINO f32** (``precision="f32"``: float32 on every CPU);
* **OpenVINO auto** (what the engine uses: bfloat16 where the CPU has it).

Inputs: ``--n`` generated genuine passport pages and ``--n`` licence fronts (real
portraits, camera-simulated). The engine reads each once; its rectified page gives the
detector input (downscaled to the engine's detector size, rapidocr's normalisation) and
every line it recognised (printed zone and MRZ) a recogniser strip, one strip per call.

Prints milliseconds per document for each network and runtime, the ratio to
onnxruntime, and agreement with onnxruntime: recogniser lines decoded to the same text,
detector boxes (the same count, and the largest corner shift in detector pixels). The
recogniser is timed twice over the same strips: OpenVINO prepares each new input shape on
its first call (a strip's width varies with its text), so the first pass is what a freshly
started process sees and the second what a warm one does.

One core (``_pin``). Usage: python bench/ocr_runtime.py [--n 8] [--seed 5] [--json] [--no-pin]
"""

from __future__ import annotations

import _pin  # noqa: F401  (first: re-executes under taskset with one ONNX / OpenMP thread)

# isort: split

import argparse
import json
import time
from datetime import date
from typing import Any

import cv2
import numpy as np

TODAY = date(2026, 6, 1)
RUNTIMES = ("onnxruntime", "openvino_f32", "openvino_auto")


def _inputs(n: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Detector inputs (1, 3, H, W) and recogniser strips (1, 3, 48, W), float32, and the document count."""
    from openidv.document.engine import _det_side, analyse_side
    from openidv.document.ocr import REC_HEIGHT, line_strip
    from openidv.eval.forgery import default_portraits
    from openidv.models import get_model
    from openidv.synth.forgery import generate

    engine = get_model("rapidocr")
    det, rec = engine._load_det_model(), engine._load_rec_model()
    rng = np.random.default_rng(seed)
    portraits = default_portraits()
    det_in: list[np.ndarray] = []
    rec_in: list[np.ndarray] = []
    docs = [generate("genuine", rng, portraits, TODAY, kind=k) for k in ("passport", "us_dl") for _ in range(n)]
    for doc in docs:
        side = analyse_side(doc.front, "front")
        work = side.working
        if work is None:
            continue
        limit = _det_side(side)
        scale = min(1.0, limit / max(work.shape[:2]))
        small = cv2.resize(
            work, (round(work.shape[1] * scale), round(work.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
        det_in.append(det.get_preprocess()(np.ascontiguousarray(small[:, :, ::-1])))
        boxes = [line.box for line in side.ocr_lines]
        if side.mrz is not None and side.mrz.found:
            boxes += [np.asarray(s, dtype=np.float32) for s in _mrz_boxes(side)]
        for box in boxes:
            strip = np.ascontiguousarray(line_strip(work, box)[:, :, ::-1])
            rec_in.append(rec.resize_norm_img(strip, max(3.0, strip.shape[1] / REC_HEIGHT))[None].astype(np.float32))
    return det_in, rec_in, len(docs)


def _mrz_boxes(side: Any) -> list[np.ndarray]:
    """The MRZ band split into its lines (equal heights), corners clockwise from top-left."""
    quad = side.mrz.quad
    k = len(side.mrz.lines)
    out = []
    for i in range(k):
        a, b = i / k, (i + 1) / k
        top = quad[0] + (quad[3] - quad[0]) * a, quad[1] + (quad[2] - quad[1]) * a
        bot = quad[0] + (quad[3] - quad[0]) * b, quad[1] + (quad[2] - quad[1]) * b
        out.append(np.array([top[0], top[1], bot[1], bot[0]], dtype=np.float32))
    return out


def _runners() -> dict[str, dict[str, Any]]:
    from openidv.models import _RAPIDOCR_FILES, _locate_rapidocr, latin_recogniser_graph
    from openidv.runtimes import compile_openvino, onnxruntime_model

    det_path = f"{_locate_rapidocr()}/{_RAPIDOCR_FILES[0]}"
    graph, _ = latin_recogniser_graph()
    return {  # one thread each (_pin sets OPENIDV_ONNX_THREADS=1)
        "onnxruntime": {"det": onnxruntime_model(det_path), "rec": onnxruntime_model(graph)},
        "openvino_f32": {
            "det": compile_openvino(det_path, precision="f32"),
            "rec": compile_openvino(graph, precision="f32"),
        },
        "openvino_auto": {
            "det": compile_openvino(det_path, precision="auto"),
            "rec": compile_openvino(graph, precision="auto"),
        },
    }


def _time(fn: Any, inputs: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    fn(inputs[0])  # first call of a shape allocates
    t0 = time.perf_counter()
    outs = [fn(x) for x in inputs]
    return (time.perf_counter() - t0) * 1000.0, outs


def _boxes(pred: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from openidv.models import get_model

    det = get_model("rapidocr")._load_det_model()
    boxes, _ = det.postprocess_op(pred, shape)
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=8, help="documents of each kind (passport pages, licence fronts)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()

    from openidv.document.ocr import _ctc_decode
    from openidv.models import get_model

    charset = get_model("ppocr_rec_latin").charset
    det_in, rec_in, docs = _inputs(args.n, args.seed)
    runners = _runners()
    ms: dict[str, dict[str, float]] = {}
    texts: dict[str, list[str]] = {}
    boxes: dict[str, list[np.ndarray]] = {}
    for name, nets in runners.items():
        det_ms, det_out = _time(nets["det"], det_in)
        rec_ms, rec_out = _time(nets["rec"], rec_in)
        warm_ms, _ = _time(nets["rec"], rec_in)
        ms[name] = {"detector": det_ms / docs, "recogniser": rec_ms / docs, "recogniser_warm": warm_ms / docs}
        texts[name] = [_ctc_decode(o[0], charset)[0] for o in rec_out]
        boxes[name] = [_boxes(o, x.shape[2:]) for o, x in zip(det_out, det_in, strict=True)]
    agree: dict[str, dict[str, Any]] = {}
    for name in RUNTIMES[1:]:
        same_text = sum(a == b for a, b in zip(texts[name], texts["onnxruntime"], strict=True))
        same_count = sum(len(a) == len(b) for a, b in zip(boxes[name], boxes["onnxruntime"], strict=True))
        shifts = [
            float(np.abs(np.sort(a.reshape(len(a), -1), axis=0) - np.sort(b.reshape(len(b), -1), axis=0)).max())
            for a, b in zip(boxes[name], boxes["onnxruntime"], strict=True)
            if len(a) == len(b) and len(a)
        ]
        differ = [(b, a) for a, b in zip(texts[name], texts["onnxruntime"], strict=True) if a != b]
        agree[name] = {
            "lines_differing": differ,
            "lines_same_text": same_text,
            "lines": len(texts[name]),
            "pages_same_box_count": same_count,
            "pages": len(boxes[name]),
            "max_corner_shift_px": round(max(shifts, default=0.0), 1),
        }
    precision = runners["openvino_auto"]["rec"].precision
    payload = {"documents": docs, "precision_auto": precision, "ms_per_document": ms, "agreement": agree}
    if args.json:
        print(json.dumps(payload, indent=2))
        return
    print(f"OCR networks per document ({docs} generated: {args.n} passport pages, {args.n} licence fronts), one core")
    print(f"OpenVINO 'auto' computes in {precision} on this CPU")
    print(
        f"  {'runtime':<15}{'detector ms':>13}{'ratio':>7}{'recogniser ms':>15}{'ratio':>7}{'again ms':>10}{'ratio':>7}"
    )
    base = ms["onnxruntime"]
    for name in RUNTIMES:
        d, r, w = ms[name]["detector"], ms[name]["recogniser"], ms[name]["recogniser_warm"]
        print(
            f"  {name:<15}{d:>13.1f}{d / base['detector']:>7.2f}{r:>15.1f}{r / base['recogniser']:>7.2f}"
            f"{w:>10.1f}{w / base['recogniser_warm']:>7.2f}"
        )
    print("agreement with onnxruntime")
    for name, a in agree.items():
        print(
            f"  {name}: {a['lines_same_text']}/{a['lines']} lines read the same; "
            f"{a['pages_same_box_count']}/{a['pages']} pages with the same boxes, "
            f"corners within {a['max_corner_shift_px']} px"
        )
        for ref, got in a["lines_differing"]:
            print(f"    {ref!r} (onnxruntime) read {got!r}")


if __name__ == "__main__":
    main()
