"""A self-contained demonstration of the face engine (what ``make run`` shows for now).

It needs no data: the portrait is scikit-image's astronaut photograph (public domain,
NASA), printed onto a generated ID card which is then "photographed" with the camera
simulation; the "selfie" is the same photograph re-framed, rotated and re-lit. Two
matches are run: selfie vs card (expected: same person) and selfie vs a card whose
portrait area is empty (expected: undecided, ``no_face`` on the document).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np


def demo_images(seed: int = 7) -> dict[str, np.ndarray]:
    """Generate the demo's selfie, card photo and portrait-less card photo."""
    from skimage import data

    from openidv.face.detection import detect
    from openidv.synth import document as synth

    rng = np.random.default_rng(seed)
    astronaut = data.astronaut()
    face = detect(astronaut)[0]
    portrait = synth.portrait_crop(astronaut, (face.box.x, face.box.y, face.box.width, face.box.height))
    card = synth.render_id_front(portrait, rng)
    blank = synth.render_id_front(np.full_like(portrait, 235), rng, ghost=False)
    h, w = astronaut.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 3), 6.0, 1.25)
    selfie = cv2.warpAffine(astronaut, rot, (w, h), borderMode=cv2.BORDER_REFLECT)
    selfie = np.clip(selfie.astype(np.float32) * 0.85 + 12, 0, 255).astype(np.uint8)
    return {
        "selfie": selfie,
        "card_photo": synth.photograph(card, rng, card_fraction=0.7, max_tilt_deg=15),
        "card_without_portrait": synth.photograph(blank, rng, card_fraction=0.7, max_tilt_deg=15),
    }


def run_demo(out: Path | None = None) -> tuple[dict[str, Any], str]:
    from openidv.face.matching import match
    from openidv.imaging import encode_jpeg

    images = demo_images()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, img in images.items():
            (out / f"{name}.jpg").write_bytes(encode_jpeg(img, 92))
    genuine = match(images["selfie"], images["card_photo"])
    missing = match(images["selfie"], images["card_without_portrait"])
    payload = {"selfie_vs_card": genuine.to_dict(), "selfie_vs_card_without_portrait": missing.to_dict()}
    text = "\n".join(
        [
            "openidv demo: the face engine on generated data (scikit-image astronaut portrait on a synthetic ID card)",
            f"  selfie vs card photo:          same_person={genuine.same_person}  score={_f(genuine.score)}"
            f"  distance={_f(genuine.distance)}  threshold={genuine.threshold:.3f}  reasons={genuine.reason_codes}"
            f"  {genuine.timings_ms['total']:.0f} ms",
            f"  selfie vs card w/o portrait:   same_person={missing.same_person}  reasons={missing.reason_codes}",
            *([f"  images written to {out}"] if out is not None else []),
            "  Try your own: openidv match SELFIE.jpg DOCUMENT.jpg   |   openidv eval faces PAIRS.tsv --root DIR",
        ]
    )
    return payload, text


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"
