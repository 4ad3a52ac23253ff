"""Result types of the face engine.

Coordinates are pixels in the input image, origin top-left, x right, y down.
The five landmarks are, in this order: the eye on the image's left (the subject's
right eye), the eye on the image's right, the nose tip, the mouth corner on the
image's left, the mouth corner on the image's right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openidv.checks import CheckResult
from openidv.decision.severity import with_severity

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class Box:
    """Axis-aligned box: top-left corner and size, in pixels."""

    x: float
    y: float
    width: float
    height: float

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.width / 2.0, self.y + self.height / 2.0)

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 1) for k, v in vars(self).items()}


@dataclass(frozen=True)
class FaceQuality:
    """Image-quality measures of one detected face.

    ``sharpness`` is the variance of the Laplacian of the face's gray crop resized to
    112 px wide (higher is sharper; below ~30 is visibly blurred). ``brightness`` and
    ``contrast`` are the mean and standard deviation of its luma, 0-255. Angles are
    approximate head-pose estimates from the 5 landmarks, in degrees: ``yaw`` positive
    when the face turns to the image's right, ``pitch`` positive when it tilts up,
    ``roll`` positive when the eye line rotates clockwise in the image.
    """

    face_width_px: float
    face_height_px: float
    interocular_px: float
    sharpness: float
    brightness: float
    contrast: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 2) for k, v in vars(self).items()}


@dataclass(frozen=True, eq=False)
class DetectedFace:
    box: Box
    landmarks: np.ndarray  #: shape (5, 2), float32, (x, y) pixels, order LANDMARK_NAMES
    score: float  #: detector confidence in [0, 1]
    quality: FaceQuality
    detector: str = "retinaface"

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": self.box.to_dict(),
            "landmarks": {
                n: [round(float(x), 1), round(float(y), 1)]
                for n, (x, y) in zip(LANDMARK_NAMES, self.landmarks, strict=True)
            },
            "score": round(self.score, 4),
            "quality": self.quality.to_dict(),
            "detector": self.detector,
        }


@dataclass(frozen=True, eq=False)
class FaceEmbedding:
    """An aligned face chip and its embedding. Lives in memory only: never persist it."""

    chip: np.ndarray  #: (150, 150, 3) uint8 RGB, aligned the way dlib.get_face_chip does
    vector: np.ndarray = field(repr=False)  #: (128,) float64, dlib ResNet descriptor
    face: DetectedFace = field(repr=False)

    def distance(self, other: FaceEmbedding) -> float:
        """Euclidean distance between descriptors (dlib's metric; ~0.6 separates people)."""
        return float(np.linalg.norm(self.vector - other.vector))


@dataclass(frozen=True)
class Reason:
    code: str  #: e.g. "no_face", "multiple_faces", "face_too_small", "low_quality"
    side: str  #: "selfie", "document" or "pair"
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "side": self.side, "detail": self.detail}


@dataclass(frozen=True, eq=False)
class MatchResult:
    """Outcome of matching a selfie to a document portrait.

    ``same_person`` is ``None`` when the pair cannot be decided (a face is missing,
    several faces in the selfie, a face too small). ``score`` is a similarity in
    ``[0, 1]`` (0.5 at the FMR 1e-3 threshold). ``distance`` is the Euclidean
    descriptor distance; the decision is ``distance <= threshold``.
    """

    same_person: bool | None
    score: float | None
    distance: float | None
    threshold: float
    operating_point: str
    reasons: list[Reason]
    checks: list[CheckResult]
    selfie_face: DetectedFace | None
    document_face: DetectedFace | None
    document_enhanced: bool
    timings_ms: dict[str, float]
    selfie_chip: np.ndarray | None = field(default=None, repr=False)
    document_chip: np.ndarray | None = field(default=None, repr=False)

    @property
    def reason_codes(self) -> list[str]:
        out: list[str] = []
        for r in self.reasons:
            if r.code not in out:
                out.append(r.code)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "same_person": self.same_person,
            "score": None if self.score is None else round(self.score, 4),
            "distance": None if self.distance is None else round(self.distance, 4),
            "threshold": round(self.threshold, 4),
            "operating_point": self.operating_point,
            "reasons": self.reason_codes,
            "reason_details": [r.to_dict() for r in self.reasons],
            "checks": [with_severity(c).to_dict() for c in self.checks],
            "selfie_face": None if self.selfie_face is None else self.selfie_face.to_dict(),
            "document_face": None if self.document_face is None else self.document_face.to_dict(),
            "document_enhanced": self.document_enhanced,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
