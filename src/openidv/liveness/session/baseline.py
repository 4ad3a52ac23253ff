"""The baseline step: the subject's neutral pose and expression, and the pinned frontal frames."""

from __future__ import annotations

import numpy as np

from openidv.liveness.frame import mouth_corner_lift
from openidv.liveness.session.config import INSTRUCTION_FRONTAL, INSTRUCTIONS
from openidv.liveness.session.state import Baseline, LivenessSession, PinnedFrame, start_step
from openidv.liveness.types import FrameAnalysis


def pin_frontal(session: LivenessSession, a: FrameAnalysis, rgb: np.ndarray, index: int) -> None:
    """Keep the first and last frontal frames and the sharpest frontal frame (the selfie)."""
    cfg = session.config
    b = session.baseline
    yaw0, pitch0 = (b.yaw, b.pitch) if b is not None else (0.0, 0.0)
    max_deg = cfg.selfie_max_deg if b is not None else cfg.baseline_max_deg
    if abs(a.yaw - yaw0) > max_deg or abs(a.pitch - pitch0) > max_deg:
        return
    if b is not None and a.ear < cfg.selfie_min_ear_ratio * b.ear:
        return
    fc = cfg.frame
    if not fc.min_brightness <= a.brightness <= fc.max_brightness:
        return
    pinned = PinnedFrame(index, rgb, a.sharpness)
    if session._first_frontal is None:
        session._first_frontal = pinned
    session._last_frontal = pinned
    if session._selfie is None or a.sharpness > session._selfie.score:
        session._selfie = pinned


def advance_baseline(
    session: LivenessSession, a: FrameAnalysis, rgb: np.ndarray, index: int, now: float, ts: float
) -> tuple[bool, str]:
    """One usable frame (one face with landmarks) before the baseline is complete: keep it when the
    face is roughly frontal (|yaw|, |pitch| <= ``baseline_max_deg`` degrees) with its eyes open (EAR
    at least ``min_open_ear`` and ``baseline_open_fraction`` of the median of the last frames); the
    ``baseline_frames``-th such frame makes the :class:`Baseline` and starts the first step.
    ``now`` is server time, ``ts`` client time (s). Returns (challenge met: always False, instruction)."""
    cfg = session.config
    session._ears_before_baseline.append(a.ear)
    typical = float(np.median(session._ears_before_baseline))
    open_eyes = a.ear >= max(cfg.min_open_ear, cfg.baseline_open_fraction * typical)
    if abs(a.yaw) <= cfg.baseline_max_deg and abs(a.pitch) <= cfg.baseline_max_deg and open_eyes:
        session._baseline_frames.append(a)
        session._recent_widths.append(a.face_width_frac)
        pin_frontal(session, a, rgb, index)
        if len(session._baseline_frames) >= cfg.baseline_frames:
            fr = session._baseline_frames
            session.baseline = Baseline(
                yaw=float(np.median([f.yaw for f in fr])),
                pitch=float(np.median([f.pitch for f in fr])),
                ear=float(np.median([f.ear for f in fr])),
                smile=float(np.median([f.smile for f in fr])),
                lift=float(np.median([mouth_corner_lift(f.landmarks) for f in fr if f.landmarks is not None])),
                face_width_frac=float(np.median([f.face_width_frac for f in fr])),
                n_frames=len(fr),
            )
            session._baseline_frames = []
            start_step(session, now, ts, need_frontal=False)
            return False, INSTRUCTIONS[session.steps[0].challenge]
    return False, INSTRUCTION_FRONTAL
