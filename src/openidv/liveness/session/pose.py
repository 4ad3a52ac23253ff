"""One frame's pose and expression read against the subject's baseline: what every step looks at."""

from __future__ import annotations

from dataclasses import dataclass

from openidv.liveness.frame import mouth_corner_lift
from openidv.liveness.session.config import SessionConfig
from openidv.liveness.session.state import Baseline
from openidv.liveness.types import Challenge, FrameAnalysis


@dataclass(frozen=True)
class PoseReading:
    """One usable frame relative to the :class:`Baseline` (angles in degrees, ratios to the baseline)."""

    #: |yaw - baseline| and |pitch - baseline| <= ``frontal_deg``: back to frontal
    frontal: bool
    #: ... <= ``expression_max_deg``: close enough to frontal for blink, smile and move closer
    near_frontal: bool
    #: the challenges (move closer aside) this frame shows, whether asked for or not
    seen: dict[Challenge, bool]


def read_pose(a: FrameAnalysis, b: Baseline, cfg: SessionConfig) -> PoseReading:
    """``a`` (a frame with one face and its landmarks) against the baseline ``b``: head turn (yaw change
    >= ``yaw_deg``), look up (pitch change >= ``pitch_up_deg`` with the yaw below it), eyes closed
    (EAR below ``blink_closed_ratio`` of the baseline) and smile (mouth width ratio >= ``smile_ratio``,
    or >= ``smile_lift_ratio`` with the corners lifted by ``smile_lift`` inter-ocular distances)."""
    assert a.landmarks is not None
    lift = mouth_corner_lift(a.landmarks)
    dyaw, dpitch = a.yaw - b.yaw, a.pitch - b.pitch
    frontal = abs(dyaw) <= cfg.frontal_deg and abs(dpitch) <= cfg.frontal_deg
    near_frontal = abs(dyaw) <= cfg.expression_max_deg and abs(dpitch) <= cfg.expression_max_deg
    ear_ratio = a.ear / b.ear if b.ear > 0 else 1.0
    smile_r = a.smile / b.smile if b.smile > 0 else 1.0
    smiling = near_frontal and (
        smile_r >= cfg.smile_ratio or (smile_r >= cfg.smile_lift_ratio and lift - b.lift >= cfg.smile_lift)
    )
    seen = {
        Challenge.TURN_LEFT: dyaw >= cfg.yaw_deg,
        Challenge.TURN_RIGHT: dyaw <= -cfg.yaw_deg,
        Challenge.LOOK_UP: dpitch >= cfg.pitch_up_deg and abs(dyaw) < cfg.yaw_deg,
        Challenge.BLINK: near_frontal and ear_ratio < cfg.blink_closed_ratio,
        Challenge.SMILE: smiling,
    }
    return PoseReading(frontal=frontal, near_frontal=near_frontal, seen=seen)
