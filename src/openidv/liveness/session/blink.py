"""The blink step: eyes closed against the eyes just before, then open again, head near frontal."""

from __future__ import annotations

import numpy as np

from openidv.liveness.session.config import SessionConfig
from openidv.liveness.session.state import Baseline, StepState
from openidv.liveness.types import FrameAnalysis


def blink_done(st: StepState, a: FrameAnalysis, b: Baseline, near_frontal: bool, ts: float, cfg: SessionConfig) -> bool:
    """Count this frame (client time ``ts`` s) towards the blink step; True when the eyes open again
    (EAR >= ``blink_open_ratio`` of the reference) after a closed frame (< ``blink_closed_ratio``).
    ``st.closed_ts`` keeps the time of the most closed frame: the step's ``met_at``."""
    if not near_frontal:
        return False
    # Closed and open again are judged against the eyes just before the blink (median of the
    # last 3 near-frontal open frames of this step), not the session baseline: after a head
    # turn the mesh can read a narrow eye's open aperture ~0.75 of baseline for a while.
    ref = float(np.median(st.open_ears)) if len(st.open_ears) >= 2 else b.ear
    local = a.ear / ref if ref > 0 else 1.0
    if local < cfg.blink_closed_ratio:
        if a.ear < st.closed_ear:
            st.closed_ear, st.closed_ts = a.ear, ts
    elif st.closed_ts is not None and local >= cfg.blink_open_ratio:
        return True
    elif st.closed_ts is None:
        st.open_ears.append(a.ear)
    return False
