"""Is this capture good enough to keep? The per-step verdict the capture page shows.

Given the :class:`~openidv.document.side.SideAnalysis` of one photo and the step it was
taken for, :func:`capture_verdict` says whether to accept it or ask for a retake, with a
reason code and a plain-language message per problem. It only reads what the analysis
already found plus two image measures on the rectified document:

* ``sharpness``: 99th percentile of ``|Laplacian|`` of the grey document resized to
  800 px wide (grey levels per pixel^2). Measured on generated camera photos: genuine
  36-65, with 12 px motion blur 17-34. Below :attr:`CaptureConfig.min_sharpness` the
  photo is too blurry to read reliably.
* ``glare``: the largest connected blob of clipped pixels (all channels >= 250) as a
  fraction of the document's area. A specular highlight washes out text and the
  portrait; white card stock alone is rarely clipped in all three channels.

Steps: ``document_front`` (licence / ID card / passport card front: a portrait),
``document_back`` (licence / ID card back: a readable AAMVA PDF417; passport card back:
a TD1 MRZ), ``passport_page`` (the photo page: portrait and MRZ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from openidv.document.side import PORTRAIT_OUTLINE, SideAnalysis
from openidv.document.types import DocumentType

STEPS = ("document_front", "document_back", "passport_page")

MESSAGES: dict[str, str] = {
    "unreadable_image": "We could not read that picture. Please take it again.",
    "no_document": "We could not find the document. Place it flat on a plain, darker surface, fully inside the frame.",
    "document_cropped": "Part of the document is outside the picture. Move back a little so all four corners show.",
    "document_too_small": "The document is too far away. Move closer so it fills most of the frame.",
    "low_contrast": "The picture is too dark or washed out. Find better light and try again.",
    "blurry": "The picture is blurry. Hold the phone still and let the camera focus on the text.",
    "glare": "There is glare on the document. Tilt it slightly away from the light.",
    "no_portrait": "We could not see the photo on the document. Show the side with your photo.",
    "back_shown": "This looks like the back of the card. Please show the front (the side with your photo).",
    "front_shown": "This looks like the front of the card. Please turn it over and show the back.",
    "barcode_unreadable": (
        "We could not read the barcode on the back. Fill the frame with the back, avoid glare and hold still."
    ),
    "mrz_not_found": (
        "We could not read the lines of letters and <<< at the bottom. Make sure they are visible and sharp."
    ),
}


@dataclass(frozen=True)
class CaptureConfig:
    min_sharpness: float = 25.0  #: 99th percentile |Laplacian| at 800 px width; below: blurry
    max_glare: float = 0.03  #: largest clipped blob / document area; above: glare


DEFAULT_CAPTURE = CaptureConfig()


@dataclass(frozen=True)
class CaptureVerdict:
    step: str
    accepted: bool
    reasons: list[str]  #: reason codes (keys of :data:`MESSAGES`), empty when accepted
    kind: DocumentType
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        return [MESSAGES[r] for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "accepted": self.accepted,
            "reasons": self.reasons,
            "messages": self.messages,
            "kind": self.kind.value,
            "metrics": {k: round(v, 4) for k, v in self.metrics.items()},
        }


def sharpness(document: np.ndarray) -> float:
    """99th percentile of |Laplacian| of the grey image at 800 px width (see the module docstring)."""
    grey = cv2.cvtColor(document, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    grey = cv2.resize(grey, (800, max(1, round(800 * h / w))), interpolation=cv2.INTER_AREA)
    return float(np.percentile(np.abs(cv2.Laplacian(grey, cv2.CV_32F)), 99))


def glare_fraction(document: np.ndarray) -> float:
    """Area of the largest blob of clipped pixels (all channels >= 250) / image area."""
    clipped = (document.min(axis=2) >= 250).astype(np.uint8)
    if not clipped.any():
        return 0.0
    n, _, stats, _ = cv2.connectedComponentsWithStats(clipped, connectivity=8)
    largest = int(stats[1:, cv2.CC_STAT_AREA].max()) if n > 1 else 0
    return largest / float(clipped.size)


def capture_verdict(
    side: SideAnalysis, step: str, document_type: str, config: CaptureConfig = DEFAULT_CAPTURE
) -> CaptureVerdict:
    """Accept or ask for a retake. ``document_type`` is what the applicant said they hold:
    ``drivers_license``, ``id_card``, ``passport`` or ``passport_card``."""
    if step not in STEPS:
        raise ValueError(f"unknown capture step {step!r}")
    reasons: list[str] = []
    metrics: dict[str, float] = {}
    if side.error is not None or side.rgb is None:
        return CaptureVerdict(step, False, ["unreadable_image"], side.kind)
    locate_reason = side.locate.reason if side.locate is not None else "no_document"
    # a front photo taken as the card itself (no outline found, card-shaped) is still not a located card
    outline_found = side.locate is not None and side.locate.quad is not None
    if side.rectified is None or not outline_found:
        reasons.append(locate_reason if locate_reason in MESSAGES else "no_document")
    else:
        metrics["sharpness"] = sharpness(side.rectified)
        metrics["glare"] = glare_fraction(side.rectified)
        if metrics["sharpness"] < config.min_sharpness:
            reasons.append("blurry")
        if metrics["glare"] > config.max_glare:
            reasons.append("glare")

    mrz_ok = side.mrz is not None and side.mrz.found and side.mrz.result is not None
    if step == "document_front":
        if side.kind is DocumentType.US_DL_BACK or (not side.faces and mrz_ok):
            reasons.append("back_shown")
        elif not side.faces:
            reasons.append("no_portrait")
    elif step == "document_back":
        if side.faces:
            reasons.append("front_shown")
        elif document_type == "passport_card":
            if not mrz_ok:
                reasons.append("mrz_not_found")
        elif side.aamva is None:
            reasons.append("barcode_unreadable")
    else:  # passport_page
        if not side.faces:
            reasons.append("no_portrait")
        if not mrz_ok:
            reasons.append("mrz_not_found")
    # a document that could not be located but whose content was read is usable (a tight crop)
    content_read = (step == "document_front" and bool(side.faces)) or (
        step != "document_front" and ("barcode_unreadable" not in reasons and "mrz_not_found" not in reasons)
    )
    if not outline_found and content_read and locate_reason in ("no_document", "low_contrast", PORTRAIT_OUTLINE):
        reasons = [r for r in reasons if r not in (locate_reason, "no_document")]
    return CaptureVerdict(step, not reasons, reasons, side.kind, metrics)
