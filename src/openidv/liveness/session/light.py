"""The screen-light step: the colours' schedule and the face's measurements under each colour.

The client fills its screen with :attr:`LivenessSession.screen_colour` before capturing its next
frame; a frame counts for the colour sent before it (with the last :class:`Progress`). The
measurements are judged at ``finish`` by :func:`openidv.liveness.pad.screen_light.screen_light_response`.
"""

from __future__ import annotations

import numpy as np

from openidv.liveness.frame import light_regions
from openidv.liveness.session.config import INSTRUCTIONS
from openidv.liveness.session.state import LivenessSession, StepState, step_met
from openidv.liveness.types import Challenge, FrameAnalysis, LightSample


def measure_light(session: LivenessSession, analysis: FrameAnalysis, rgb: np.ndarray, index: int, ts: float) -> None:
    """During the step, and for the frame after it (a camera one frame late), keep the mean colours of
    the face regions and the boxes around the face of frame ``index`` (client time ``ts`` s)."""
    measure = session.light_active or session._light_after
    if measure and analysis.landmarks is not None and analysis.face_found:
        face, surround = light_regions(rgb, analysis.landmarks)
        session.light_samples.append(LightSample(index, ts, session._light_told, face, surround))
    session._light_after = False


def advance_light(session: LivenessSession, st: StepState, now: float, ts: float) -> tuple[bool, str]:
    """One usable frame of the screen-light step: it counts for the colour requested before it; after
    ``light_frames_per_colour`` such frames the next colour is due, after the last the step is met.
    Returns (step met, instruction)."""
    cfg = session.config
    # a frame counts for the colour that was requested before it (sent with the last Progress)
    if session._light_told == session._light_pos:
        session._light_count += 1
        if session._light_count >= cfg.light_frames_per_colour:
            session._light_pos += 1
            session._light_count = 0
    if session._light_pos < len(session.light_colours):
        return False, INSTRUCTIONS[Challenge.SCREEN_LIGHT]
    session._light_after = True
    return step_met(session, st, Challenge.SCREEN_LIGHT, now, ts)
