"""Moving a case through its life cycle and recording what happened to it.

:func:`transition` is the only writer of ``Case.state``: it checks the move against the
state machine (:mod:`openidv.service.lifecycle`), records a ``transition`` event and sets
the dates that follow from the new state (decision, token expiry, retention). Times are
timezone-aware UTC from ``Services.clock``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from openidv.service.lifecycle import FINAL, CaseState, check_transition
from openidv.service.orm import Case, CaseEvent
from openidv.service.services import Services


def record_event(db: Session, case: Case, actor: str, event: str, **detail: Any) -> None:
    db.add(
        CaseEvent(case_id=case.id, actor=actor, event=event, from_state=case.state, to_state=case.state, detail=detail)
    )


def transition(svc: Services, db: Session, case: Case, target: CaseState, actor: str, **detail: Any) -> None:
    current = CaseState(case.state)  # a member even before the row is reloaded
    check_transition(current, target)
    db.add(
        CaseEvent(
            case_id=case.id,
            at=svc.clock(),
            actor=actor,
            from_state=current.value,
            to_state=target.value,
            event="transition",
            detail=detail,
        )
    )
    case.state = target
    case.updated_at = svc.clock()
    if target in FINAL:
        case.decided_at = svc.clock()
    if target in TOKEN_RENEWING:
        case.expires_at = svc.clock() + timedelta(seconds=svc.settings.resubmission_ttl_s)
    case.purge_after = retention_deadline(svc, target)


#: states in which the applicant's token lives on for ``resubmission_ttl_s`` (to ask for or book a video call)
TOKEN_RENEWING = frozenset({CaseState.REJECTED, CaseState.VIDEO_CALL_REQUESTED})


def retention_deadline(svc: Services, state: CaseState) -> datetime | None:
    """When a case entering ``state`` loses its images, key and personal fields (UTC).

    Every state has a limit: ``retention_days`` after a final decision or expiry,
    ``open_case_retention_days`` after the last change of a case still open (in review,
    escalated, waiting for a video call or a resubmission). An erased case has nothing left.
    """
    if state is CaseState.ERASED:
        return None
    days = svc.settings.retention_days if state in FINAL else svc.settings.open_case_retention_days
    return svc.clock() + timedelta(days=days)
