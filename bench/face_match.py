"""Face matching: openidv vs the face_recognition library, same pairs, same run.

Peer: face_recognition 1.3.0's default pipeline (HOG detector with upsample 1,
68-point alignment, dlib ResNet descriptor, tolerance 0.6), largest face per image.
openidv: RetinaFace + dlib 5-point + the same ResNet (run through ONNX), small faces enhanced.

Sets: every ``NAME/pairs.tsv`` under ``--data`` named in ``--sets``, and two generated
from the deepface pairs (real faces, generated capture):

- ``id_cards``: side A, the selfie, is the photo scaled to 640 px on its longer side (a
  capture frame); side B is printed as the portrait of a generated ID-1 card front at
  300 dpi (1012 x 638 px, security overprint and ghost portrait): the product's own pair.
- ``id_cards_small``: the same at half the size: a 480-px selfie frame, the card at 150 dpi
  (506 x 319 px, portrait eyes ~15 px apart: the small-portrait enhancement runs).
- ``phone_photos``: both photos enlarged (Lanczos) to 12-20 Mpx, as phones save them.

Accuracy (EER, FNMR at FMR 1e-2 / 1e-3, false accepts / rejects at each engine's default
threshold) is computed over every pair with each image analysed once. Speed is a pair
loop, one process, warm (one image through each engine first): for each of the first
``--timed-pairs`` pairs, both decoded images are analysed from scratch and compared to a
decision; ms per pair is the mean over those pairs, engines alternating pair by pair.
``ratio`` = peer ms / openidv ms in this run. Both engines compute on one thread (the peer's
dlib does; OPENIDV_ONNX_THREADS defaults to 1 here: on the shared 2-core machine two
inference threads per model were 3x slower under load).

Usage: python bench/face_match.py [--data ../shared/data]
       [--sets deepface,face_recognition,openface,id_cards,phone_photos] [--timed-pairs 20] [--json]
Needs ``pip install --no-deps face-recognition==1.3.0`` (``make bench`` does it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENIDV_ONNX_THREADS", "1")  # one core per engine (see above); before openidv reads it

import cv2
import numpy as np

from openidv.errors import OpenIDVError
from openidv.eval.faces import Pair, Template, evaluate_pairs, read_pairs
from openidv.face.detection import detect
from openidv.face.matching import MatchConfig, QualityGates, analyse_side
from openidv.face.operating_points import DEFAULT_OPERATING_POINT, threshold_for
from openidv.imaging import decode_image
from openidv.synth import document as synth

GENERATED = ("id_cards", "id_cards_small", "phone_photos")
Analyse = Callable[[np.ndarray], np.ndarray | None]  # decoded RGB -> descriptor (None: no face)


def openidv_analyse() -> Analyse:
    cfg, gates = MatchConfig(), QualityGates(min_iod_px=0.0)

    def run(rgb: np.ndarray) -> np.ndarray | None:
        try:
            side = analyse_side(rgb, "image", cfg.document_detector, gates, cfg.enhance)
        except OpenIDVError:
            return None
        return None if side.embedding is None else side.embedding.vector

    return run


def face_recognition_analyse() -> Analyse:
    import face_recognition  # the peer; installed by `make bench`

    def run(rgb: np.ndarray) -> np.ndarray | None:
        boxes = face_recognition.face_locations(rgb)  # HOG, upsample 1
        if not boxes:
            return None
        largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
        return np.asarray(face_recognition.face_encodings(rgb, [largest])[0])  # 68-point alignment, 1 jitter

    return run


class ImageSource:
    """Decoded images of one set by file name; generated sets make theirs from the deepface photos."""

    def __init__(self, root: Path, kind: str) -> None:
        self.root, self.kind = root, kind

    def side(self, name: str, side: str) -> np.ndarray:
        photo = decode_image((self.root / name).read_bytes())
        seed = sum(name.encode())
        if self.kind == "id_cards":
            return _capture_frame(photo) if side == "a" else _id_card(photo, np.random.default_rng(seed))
        if self.kind == "id_cards_small":  # a 480-px selfie frame, the card at 150 dpi (506 x 319 px)
            return (
                _capture_frame(photo, 480)
                if side == "a"
                else _capture_frame(_id_card(photo, np.random.default_rng(seed)), 506)
            )
        if self.kind == "phone_photos":
            return _enlarge(photo, 12e6 + 8e6 * np.random.default_rng(seed).random())
        return photo


def _capture_frame(photo: np.ndarray, longest: int = 640) -> np.ndarray:
    scale = min(1.0, longest / max(photo.shape[:2]))
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA)


def _id_card(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    faces = detect(photo)
    if not faces:
        return _capture_frame(photo)
    b = faces[0].box
    return synth.render_id_front(synth.portrait_crop(photo, (b.x, b.y, b.width, b.height)), rng)


def _enlarge(photo: np.ndarray, pixels: float) -> np.ndarray:
    scale = (pixels / (photo.shape[0] * photo.shape[1])) ** 0.5
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    return cv2.resize(photo, size, interpolation=cv2.INTER_LANCZOS4)


def accuracy(pairs: list[Pair], source: ImageSource, analyse: Analyse, threshold: float | None) -> dict:
    """Metrics over every pair, each image analysed once (side A and side B images apart)."""
    cache: dict[tuple[str, str], Template] = {}

    def template(path: Path) -> Template:
        side, name = path.parts[0], str(Path(*path.parts[1:]))
        key = (name, side if source.kind.startswith("id_cards") else "")  # only id_cards make the two sides differently
        if key not in cache:
            vector = analyse(source.side(name, side))
            cache[key] = Template(vector, "ok" if vector is not None else "no_face", 0.0)
        return cache[key]

    sided = [Pair(f"a/{p.file_a}", f"b/{p.file_b}", p.same) for p in pairs]
    result = evaluate_pairs(sided, Path(), lambda path: template(path), threshold=threshold)
    out = result.to_dict()
    out.pop("ms_per_pair")
    return out


def timed_pair_loop(pairs: list[Pair], source: ImageSource, engines: dict[str, tuple[Analyse, float]]) -> dict:
    """Mean ms per pair of each engine: both decoded images analysed and compared to a decision."""
    ms: dict[str, list[float]] = {name: [] for name in engines}
    first = source.side(pairs[0].file_a, "a")
    for analyse, _ in engines.values():
        analyse(first)  # warm: models loaded, first inference done
    for p in pairs:
        a, b = source.side(p.file_a, "a"), source.side(p.file_b, "b")
        for name, (analyse, threshold) in engines.items():
            t0 = time.perf_counter()
            va, vb = analyse(a), analyse(b)
            _ = va is not None and vb is not None and float(np.linalg.norm(va - vb)) <= threshold
            ms[name].append((time.perf_counter() - t0) * 1000)
    return {name: float(np.mean(v)) for name, v in ms.items()}


def run_set(
    name: str, data: Path, timed_pairs: int, engines: dict[str, tuple[Analyse, float]], *, accuracy_too: bool
) -> list[dict]:
    kind = name if name in GENERATED else "files"
    tsv = data / ("deepface" if kind != "files" else name) / "pairs.tsv"
    if not tsv.is_file():
        return []
    pairs, source = read_pairs(tsv), ImageSource(tsv.parent, kind)
    speed = timed_pair_loop(pairs[:timed_pairs], source, engines)
    rows = []
    for engine, (analyse, threshold) in engines.items():
        peer_threshold = None if engine == "openidv" else threshold
        scores = accuracy(pairs, source, analyse, peer_threshold) if accuracy_too else {}
        rows.append({"set": name, "engine": engine, **scores})
        rows[-1]["ms_per_pair"] = round(speed[engine], 1)
        rows[-1]["timed_pairs"] = min(timed_pairs, len(pairs))
    ours, peer = rows
    rows.append(
        {
            "set": name,
            "engine": "ratio",
            "speedup": round(peer["ms_per_pair"] / ours["ms_per_pair"], 2),
            "eer_ours_minus_peer": round(ours["eer"] - peer["eer"], 5) if accuracy_too else None,
        }
    )
    return rows


def main() -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=here.parent.parent / "shared" / "data")
    parser.add_argument("--sets", default="deepface,face_recognition,openface,id_cards,phone_photos")
    parser.add_argument("--timed-pairs", type=int, default=20, help="pairs in the timed pair loop, per set")
    parser.add_argument("--speed-only", action="store_true", help="skip the accuracy pass over every pair")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}: nothing to measure", file=sys.stderr)
        return 1
    engines = {
        "openidv": (openidv_analyse(), threshold_for(DEFAULT_OPERATING_POINT).distance),
        "face_recognition": (face_recognition_analyse(), 0.6),
    }
    rows = []
    for name in args.sets.split(","):
        rows += run_set(name, args.data, args.timed_pairs, engines, accuracy_too=not args.speed_only)
    if args.json:
        print(json.dumps({"cpu_count": os.cpu_count(), "rows": rows}))
        return 0
    print_table(rows)
    return 0


def print_table(rows: list[dict]) -> None:
    print(f"face matching, openidv vs face_recognition 1.3.0 (CPU cores: {os.cpu_count()})")
    head = f"{'set':<18}{'engine':<18}{'pairs':>6}{'failed':>7}{'AUC':>9}{'EER':>8}{'FNMR@1e-2':>10}{'FNMR@1e-3':>10}{'FA':>4}{'FR':>4}{'ms/pair':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["engine"] == "ratio":
            diff = r["eer_ours_minus_peer"]
            note = f"   EER difference (ours - peer) {100 * diff:+.2f} points" if diff is not None else ""
            print(f"{r['set']:<18}{'peer/ours time':<18}{r['speedup']:>6.2f}x{note}")
            continue
        if "auc" not in r:
            print(
                f"{r['set']:<18}{r['engine']:<18}{'':>6}{'':>7}{'':>9}{'':>8}{'':>10}{'':>10}{'':>4}{'':>4}{r['ms_per_pair']:>9.1f}"
            )
            continue
        f = r["fnmr_at_fmr"]
        print(
            f"{r['set']:<18}{r['engine']:<18}{r['n_pairs']:>6}{r['n_failed']:>7}{r['auc']:>9.4f}{100 * r['eer']:>7.2f}%"
            f"{100 * f['0.01']['fnmr']:>9.2f}%{100 * f['0.001']['fnmr']:>9.2f}%{r['false_accepts']:>4}{r['false_rejects']:>4}"
            f"{r['ms_per_pair']:>9.1f}"
        )


if __name__ == "__main__":
    sys.exit(main())
