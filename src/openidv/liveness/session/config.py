"""The session's protocol parameters, the user's instructions and the names of its own checks."""

from __future__ import annotations

from dataclasses import dataclass

from openidv.liveness.codes import LivenessCheck
from openidv.liveness.frame import DEFAULT_FRAME_CONFIG, FrameConfig
from openidv.liveness.types import Challenge

HEAD_TURNS = frozenset({Challenge.TURN_LEFT, Challenge.TURN_RIGHT})
POSE_CHALLENGES = frozenset({Challenge.TURN_LEFT, Challenge.TURN_RIGHT, Challenge.LOOK_UP})
EXPRESSIONS = frozenset({Challenge.BLINK, Challenge.SMILE})

#: What to tell the user for each challenge.
INSTRUCTIONS: dict[Challenge, str] = {
    Challenge.TURN_LEFT: "turn your head to your left",
    Challenge.TURN_RIGHT: "turn your head to your right",
    Challenge.LOOK_UP: "look up",
    Challenge.BLINK: "blink",
    Challenge.SMILE: "smile",
    Challenge.MOVE_CLOSER: "bring your face closer to the camera",
    Challenge.SCREEN_LIGHT: "hold still while the screen changes colour",
}

#: Saturated colours the screen-light step draws from ("#rrggbb"): each drives one or two of the
#: display's primaries fully and the others not at all, so every colour channel is switched on
#: and off across a sequence and the face's response can be regressed per channel.
LIGHT_PALETTE: tuple[str, ...] = ("#ff0000", "#00ff00", "#0000ff", "#ffff00", "#ff00ff", "#00ffff")
INSTRUCTION_FRONTAL = "look straight at the camera"
INSTRUCTION_DONE = "all done"

CHECK_CHALLENGES = LivenessCheck.CHALLENGES_COMPLETED
CHECK_SINGLE_FACE = LivenessCheck.SINGLE_FACE
CHECK_SAME_PERSON = LivenessCheck.SAME_PERSON
CHECK_QUALITY = LivenessCheck.FRAME_QUALITY
CHECK_PAD = LivenessCheck.PRESENTATION_ATTACK


@dataclass(frozen=True)
class SessionConfig:
    """Protocol parameters. Angles in degrees, times in seconds, ratios relative to the baseline."""

    window_s: float = 8.0  #: time allowed per challenge, from the moment it becomes current
    min_challenges: int = 3
    max_challenges: int = 4
    baseline_frames: int = 3  #: frontal frames that make the neutral baseline
    baseline_max_deg: float = 20.0  #: |yaw| and |pitch| of a baseline frame (absolute)
    min_open_ear: float = 0.10  #: eye aspect ratio of a baseline frame: at least this (eyes not shut) ...
    #: ... and at least this fraction of the median of the last frames before the baseline (not
    #: mid-blink). Relative, because narrow eyes read 0.12-0.18 open: an absolute 0.15 kept such users
    #: waiting for a baseline while the simulated ones went on with their challenges
    baseline_open_fraction: float = 0.8
    frontal_deg: float = 10.0  #: "back to frontal" before the next challenge, relative to the baseline
    expression_max_deg: float = 15.0  #: blink, smile and move closer count only this close to frontal
    yaw_deg: float = 15.0  #: head turn: yaw change from the baseline (estimate; ~20 degrees real)
    pitch_up_deg: float = 12.0  #: look up: pitch change from the baseline
    blink_closed_ratio: float = 0.60  #: eyes closed: EAR below this fraction of the baseline
    blink_open_ratio: float = 0.85  #: eyes open again: EAR above this fraction
    smile_ratio: float = 1.15  #: smile: mouth width ratio over the baseline
    smile_lift_ratio: float = 1.08  #: ... or this ratio together with
    smile_lift: float = 0.05  #: ... this rise of the mouth corners (inter-ocular distances)
    closer_ratio: float = 1.25  #: move closer: face width over its width when the step began
    hold_frames: int = 2  #: consecutive frames a sustained action (turn, look up, smile, closer) must hold
    selfie_max_deg: float = 12.0  #: selfie candidates: |yaw|, |pitch| relative to the baseline
    selfie_min_ear_ratio: float = 0.75  #: selfie candidates: eyes open
    max_multi_face_frames: int = 1  #: more frames than this with several faces fail ``single_face``
    min_selfie_face_frac: float = 0.12  #: selfie face narrower than this fraction of the frame: low quality
    max_frames: int = 600  #: frames accepted per session (40 s at 15 fps); later ones are refused
    max_frame_side: int = 1280  #: larger frames are downscaled before anything else
    operating_point: str = "1e-3"  #: face-match operating point of the ``same_person`` check
    light_colours: int = 6  #: colours shown in the screen-light step (drawn from LIGHT_PALETTE)
    light_frames_per_colour: int = 3  #: frames with a usable face captured under each colour
    frame: FrameConfig = DEFAULT_FRAME_CONFIG


DEFAULT_SESSION_CONFIG = SessionConfig()
