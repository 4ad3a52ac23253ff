"""Face matching: openidv vs the face_recognition library, same pairs, same run.

Peer: face_recognition 1.3.0's default pipeline (HOG detector with upsample 1,
68-point alignment, dlib ResNet descriptor, tolerance 0.6), largest face per image.
openidv: RetinaFace + dlib 5-point + the same ResNet, small faces enhanced.
Each image is analysed once per engine; ms per pair is the time to analyse both
images of a pair from scratch (decode included), averaged over pairs.

Usage: python bench/face_match.py [--data ../shared/data] [--sets deepface,face_recognition,openface] [--json]
Needs ``pip install --no-deps face-recognition==1.3.0`` (``make bench`` does it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from openidv.eval.faces import Template, evaluate_pairs, openidv_embedder, read_pairs


def face_recognition_embedder():  # type: ignore[no-untyped-def]
    import face_recognition  # the peer; installed by `make bench`

    def run(path: Path) -> Template:
        t0 = time.perf_counter()
        try:
            img = face_recognition.load_image_file(str(path))
        except OSError as exc:
            return Template(None, f"unreadable ({exc})", (time.perf_counter() - t0) * 1000)
        boxes = face_recognition.face_locations(img)  # HOG, upsample 1
        if not boxes:
            return Template(None, "no_face", (time.perf_counter() - t0) * 1000)
        largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
        vec = face_recognition.face_encodings(img, [largest])[0]  # 68-point alignment, 1 jitter
        return Template(np.asarray(vec), "ok", (time.perf_counter() - t0) * 1000)

    return run


def main() -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=here.parent.parent / "shared" / "data")
    parser.add_argument("--sets", default="deepface,face_recognition,openface")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}: nothing to measure", file=sys.stderr)
        return 1

    rows = []
    for name in args.sets.split(","):
        tsv = args.data / name / "pairs.tsv"
        if not tsv.is_file():
            continue
        pairs = read_pairs(tsv)
        ours = evaluate_pairs(pairs, tsv.parent, openidv_embedder())
        peer = evaluate_pairs(pairs, tsv.parent, face_recognition_embedder(), threshold=0.6)
        for engine, r in (("openidv", ours), ("face_recognition", peer)):
            rows.append(
                {
                    "set": name,
                    "engine": engine,
                    **r.to_dict(),
                }
            )
        rows.append(
            {
                "set": name,
                "engine": "ratio",
                "speedup": peer.ms_per_pair / ours.ms_per_pair,
                "eer_ours_minus_peer": ours.eer - peer.eer,
            }
        )

    if args.json:
        print(json.dumps({"cpu_count": os.cpu_count(), "rows": rows}))
        return 0
    print(f"face matching, openidv vs face_recognition 1.3.0 (CPU cores: {os.cpu_count()})")
    head = f"{'set':<18}{'engine':<18}{'pairs':>6}{'failed':>7}{'AUC':>9}{'EER':>8}{'FNMR@1e-2':>10}{'FNMR@1e-3':>10}{'FA':>4}{'FR':>4}{'ms/pair':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["engine"] == "ratio":
            print(
                f"{r['set']:<18}{'peer/ours time':<18}{r['speedup']:>6.2f}x   EER difference (ours - peer) "
                f"{100 * r['eer_ours_minus_peer']:+.2f} points"
            )
            continue
        f = r["fnmr_at_fmr"]
        print(
            f"{r['set']:<18}{r['engine']:<18}{r['n_pairs']:>6}{r['n_failed']:>7}{r['auc']:>9.4f}{100 * r['eer']:>7.2f}%"
            f"{100 * f['0.01']['fnmr']:>9.2f}%{100 * f['0.001']['fnmr']:>9.2f}%{r['false_accepts']:>4}{r['false_rejects']:>4}"
            f"{r['ms_per_pair']:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
