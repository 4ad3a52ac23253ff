"""Matching a live selfie to the portrait on an identity document.

Pipeline per side: decode -> detect -> choose the face -> quality gates -> enhance if
small (:mod:`openidv.face.portrait`) -> align and embed (:mod:`openidv.face.embedding`).
Then the descriptor distance is compared with the operating point's threshold.

Reason codes (side is ``selfie`` or ``document``):

* ``no_face``: no face found (blocking: ``same_person`` is ``None``);
* ``multiple_faces``: more than one clear face in the selfie (blocking);
* ``face_too_small``: eyes closer than the side's minimum (blocking);
* ``low_quality``: blurred, too dark, too bright or low contrast (advisory);
* ``pose``: head turned or tilted beyond the frontal range (advisory);
* ``portrait_enhanced``: the face was small and was enhanced before embedding (info).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.face.codes import FaceCheck, FaceReason
from openidv.face.detection import DetectorConfig, detect
from openidv.face.embedding import align, describe
from openidv.face.operating_points import DEFAULT_OPERATING_POINT, SCORE_SCALE, threshold_for
from openidv.face.portrait import DEFAULT_ENHANCE, EnhanceConfig, prepare_face
from openidv.face.types import DetectedFace, FaceEmbedding, MatchResult, Reason
from openidv.imaging import DEFAULT_MAX_PIXELS, ImageInput, load_rgb

BLOCKING = frozenset({FaceReason.NO_FACE, FaceReason.MULTIPLE_FACES, FaceReason.FACE_TOO_SMALL})
#: reasons that keep a match from approval without blocking it
CAVEATS = (FaceReason.LOW_QUALITY, FaceReason.POSE)


@dataclass(frozen=True)
class QualityGates:
    min_iod_px: float  #: below this inter-ocular distance: face_too_small
    min_sharpness: float = 12.0
    min_brightness: float = 40.0
    max_brightness: float = 230.0
    min_contrast: float = 12.0
    max_abs_yaw: float = 35.0
    max_abs_pitch: float = 30.0


@dataclass(frozen=True)
class MatchConfig:
    operating_point: str = DEFAULT_OPERATING_POINT
    selfie_detector: DetectorConfig = DetectorConfig()
    document_detector: DetectorConfig = DetectorConfig(score_threshold=0.6)
    enhance: EnhanceConfig = DEFAULT_ENHANCE
    selfie_gates: QualityGates = QualityGates(min_iod_px=30.0)
    document_gates: QualityGates = QualityGates(min_iod_px=10.0, min_sharpness=5.0)
    #: a second selfie face at least this share of the largest face's width is "another person"
    second_face_ratio: float = 0.35
    max_pixels: int = DEFAULT_MAX_PIXELS


DEFAULT_MATCH = MatchConfig()


@dataclass(eq=False)
class SideResult:
    """One side of a pair after detection, gating and embedding."""

    face: DetectedFace | None
    embedding: FaceEmbedding | None
    enhanced: bool
    reasons: list[Reason] = field(default_factory=list)
    n_faces: int = 0
    #: wall time of each stage run, ms: "detect"; "align" (enhancement when small, 5-point shape, chip);
    #: "embed" (the descriptor network on the chip and its mirror)
    stage_ms: dict[str, float] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return any(r.code in BLOCKING for r in self.reasons)


def similarity(distance: float, reference: float) -> float:
    """Map a descriptor distance to a [0, 1] score, 0.5 at ``reference``."""
    return 1.0 / (1.0 + math.exp((distance - reference) / SCORE_SCALE))


def analyse_side(
    rgb: np.ndarray,
    side: str,
    detector: DetectorConfig,
    gates: QualityGates,
    enhance: EnhanceConfig = DEFAULT_ENHANCE,
    *,
    second_face_ratio: float | None = None,
) -> SideResult:
    """Detect, choose, gate and embed the face on one side.

    The chosen face is the largest one. With ``second_face_ratio`` set (the selfie),
    another face at least that share of the largest face's width blocks the side
    with ``multiple_faces``; without it (a document, which may carry a small ghost
    portrait) other faces are ignored.
    """
    t0 = time.perf_counter()
    faces = detect(rgb, detector)
    result = SideResult(None, None, False, n_faces=len(faces), stage_ms={"detect": _ms_since(t0)})
    if not faces:
        result.reasons.append(Reason(FaceReason.NO_FACE, side, "no face was found"))
        return result
    face = faces[0]
    result.face = face
    if second_face_ratio is not None:
        others = [f for f in faces[1:] if f.box.width >= second_face_ratio * face.box.width]
        if others:
            result.reasons.append(
                Reason(FaceReason.MULTIPLE_FACES, side, f"{1 + len(others)} faces found; exactly one is expected")
            )
            return result
    result.reasons.extend(quality_reasons(face, side, gates))
    if result.blocked:
        return result
    t0 = time.perf_counter()
    prepared = prepare_face(rgb, face, enhance)
    if prepared.enhanced:
        result.enhanced = True
        result.reasons.append(
            Reason(FaceReason.PORTRAIT_ENHANCED, side, f"small face enlarged {prepared.scale:.1f}x and enhanced")
        )
    chip = align(prepared.image, prepared.face)
    t1 = time.perf_counter()
    result.embedding = FaceEmbedding(chip=chip, vector=describe(chip), face=prepared.face)
    result.stage_ms.update(align=(t1 - t0) * 1000.0, embed=_ms_since(t1))
    return result


def _ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def quality_reasons(face: DetectedFace, side: str, gates: QualityGates) -> list[Reason]:
    q = face.quality
    out = []
    if q.interocular_px < gates.min_iod_px:
        out.append(
            Reason(
                FaceReason.FACE_TOO_SMALL,
                side,
                f"eyes {q.interocular_px:.0f} px apart; at least {gates.min_iod_px:.0f} needed",
            )
        )
    problems = []
    if q.sharpness < gates.min_sharpness:
        problems.append(f"blurred (sharpness {q.sharpness:.0f} < {gates.min_sharpness:.0f})")
    if q.brightness < gates.min_brightness:
        problems.append(f"too dark (mean {q.brightness:.0f})")
    if q.brightness > gates.max_brightness:
        problems.append(f"too bright (mean {q.brightness:.0f})")
    if q.contrast < gates.min_contrast:
        problems.append(f"low contrast ({q.contrast:.0f})")
    if problems:
        out.append(Reason(FaceReason.LOW_QUALITY, side, "; ".join(problems)))
    if abs(q.yaw_deg) > gates.max_abs_yaw or abs(q.pitch_deg) > gates.max_abs_pitch:
        out.append(Reason(FaceReason.POSE, side, f"head turned (yaw {q.yaw_deg:.0f}, pitch {q.pitch_deg:.0f} degrees)"))
    return out


def match(selfie_image: ImageInput, document_image: ImageInput, config: MatchConfig = DEFAULT_MATCH) -> MatchResult:
    """Decide whether the selfie and the document portrait show the same person.

    Raises :class:`openidv.errors.ImageError` for unusable images; face problems are
    reported as reasons with ``same_person=None`` instead.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    selfie_rgb = load_rgb(selfie_image, max_pixels=config.max_pixels)
    document_rgb = load_rgb(document_image, max_pixels=config.max_pixels)
    timings["decode"] = _ms(t0)

    t = time.perf_counter()
    selfie = analyse_side(
        selfie_rgb,
        "selfie",
        config.selfie_detector,
        config.selfie_gates,
        config.enhance,
        second_face_ratio=config.second_face_ratio,
    )
    timings["selfie"] = _ms(t)
    t = time.perf_counter()
    document = analyse_side(document_rgb, "document", config.document_detector, config.document_gates, config.enhance)
    timings["document"] = _ms(t)

    op = threshold_for(config.operating_point)
    reference = threshold_for(DEFAULT_OPERATING_POINT).distance
    reasons = selfie.reasons + document.reasons
    checks = [_side_check(FaceCheck.SELFIE_FACE, selfie), _side_check(FaceCheck.DOCUMENT_PORTRAIT, document)]
    distance = score = None
    same: bool | None = None
    if selfie.embedding is not None and document.embedding is not None:
        distance = selfie.embedding.distance(document.embedding)
        score = similarity(distance, reference)
        same = distance <= op.distance
        checks.append(
            CheckResult(
                FaceCheck.FACE_MATCH,
                Status.PASS if same else Status.FAIL,
                FaceReason.MATCH if same else FaceReason.NO_MATCH,
                score,
                f"distance {distance:.3f} {'<=' if same else '>'} threshold {op.distance:.3f}"
                f" (FMR {config.operating_point})",
            )
        )
    else:
        checks.append(
            CheckResult(
                FaceCheck.FACE_MATCH,
                Status.INCONCLUSIVE,
                FaceReason.UNDECIDABLE,
                None,
                "a face is missing or unusable on one side",
            )
        )
    timings["total"] = _ms(t0)
    return MatchResult(
        same_person=same,
        score=score,
        distance=distance,
        threshold=op.distance,
        operating_point=config.operating_point,
        reasons=reasons,
        checks=checks,
        selfie_face=selfie.face,
        document_face=document.face,
        document_enhanced=document.enhanced,
        timings_ms=timings,
        selfie_chip=None if selfie.embedding is None else selfie.embedding.chip,
        document_chip=None if document.embedding is None else document.embedding.chip,
    )


def _side_check(name: str, side: SideResult) -> CheckResult:
    blocking = [r for r in side.reasons if r.code in BLOCKING]
    advisory = [r for r in side.reasons if r.code in CAVEATS]
    if blocking:
        return CheckResult(name, Status.FAIL, blocking[0].code, None, blocking[0].detail)
    if side.face is None:
        return CheckResult(name, Status.INCONCLUSIVE, FaceReason.NO_FACE, None, "no face analysed")
    if advisory:
        return CheckResult(
            name, Status.INCONCLUSIVE, advisory[0].code, side.face.score, "; ".join(r.detail for r in advisory)
        )
    return CheckResult(
        name, Status.PASS, FaceReason.OK, side.face.score, f"one usable face (detector {side.face.detector})"
    )


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
