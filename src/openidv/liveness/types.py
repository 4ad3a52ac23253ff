"""Types shared by the liveness engine's parts (frame analysis, session protocol, attack checks).

Coordinates: pixels in the frame, origin top-left, x right, y down. Times: seconds.
Angles: degrees; ``yaw`` positive when the subject turns to the image's right (their
left), ``pitch`` positive when they look up, ``roll`` positive for a clockwise tilt in
the image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from openidv.checks import CheckResult
from openidv.decision.severity import with_severity


class Challenge(StrEnum):
    TURN_LEFT = "turn_left"  #: subject turns their head to their left (image right)
    TURN_RIGHT = "turn_right"
    LOOK_UP = "look_up"
    BLINK = "blink"
    SMILE = "smile"
    MOVE_CLOSER = "move_closer"
    #: hold still while the capture page fills the screen with a sequence of colours (active
    #: illumination); never drawn at random: when enabled it is the first step after the baseline
    SCREEN_LIGHT = "screen_light"


#: The challenges drawn at random for a session (all but the screen-light step), in a fixed order.
DRAWABLE_CHALLENGES: tuple[Challenge, ...] = tuple(c for c in Challenge if c is not Challenge.SCREEN_LIGHT)


class Decision(StrEnum):
    LIVE = "live"
    NOT_LIVE = "not_live"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, eq=False)
class FrameAnalysis:
    """What one frame shows. ``face_found`` False leaves the geometric fields empty."""

    timestamp: float  #: client timestamp, seconds
    width: int
    height: int
    n_faces: int  #: faces of about the main face's size (itself included): another person or a shown face
    face_found: bool
    landmarks: np.ndarray | None = field(default=None, repr=False)  #: (478, 3) float32: x, y px; z relative depth px
    box: tuple[float, float, float, float] | None = None  #: face box x, y, w, h px
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    ear: float = 0.0  #: eye aspect ratio, mean of both eyes (open ~0.25-0.35, closed < 0.15)
    smile: float = 0.0  #: mouth width / inter-ocular distance
    face_width_frac: float = 0.0  #: face box width / frame width
    brightness: float = 0.0  #: mean luma of the face box, 0-255
    sharpness: float = 0.0  #: variance of the Laplacian of the face crop at 112 px width
    frame_hash: str = ""  #: hash of the decoded pixels (duplicate detection)
    guidance: str = ""  #: what to tell the user about this frame ("move closer", ...)
    #: in-focus faces clearly smaller than the main one but not negligible (``FrameConfig.second_face_frac``
    #: to ``comparable_face_frac`` of its width): a bystander behind the user, or a small face shown
    n_smaller_faces: int = 0


@dataclass(frozen=True)
class ChallengeStep:
    challenge: Challenge
    window_s: float  #: time allowed from the step's start
    met_at: float | None = None  #: client timestamp at which it was met


@dataclass(frozen=True)
class Progress:
    """Returned after each frame: what to show the user now."""

    session_id: str
    current: Challenge | None  #: None when all challenges are met or the session ended
    step_index: int
    met: bool  #: whether this frame met the current challenge
    completed: list[Challenge]
    guidance: str
    expired: bool = False
    failed_reason: str = ""
    #: "#rrggbb": the colour the client must fill its screen with before capturing its NEXT frame,
    #: while the screen-light step is current; None otherwise (the page shows its normal content)
    screen_colour: str | None = None


@dataclass(frozen=True, eq=False)
class LightSample:
    """Colour measurements of one frame during the screen-light step (and the frame after it).

    Means are of the decoded RGB frame (gamma-encoded 0-255, not linearised) over boxes
    defined by the face mesh: ``face`` rows are forehead, image-left cheek, image-right
    cheek, nose, chin; ``surround`` rows are boxes beside (image left, image right) and
    above the face, outside the face box. A row is NaN where its box is not (enough)
    inside the frame.
    """

    index: int  #: frame index in the session
    timestamp: float  #: client time, s
    colour: int  #: index into the session's colours of the colour requested before this frame; -1: none
    face: np.ndarray = field(repr=False)  #: (5, 3) float64 mean R, G, B
    surround: np.ndarray = field(repr=False)  #: (3, 3) float64 mean R, G, B


@dataclass(frozen=True, eq=False)
class LightRecord:
    """What the screen-light check needs: the issued colours and the per-frame samples."""

    colours: tuple[str, ...]  #: "#rrggbb", in the issued order
    samples: tuple[LightSample, ...]
    step_met: bool  #: every colour had its frames with a usable face


@dataclass(eq=False)
class LivenessReport:
    session_id: str
    decision: Decision
    score: float  #: in [0, 1], higher = more likely live
    checks: list[CheckResult]
    selfie: np.ndarray | None = field(default=None, repr=False)  #: chosen frame, RGB
    selfie_index: int | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    n_frames: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "decision": self.decision.value,
            "score": round(self.score, 4),
            "checks": [with_severity(c).to_dict() for c in self.checks],
            "selfie_index": self.selfie_index,
            "n_frames": self.n_frames,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
