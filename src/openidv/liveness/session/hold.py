"""The sustained steps: turn left, turn right, look up, smile and move closer, each held for
``hold_frames`` consecutive frames."""

from __future__ import annotations

from openidv.liveness.session.config import SessionConfig
from openidv.liveness.session.pose import PoseReading
from openidv.liveness.session.state import StepState
from openidv.liveness.types import Challenge, FrameAnalysis


def hold_done(st: StepState, a: FrameAnalysis, current: Challenge, pose: PoseReading, cfg: SessionConfig) -> bool:
    """Count this frame towards the current sustained step ``current``; True once it has been shown in
    ``hold_frames`` consecutive frames. Move closer: face width >= ``closer_ratio`` x its width when
    the step began (``st.ref_width``, fraction of the frame width), head near frontal."""
    if current is Challenge.MOVE_CLOSER:
        on = pose.near_frontal and a.face_width_frac >= cfg.closer_ratio * st.ref_width
    else:
        on = pose.seen[current]
    st.hold = st.hold + 1 if on else 0
    return st.hold >= cfg.hold_frames
