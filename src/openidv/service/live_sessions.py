"""Liveness sessions lost with their process: tell them apart, and let the applicant redo the step.

A liveness session (its face tracker and frames) lives in the memory of the web process that
started it (:mod:`.runtime`); the load balancer sends every request of a case to that process
by hashing the case id in the path (``deploy/haproxy.cfg``). When that process dies, or the
hash moves the case to another process, the next frame reaches a process that does not hold
the session. The database still shows the attempt as started (its capture says
``in_progress``), so the service can tell this apart from a frame sent before any start, and
answers 409 ``liveness_session_lost``: the applicant redoes only the liveness step.

The restart takes over the lost attempt instead of counting a new one (our crash should not
cost the applicant an attempt), at most :data:`LOST_SESSION_RESTARTS` times per attempt, so
restarting cannot become a way round the attempt limit.
"""

from __future__ import annotations

from openidv.service.errors import ConflictError
from openidv.service.i18n import N_
from openidv.service.orm import Capture, Case
from openidv.service.runtime import Runtime

LIVENESS_STEP = "liveness"
#: the reason a liveness capture carries from its start until its finish
IN_PROGRESS = "in_progress"
#: restarts after a lost session that take over the same attempt instead of counting a new one
LOST_SESSION_RESTARTS = 2
#: the key of a capture's ``result`` counting those restarts
RESTARTS_KEY = "session_restarts"
SESSION_LOST_CODE = "liveness_session_lost"
SESSION_LOST_MESSAGE = N_("the face check was interrupted; please do it again")


def open_attempt(case: Case) -> Capture | None:
    """The case's latest counting liveness attempt while it is started and not finished, else None."""
    attempts = [c for c in case.captures if c.step == LIVENESS_STEP and not c.superseded]
    if not attempts:
        return None
    latest = attempts[-1]
    return latest if not latest.accepted and list(latest.reasons or []) == [IN_PROGRESS] else None


def lost_attempt(runtime: Runtime, case: Case) -> Capture | None:
    """The open attempt whose session this process does not hold (its process died, or the case moved)."""
    attempt = open_attempt(case)
    return attempt if attempt is not None and runtime.liveness(case.id) is None else None


def _restarts(attempt: Capture) -> int:
    return int((attempt.result or {}).get(RESTARTS_KEY, 0))


def resumable(runtime: Runtime, case: Case) -> Capture | None:
    """The lost attempt a new start may take over (fewer than :data:`LOST_SESSION_RESTARTS` restarts so far)."""
    attempt = lost_attempt(runtime, case)
    if attempt is None or _restarts(attempt) >= LOST_SESSION_RESTARTS:
        return None
    return attempt


def count_restart(attempt: Capture) -> int:
    """Record one more restart of ``attempt`` after a lost session; returns the count."""
    restarts = _restarts(attempt) + 1
    attempt.result = {**(attempt.result or {}), RESTARTS_KEY: restarts}  # a new dict: the JSON column changes
    return restarts


def missing_session_error(runtime: Runtime, case: Case) -> ConflictError:
    """409 for a frame or finish this process has no session for: lost (redo the step) or never started."""
    if lost_attempt(runtime, case) is not None:
        return ConflictError(SESSION_LOST_MESSAGE, code=SESSION_LOST_CODE)
    return ConflictError(N_("no liveness session is running; start one first"), code="no_liveness_session")
