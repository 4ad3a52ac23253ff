"""The session's state machine: each frame is read, kept and handed to the current step."""

from __future__ import annotations

import logging
import math
import time

import cv2
import numpy as np

from openidv.errors import CorruptImageError, EmptyImageError, ImageError, NotAnImageError, OpenIDVError
from openidv.imaging import as_rgb, compact_encoding
from openidv.liveness.frame import GUIDANCE_BACK, GUIDANCE_CLOSER, GUIDANCE_STILL, FrameAnalyzer, decode_frame
from openidv.liveness.session.baseline import advance_baseline, pin_frontal
from openidv.liveness.session.blink import blink_done
from openidv.liveness.session.config import INSTRUCTION_DONE, INSTRUCTION_FRONTAL, INSTRUCTIONS, POSE_CHALLENGES
from openidv.liveness.session.hold import hold_done
from openidv.liveness.session.light import advance_light, measure_light
from openidv.liveness.session.pose import PoseReading, read_pose
from openidv.liveness.session.state import LivenessSession, step_met
from openidv.liveness.types import Challenge, FrameAnalysis, Progress

log = logging.getLogger(__name__)


def add_frame(
    session: LivenessSession,
    frame: bytes | bytearray | memoryview | np.ndarray,
    client_ts: float,
    *,
    now: float,
) -> Progress:
    """Analyse one frame (JPEG/PNG bytes or an RGB array) and advance the session.

    ``client_ts`` is the client's capture time (s); ``now`` the server's time (s), which
    governs windows and expiry. Never raises: unusable input comes back as a
    :class:`Progress` with ``failed_reason`` (``corrupt_frame``, ``unsupported_frame``,
    ``bad_timestamp``, ``timestamp_not_increasing``, ``too_many_frames``,
    ``session_finished``, ``session_expired``, ``challenge_timeout``,
    ``model_unavailable``, ``analysis_error``) and guidance for the user.

    ``Progress.current`` is the challenge to perform after this frame; ``met`` is true
    when this frame completed a challenge (the last one in ``completed``).
    """
    try:
        return _add_frame(session, frame, client_ts, now)
    except Exception as exc:  # last resort: the engine must answer every frame
        log.exception("liveness add_frame failed")
        return _progress(session, guidance="please try again", failed_reason="analysis_error", detail=str(exc))


def _progress(
    session: LivenessSession,
    *,
    met: bool = False,
    guidance: str = "",
    expired: bool = False,
    failed_reason: str = "",
    detail: str = "",
) -> Progress:
    if failed_reason:
        session.rejected[failed_reason] = session.rejected.get(failed_reason, 0) + 1
        if detail:
            log.debug("frame refused (%s): %s", failed_reason, detail)
    colour = session.screen_colour
    session._light_told = session._light_pos if colour is not None else -1
    return Progress(
        session_id=session.session_id,
        current=session.current,
        step_index=session.step_index,
        met=met,
        completed=session.completed,
        guidance=guidance,
        expired=expired,
        failed_reason=failed_reason,
        screen_colour=colour,
    )


def _add_frame(
    session: LivenessSession, frame: bytes | bytearray | memoryview | np.ndarray, client_ts: float, now: float
) -> Progress:
    refused = _refuse_closed(session, now)
    if refused is not None:
        return refused
    try:
        ts = float(client_ts)
    except (TypeError, ValueError):
        ts = math.nan
    if not math.isfinite(ts):
        return _progress(session, guidance="please try again", failed_reason="bad_timestamp")
    pixels = _read_pixels(session, frame)
    if isinstance(pixels, Progress):
        return pixels
    rgb, raw = pixels
    if session.analyzer is None:
        session.analyzer = FrameAnalyzer(config=session.config.frame)
    t0 = time.perf_counter()
    try:
        analysis = session.analyzer.analyse(rgb, ts)
    except OpenIDVError as exc:
        reason = "model_unavailable" if exc.code == "model_unavailable" else "analysis_error"
        return _progress(
            session, guidance="the service cannot analyse frames now", failed_reason=reason, detail=str(exc)
        )
    session.analyse_ms.append((time.perf_counter() - t0) * 1000.0)
    index = _keep(session, analysis, raw, rgb)

    if ts <= session._last_ts:
        return _progress(session, guidance="please try again", failed_reason="timestamp_not_increasing")
    session._last_ts = ts
    measure_light(session, analysis, rgb, index, ts)
    met, instruction = _advance(session, analysis, rgb, index, now, ts)
    return _progress(session, met=met, guidance=_merge_guidance(session, analysis.guidance, instruction))


def _refuse_closed(session: LivenessSession, now: float) -> Progress | None:
    """The refusal of a frame arriving (server time ``now`` s) after the report, the session's expiry or
    the current step's window, or past ``max_frames``; None when the session takes frames."""
    if session.report is not None:
        return _progress(session, guidance="the session is over", failed_reason="session_finished")
    if now >= session.expires_at and not session.ended_reason:
        session.ended_reason = "session_expired"
    step = session._step
    if (
        not session.ended_reason
        and step is not None
        and session.current is not None
        and now - step.started_at > session.steps[session.step_index].window_s
    ):
        session.ended_reason = "challenge_timeout"
    if session.ended_reason:
        return _progress(
            session, guidance="time is up, please start again", expired=True, failed_reason=session.ended_reason
        )
    if len(session.analyses) >= session.config.max_frames:
        return _progress(session, guidance="too many frames, please finish", failed_reason="too_many_frames")
    return None


def _read_pixels(
    session: LivenessSession, frame: bytes | bytearray | memoryview | np.ndarray
) -> tuple[np.ndarray, bytes | None] | Progress:
    """(RGB pixels no longer than ``max_frame_side`` px, the encoded bytes when they are those pixels)
    or the refusal of a frame that cannot be read."""
    raw: bytes | None = None
    try:
        if isinstance(frame, np.ndarray):
            rgb = as_rgb(frame)  # kept by reference: the caller must not modify it afterwards
        else:
            raw = bytes(frame)
            rgb = decode_frame(raw)
    except (CorruptImageError, NotAnImageError, EmptyImageError) as exc:
        return _progress(
            session, guidance="the frame could not be read", failed_reason="corrupt_frame", detail=str(exc)
        )
    except ImageError as exc:
        return _progress(
            session, guidance="unsupported camera frame", failed_reason="unsupported_frame", detail=str(exc)
        )
    longest = max(rgb.shape[:2])
    max_side = session.config.max_frame_side
    if longest > max_side:
        s = max_side / longest
        size = (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        raw = None  # keep the pixels that were analysed
    return rgb, raw


def _keep(session: LivenessSession, analysis: FrameAnalysis, raw: bytes | None, rgb: np.ndarray) -> int:
    """Append the frame's analysis and its pixels (compacted encoding, or the array); returns its index."""
    index = len(session.analyses)
    session.analyses.append(analysis)
    kept = compact_encoding(raw, rgb) if raw is not None else rgb
    session._stored.append(kept)
    session.stored_bytes += len(kept) if isinstance(kept, bytes) else kept.nbytes
    return index


def _merge_guidance(session: LivenessSession, frame_guidance: str, instruction: str) -> str:
    """Frame guidance first, except what the current challenge itself causes."""
    current = session.current
    if frame_guidance in (GUIDANCE_CLOSER, GUIDANCE_BACK) and current is Challenge.MOVE_CLOSER:
        return instruction
    if frame_guidance == GUIDANCE_STILL and current in POSE_CHALLENGES:
        return instruction  # motion blur is expected while turning
    return frame_guidance or instruction


def _advance(
    session: LivenessSession, a: FrameAnalysis, rgb: np.ndarray, index: int, now: float, ts: float
) -> tuple[bool, str]:
    """Update the state machine with one analysed frame; return (challenge met, instruction)."""
    usable = a.face_found and a.n_faces == 1 and a.landmarks is not None
    if not usable:
        if session._step is not None:
            session._step.hold = 0
        current = session.current
        return False, INSTRUCTIONS[current] if current is not None else INSTRUCTION_FRONTAL
    b = session.baseline
    if b is None:
        return advance_baseline(session, a, rgb, index, now, ts)
    cfg = session.config
    pose = read_pose(a, b, cfg)
    if pose.frontal:
        session._recent_widths.append(a.face_width_frac)
    pin_frontal(session, a, rgb, index)

    current = session.current
    _count_off_challenge(session, pose, current)
    st = session._step
    if current is None or st is None:
        return False, INSTRUCTION_DONE if session.step_index >= len(session.steps) else INSTRUCTION_FRONTAL
    if current is Challenge.SCREEN_LIGHT:
        return advance_light(session, st, now, ts)
    if st.need_frontal:
        if not pose.frontal:
            return False, INSTRUCTION_FRONTAL
        st.need_frontal = False
        st.ref_width = float(np.median(session._recent_widths)) if session._recent_widths else a.face_width_frac

    if current is Challenge.BLINK:
        met = blink_done(st, a, b, pose.near_frontal, ts, cfg)
    else:
        met = hold_done(st, a, current, pose, cfg)
    if not met:
        return False, INSTRUCTIONS[current]
    return step_met(session, st, current, now, ts)


def _count_off_challenge(session: LivenessSession, pose: PoseReading, current: Challenge | None) -> None:
    """Count the challenges this frame shows that are not the current one (reported, never decisive)."""
    for ch, on in pose.seen.items():
        if on and ch is not current:
            session.off_challenge[ch.value] = session.off_challenge.get(ch.value, 0) + 1
