"""One way to decide a case: :func:`decide_case`.

A decision (approve, reject, or send a step back to the seller) is made by the policy in
``auto`` mode at submit, by a reviewer, or after a video call. All three go through
:func:`decide_case`: it makes the state transition, writes the decision fields, records a
``case_decided`` event and hands the :class:`CaseDecided` event to each of
:data:`DECISION_HANDLERS` in the same transaction (the outbox queues the seller's email and
the integrator's webhook there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from openidv.service import notify
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Case
from openidv.service.services import Services
from openidv.service.transitions import record_event, transition

#: the states a decision leads to, and the value written to ``Case.decision`` (None: left as it is)
DECISION_STATES: dict[CaseState, str | None] = {
    CaseState.APPROVED: "approved",
    CaseState.REJECTED: "rejected",
    CaseState.RESUBMISSION_REQUESTED: None,
}


@dataclass(frozen=True)
class CaseDecided:
    """A case was decided: ``state`` is where it went, ``at`` the time (UTC)."""

    case_id: str
    state: CaseState
    actor: str  #: ``system`` or ``reviewer:<name>``
    reasons: tuple[str, ...]
    at: datetime


DecisionHandler = Callable[[Services, Session, Case, CaseDecided], None]


def _queue_notifications(svc: Services, db: Session, case: Case, event: CaseDecided) -> None:
    """The outbox's reaction: the seller's email and the integrator's webhook."""
    notify.enqueue_decision(svc, db, case)


#: what reacts to a decision, in order, inside the deciding transaction
DECISION_HANDLERS: tuple[DecisionHandler, ...] = (_queue_notifications,)


def decide_case(
    svc: Services,
    db: Session,
    case: Case,
    target: CaseState,
    actor: str,
    *,
    reasons: list[str],
    seller_message: str | None,
    detail: dict[str, Any] | None = None,
) -> CaseDecided:
    """Move ``case`` to the decision ``target`` and let the handlers react.

    ``reasons`` becomes ``Case.decision_reasons`` and ``seller_message`` ``Case.seller_message``
    (pass the case's own values to keep them); ``detail`` goes into the transition event's detail.
    Raises :class:`openidv.service.lifecycle.TransitionError` for a move the state machine forbids.
    """
    if target not in DECISION_STATES:
        raise ValueError(f"{target} is not a decision")
    transition(svc, db, case, target, actor, **(detail or {}))
    decision = DECISION_STATES[target]
    if decision is not None:
        case.decision = decision
    case.decision_reasons = reasons
    case.seller_message = seller_message
    event = CaseDecided(case.id, target, actor, tuple(reasons), svc.clock())
    record_event(db, case, actor, "case_decided", state=target.value, reasons=list(event.reasons))
    for handler in DECISION_HANDLERS:
        handler(svc, db, case, event)
    return event
