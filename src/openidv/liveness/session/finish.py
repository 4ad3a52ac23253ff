"""Closing a session: its checks, the decision, the evidence frames."""

from __future__ import annotations

import logging
import time
from typing import cast

import numpy as np

from openidv.checks import CheckResult, Severity, Status
from openidv.decision.severity import severity_of
from openidv.liveness.session.checks import check_challenges, check_quality, check_same_person, check_single_face
from openidv.liveness.session.config import CHECK_PAD
from openidv.liveness.session.frames import FrameSequence
from openidv.liveness.session.state import LivenessSession
from openidv.liveness.types import Decision, LivenessReport

log = logging.getLogger(__name__)


def decide(checks: list[CheckResult]) -> tuple[Decision, float]:
    """The session decision and score from its checks (see the module docstring).

    Checks whose severity is ``advisory`` are ignored. Any mandatory fail -> not_live;
    every mandatory check passes -> live; otherwise (or no mandatory check) inconclusive.
    The score is the lowest score among the mandatory checks (0 when none has one).
    """
    mandatory = [c for c in checks if severity_of(c.name, c.reason) is not Severity.ADVISORY]
    scores = [float(c.score) for c in mandatory if c.score is not None]
    score = float(np.clip(min(scores), 0.0, 1.0)) if scores else 0.0
    if any(c.status is Status.FAIL for c in mandatory):
        return Decision.NOT_LIVE, score
    if mandatory and all(c.status is Status.PASS for c in mandatory):
        return Decision.LIVE, score
    return Decision.INCONCLUSIVE, score


def evidence_frames(session: LivenessSession, limit: int = 6) -> list[tuple[int, float, bytes | np.ndarray]]:
    """Frames worth keeping for a human reviewer: the first one with a face, then the frame at
    which each challenge was met, then evenly spaced others, up to ``limit``.

    Returns ``(index, client timestamp s, frame)`` with the frame as it came (JPEG bytes or
    an RGB array). Call before :func:`finish`, which releases the pixels.
    """
    n = len(session._stored)
    if n == 0 or limit <= 0:
        return []
    chosen: list[int] = []
    first = next((i for i, a in enumerate(session.analyses) if a.face_found), 0)
    chosen.append(first)
    by_ts = {a.timestamp: i for i, a in enumerate(session.analyses)}
    for step in session.steps:
        if step.met_at is not None and (i := by_ts.get(step.met_at)) is not None and i not in chosen:
            chosen.append(i)
    for i in np.linspace(0, n - 1, num=limit).round().astype(int).tolist():
        if len(chosen) >= limit:
            break
        if i not in chosen:
            chosen.append(i)
    chosen = sorted(chosen[:limit])
    return [(i, session.analyses[i].timestamp, session._stored[i]) for i in chosen]


def finish(session: LivenessSession, *, now: float) -> LivenessReport:
    """Close the session and decide. Never raises; calling it again returns the same report."""
    if session.report is not None:
        return session.report
    t0 = time.perf_counter()
    try:
        report = _finish(session, now)
    except Exception as exc:  # last resort: the engine must always answer
        log.exception("liveness finish failed")
        check = CheckResult("liveness_engine", Status.INCONCLUSIVE, "internal_error", detail=str(exc))
        report = LivenessReport(session.session_id, Decision.INCONCLUSIVE, 0.0, [check], n_frames=len(session.analyses))
    finally:
        session.close()
    report.timings_ms["finish"] = (time.perf_counter() - t0) * 1000.0
    session.report = report
    session._stored = []  # the pixels are no longer needed
    session.stored_bytes = 0
    return report


def _finish(session: LivenessSession, now: float) -> LivenessReport:
    timings: dict[str, float] = {}
    if session.analyse_ms:
        ms = np.asarray(session.analyse_ms)
        timings.update(
            analyse_median=float(np.median(ms)), analyse_p95=float(np.percentile(ms, 95)), analyse_max=float(ms.max())
        )
    checks = [check_challenges(session, now), check_single_face(session)]
    t = time.perf_counter()
    checks.append(check_same_person(session))
    timings["same_person"] = (time.perf_counter() - t) * 1000.0
    checks.append(check_quality(session))
    t = time.perf_counter()
    checks.extend(_pad_checks(session))
    timings["presentation_attack"] = (time.perf_counter() - t) * 1000.0
    decision, score = decide(checks)
    selfie = session._selfie
    return LivenessReport(
        session_id=session.session_id,
        decision=decision,
        score=score,
        checks=checks,
        selfie=None if selfie is None else selfie.rgb,
        selfie_index=None if selfie is None else selfie.index,
        timings_ms=timings,
        n_frames=len(session.analyses),
    )


def _pad_checks(session: LivenessSession) -> list[CheckResult]:
    """The presentation-attack checks over the kept frames (openidv.liveness.pad)."""
    try:
        from openidv.liveness.pad import sequence_checks
    except ImportError as exc:
        detail = f"the presentation-attack checks are not available: {exc}"
        return [CheckResult(CHECK_PAD, Status.INCONCLUSIVE, "not_available", None, detail)]
    if not session.analyses:
        return [CheckResult(CHECK_PAD, Status.INCONCLUSIVE, "no_frames", None, "no frame to examine")]
    frames = FrameSequence(session._stored)
    try:
        # the checks index and slice ``frames`` like a list; FrameSequence decodes lazily
        results = list(
            sequence_checks(
                cast(list[np.ndarray], frames),
                list(session.analyses),
                list(session.steps),
                nonce=session.nonce,
                light=session.light_record(),
            )
        )
    except Exception as exc:  # a failing check module must not take the report down
        log.exception("presentation-attack checks failed")
        return [CheckResult(CHECK_PAD, Status.INCONCLUSIVE, "check_error", None, f"{type(exc).__name__}: {exc}")]
    if not results:
        return [CheckResult(CHECK_PAD, Status.INCONCLUSIVE, "not_available", None, "no presentation-attack check ran")]
    return results
