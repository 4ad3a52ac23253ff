"""Does enhancing small document portraits help? Measured on generated ID cards.

For every pair of the deepface pair list, side B's photo is printed as the portrait of
a generated ID card (security overprint, ghost image), photographed by the camera
simulation with the card filling ``fraction`` of the frame width (smaller fraction =
smaller portrait), and matched against side A's original photo. Reported per
fraction: median eye distance of the card portrait, EER and FNMR at FMR 1e-2, with
enhancement on and off. The figures rest on synthetic cards made from real faces.

Usage: python bench/portrait_enhancement.py [--data ../shared/data] [--fractions 0.2,0.25,0.4]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from openidv.eval import metrics
from openidv.eval.faces import read_pairs
from openidv.face.detection import detect
from openidv.face.matching import MatchConfig, QualityGates, analyse_side
from openidv.face.portrait import EnhanceConfig
from openidv.imaging import decode_image
from openidv.synth import document as synth

VARIANTS = {
    "default": EnhanceConfig(),  # enlarge + denoise + sharpen below 18 px between the eyes
    "always": EnhanceConfig(enhance_below_iod=60.0),  # the same, for every face under 60 px
    "up-only": EnhanceConfig(enhance_below_iod=60.0, denoise=False, sharpen=0.0),  # enlarge + re-detect only
    "off": EnhanceConfig(enhance_below_iod=0.0),
}


def main() -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=here.parent.parent / "shared" / "data")
    parser.add_argument("--fractions", default="0.2,0.25,0.4")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    tsv = args.data / "deepface" / "pairs.tsv"
    if not tsv.is_file():
        print(f"missing {tsv}", file=sys.stderr)
        return 1
    pairs = read_pairs(tsv)
    cfg = MatchConfig()
    gates = QualityGates(min_iod_px=0.0)
    photos = {f: decode_image((tsv.parent / f).read_bytes()) for f in {x for p in pairs for x in (p.file_a, p.file_b)}}

    def vector(rgb: np.ndarray, enhance: EnhanceConfig) -> tuple[np.ndarray | None, float]:
        side = analyse_side(rgb, "image", cfg.document_detector, gates, enhance)
        iod = side.face.quality.interocular_px if side.face else float("nan")
        return (None if side.embedding is None else side.embedding.vector), iod

    selfies = {f: vector(photos[f], cfg.enhance)[0] for f in {p.file_a for p in pairs}}
    print(
        f"{'card width':>10} {'portrait eyes px':>16} {'enhance':>8} {'failed':>7} {'EER':>7} {'FNMR@1e-2':>10} {'ms/card':>8}"
    )
    for fraction in (float(x) for x in args.fractions.split(",")):
        rng = np.random.default_rng(args.seed)
        cards = {}
        for f in sorted({p.file_b for p in pairs}):
            faces = detect(photos[f])
            if not faces:
                continue
            b = faces[0].box
            portrait = synth.portrait_crop(photos[f], (b.x, b.y, b.width, b.height))
            card = synth.render_id_front(portrait, rng)
            cards[f] = synth.photograph(card, rng, card_fraction=fraction, max_tilt_deg=15)
        for label, enhance in VARIANTS.items():
            t0 = time.perf_counter()
            docs = {f: vector(img, enhance) for f, img in cards.items()}
            ms = (time.perf_counter() - t0) * 1000 / max(len(cards), 1)
            d, s, failed = [], [], 0
            for p in pairs:
                a, (b_vec, _) = selfies.get(p.file_a), docs.get(p.file_b, (None, 0.0))
                if a is None or b_vec is None:
                    failed += 1
                    continue
                d.append(float(np.linalg.norm(a - b_vec)))
                s.append(p.same)
            dd, ss = np.array(d), np.array(s)
            iods = np.nanmedian([v[1] for v in docs.values()])
            e, _ = metrics.eer(dd, ss)
            op = metrics.operating_point(dd, ss, 1e-2)
            print(
                f"{fraction:>10.2f} {iods:>16.1f} {label:>8} {failed:>7} {100 * e:>6.2f}% {100 * op.fnmr:>9.2f}% {ms:>8.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
