"""Preparing a face for embedding, enhancing small ones (ID-card portraits).

A portrait on a photographed ID card is often 20-50 px between the eyes and printed
over security patterns (guilloche lines, microprint, halftone dots). Before
embedding, such a face is cut out with a margin, enlarged with Lanczos
interpolation until its eyes are ``target_iod`` px apart, smoothed with an
edge-preserving bilateral filter (which removes fine periodic print patterns but
keeps facial edges), lightly sharpened, and detected again on the enhanced crop so
that the landmarks are measured at the new resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openidv.face.detection import DetectorConfig, detect
from openidv.face.types import Box, DetectedFace

_REDETECT = DetectorConfig(score_threshold=0.5, max_side=640, max_upscale=1.0, hog_fallback=False)


@dataclass(frozen=True)
class EnhanceConfig:
    enhance_below_iod: float = 18.0  #: enhance faces whose eyes are closer than this (px)
    target_iod: float = 90.0  #: inter-ocular distance after enlargement (px)
    max_scale: float = 6.0  #: largest enlargement factor
    margin: float = 0.8  #: crop margin around the face box, as a share of its size
    denoise: bool = True  #: bilateral filtering of print patterns
    sharpen: float = 0.6  #: unsharp-mask amount (0 = none)


DEFAULT_ENHANCE = EnhanceConfig()


@dataclass(frozen=True, eq=False)
class PreparedFace:
    """The image to embed from and the face in that image's coordinates."""

    image: np.ndarray  #: RGB uint8; the input itself, or an enhanced crop
    face: DetectedFace  #: coordinates refer to ``image``
    original: DetectedFace  #: the face as detected in the input
    enhanced: bool
    scale: float  #: enlargement applied (1.0 when not enhanced)


def prepare_face(rgb: np.ndarray, face: DetectedFace, config: EnhanceConfig = DEFAULT_ENHANCE) -> PreparedFace:
    """Return ``face`` ready for :func:`openidv.face.embedding.embed`, enhanced if small."""
    iod = face.quality.interocular_px
    if iod >= config.enhance_below_iod or iod <= 0:
        return PreparedFace(rgb, face, face, False, 1.0)
    scale = float(np.clip(config.target_iod / iod, 1.0, config.max_scale))
    crop, origin = _crop_around(rgb, face.box, config.margin)
    enlarged = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LANCZOS4)
    enhanced = enhance_print(enlarged, scale, denoise=config.denoise, sharpen=config.sharpen)
    again = detect(enhanced, _REDETECT)
    expected = (face.landmarks - origin) * scale
    if again:
        centre = expected.mean(axis=0)
        best = min(again, key=lambda f: float(np.hypot(*(f.landmarks.mean(axis=0) - centre))))
        if float(np.hypot(*(best.landmarks.mean(axis=0) - centre))) < iod * scale:
            return PreparedFace(enhanced, best, face, True, scale)
    box = Box(
        (face.box.x - origin[0]) * scale,
        (face.box.y - origin[1]) * scale,
        face.box.width * scale,
        face.box.height * scale,
    )
    moved = DetectedFace(box, expected.astype(np.float32), face.score, face.quality, face.detector)
    return PreparedFace(enhanced, moved, face, True, scale)


def enhance_print(image: np.ndarray, scale: float, *, denoise: bool = True, sharpen: float = 0.6) -> np.ndarray:
    """Suppress print patterns and restore edges on an enlarged RGB crop.

    The bilateral filter's spatial sigma grows with ``scale`` because the pattern's
    period, measured in enlarged pixels, grows with it.
    """
    smooth = image
    if denoise:
        smooth = cv2.bilateralFilter(image, d=-1, sigmaColor=30, sigmaSpace=max(1.5, 0.9 * scale))
    if sharpen <= 0:
        return smooth
    blurred = cv2.GaussianBlur(smooth, (0, 0), sigmaX=max(1.0, 0.5 * scale))
    return cv2.addWeighted(smooth, 1.0 + sharpen, blurred, -sharpen, 0)


def _crop_around(rgb: np.ndarray, box: Box, margin: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = rgb.shape[:2]
    size = max(box.width, box.height)
    x0 = int(max(0, box.x - margin * size))
    y0 = int(max(0, box.y - margin * size))
    x1 = int(min(w, box.x + box.width + margin * size))
    y1 = int(min(h, box.y + box.height + margin * size))
    return rgb[y0:y1, x0:x1].copy(), np.array([x0, y0], dtype=np.float32)
