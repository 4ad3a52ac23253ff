"""The reviewers' use cases: the queue, claiming, looking at a case, deciding, video calls.

Every view of a case's images and every action is written to the audit log. A case must
be claimed before it is decided, so two reviewers do not work the same case; escalated
cases wait for an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openidv.checks import Severity
from openidv.decision.severity import severity_of
from openidv.document.codes import is_review_signal
from openidv.service import cases, messages
from openidv.service.auth import ForbiddenError, audit
from openidv.service.db import as_utc
from openidv.service.decisions import decide_case
from openidv.service.enums import CallOutcome, ReviewAction, Role
from openidv.service.errors import ConflictError, NotFoundError, UnprocessableError
from openidv.service.i18n import N_
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Case, Review, User, VideoSlot
from openidv.service.services import Services

ACTIONS = tuple(ReviewAction)
CALL_OUTCOMES = tuple(CallOutcome)
#: bounds on what reviewers and admins type (characters) and on published slots
MAX_NOTE_CHARS = 2000
MAX_SELLER_MESSAGE_CHARS = 1000
SLOT_MINUTES = (5, 120)
SLOT_HORIZON = timedelta(days=365)
#: states a reviewer claims a case in: awaiting review, or waiting for its video call
CLAIMABLE = frozenset({CaseState.IN_REVIEW, CaseState.VIDEO_CALL_REQUESTED})
#: reason codes a reviewer can give for a rejection (the seller sees their plain-language text)
REJECT_REASONS = messages.REJECT_REASONS


@dataclass(frozen=True)
class QueueFilters:
    document_type: str | None = None
    recommendation: str | None = None  #: approve / reject / review
    failed_check: str | None = None  #: a check name that failed or was inconclusive


def failed_checks(case: Case) -> list[str]:
    """The checks that failed or were inconclusive, review signals and ``advisory`` checks aside."""
    out: list[str] = []
    for part in ("document", "liveness", "face_match"):
        for c in (case.reports.get(part) or {}).get("checks", []):
            name, status, reason = c["name"], c["status"], c["reason"]
            signal = is_review_signal(name, status, reason) or severity_of(name, reason) is Severity.ADVISORY
            if status != "pass" and not signal:
                out.append(name)
    return out


def queue(db: Session, user: User, filters: QueueFilters, now: datetime) -> list[dict[str, Any]]:
    """Cases awaiting review, oldest submission first, with the time left before their deadline."""
    rows = db.scalars(select(Case).where(Case.state == CaseState.IN_REVIEW).order_by(Case.submitted_at, Case.id)).all()
    out = []
    for case in rows:
        rec = (case.recommendation or {}).get("outcome")
        fails = failed_checks(case)
        if filters.document_type and case.document_type != filters.document_type:
            continue
        if filters.recommendation and rec != filters.recommendation:
            continue
        if filters.failed_check and filters.failed_check not in fails:
            continue
        due = as_utc(case.review_due_at) if case.review_due_at else None
        out.append(
            {
                "case": case,
                "recommendation": rec,
                "failed": fails,
                "hours_left": None if due is None else (due - now).total_seconds() / 3600.0,
                "overdue": due is not None and due < now,
            }
        )
    return out


def get_case(db: Session, case_id: str) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise NotFoundError("no such case")
    return case


def _check_texts(internal_note: str, seller_message: str) -> None:
    if len(internal_note) > MAX_NOTE_CHARS:
        raise UnprocessableError(f"the note is limited to {MAX_NOTE_CHARS} characters", code="note_too_long")
    if len(seller_message) > MAX_SELLER_MESSAGE_CHARS:
        raise UnprocessableError(
            f"the message to the seller is limited to {MAX_SELLER_MESSAGE_CHARS} characters", code="message_too_long"
        )


def claim(svc: Services, db: Session, case: Case, user: User) -> None:
    """Hold a case awaiting review (or waiting for its video call) so only this reviewer decides it."""
    if case.state not in CLAIMABLE:
        raise ConflictError(f"the case is {case.state.replace('_', ' ')}, not awaiting review", code="not_in_review")
    if case.escalated and user.role != Role.ADMIN:
        raise ForbiddenError("this case was escalated to an admin", code="escalated")
    if case.assigned_to and case.assigned_to != user.name:
        raise ConflictError(f"{case.assigned_to} is working on this case", code="claimed_by_other")
    case.assigned_to = user.name
    case.claimed_at = svc.clock()
    audit(db, user.name, "claim", case.id)


def assign(svc: Services, db: Session, case: Case, admin: User, reviewer_name: str) -> None:
    """An admin hands a case to a named reviewer (or admin), replacing any claim."""
    require_admin(admin)
    if case.state != CaseState.IN_REVIEW:
        raise ConflictError(f"the case is {case.state.replace('_', ' ')}, not awaiting review", code="not_in_review")
    target = db.scalar(select(User).where(User.name == reviewer_name, User.disabled.is_(False)))
    if target is None:
        raise UnprocessableError(f"no active user named {reviewer_name!r}", code="unknown_user")
    if case.escalated and target.role != Role.ADMIN:
        raise ConflictError("an escalated case can only go to an admin", code="escalated")
    audit(db, admin.name, "assign", case.id, to=target.name, was=case.assigned_to)
    case.assigned_to = target.name
    case.claimed_at = svc.clock()


def release(svc: Services, db: Session, case: Case, user: User) -> None:
    if case.assigned_to != user.name and user.role != Role.ADMIN:
        raise ConflictError("only the reviewer holding the case (or an admin) can release it", code="not_yours")
    audit(db, user.name, "release", case.id, was=case.assigned_to)
    case.assigned_to = None
    case.claimed_at = None


def decide(
    svc: Services,
    db: Session,
    case: Case,
    user: User,
    *,
    action: str,
    reason_codes: list[str],
    internal_note: str,
    seller_message: str,
    resubmit_step: str | None,
) -> None:
    """Approve, reject (with reasons), request a step again, or escalate to an admin.

    ``action`` is a :class:`ReviewAction` value as the console's form sends it.
    """
    if action not in ACTIONS:
        raise UnprocessableError(f"action must be one of {', '.join(ACTIONS)}", code="bad_action")
    kind = ReviewAction(action)
    _check_texts(internal_note, seller_message)
    if case.state != CaseState.IN_REVIEW:
        raise ConflictError(f"the case is {case.state.replace('_', ' ')}, not awaiting review", code="not_in_review")
    if case.assigned_to != user.name:
        raise ConflictError("claim the case before deciding it", code="not_claimed")
    if case.escalated and user.role != Role.ADMIN:
        raise ForbiddenError("this case was escalated to an admin", code="escalated")
    unknown = [r for r in reason_codes if r not in REJECT_REASONS]
    if unknown:
        raise UnprocessableError(f"unknown reason codes: {', '.join(unknown)}", code="bad_reason")
    if kind is ReviewAction.REJECT and not reason_codes:
        raise UnprocessableError("a rejection needs at least one reason", code="reason_required")
    if kind is ReviewAction.REQUEST_RESUBMISSION and resubmit_step not in cases.steps_for(case):
        raise UnprocessableError("name the step the seller must redo", code="step_required")
    db.add(
        Review(
            case_id=case.id,
            reviewer=user.name,
            action=kind,
            reason_codes=reason_codes,
            internal_note=internal_note or None,
            seller_message=seller_message or None,
            resubmit_step=resubmit_step if kind is ReviewAction.REQUEST_RESUBMISSION else None,
            system_outcome=(case.recommendation or {}).get("outcome"),
            at=svc.clock(),
        )
    )
    audit(db, user.name, kind, case.id, reasons=reason_codes, step=resubmit_step)
    actor = f"reviewer:{user.name}"
    if kind is ReviewAction.ESCALATE:
        case.escalated = True
        case.assigned_to = None
        cases.record_event(db, case, actor, "escalated", note=internal_note)
        return
    if kind is ReviewAction.APPROVE:
        decide_case(svc, db, case, CaseState.APPROVED, actor, reasons=[], seller_message=seller_message or None)
    elif kind is ReviewAction.REJECT:
        message, target = seller_message or messages.rejection_message(reason_codes), CaseState.REJECTED
        detail = {"reasons": reason_codes}
        decide_case(svc, db, case, target, actor, reasons=reason_codes, seller_message=message, detail=detail)
    else:
        assert resubmit_step is not None
        request_resubmission(svc, db, case, resubmit_step, actor, seller_message)


def request_resubmission(svc: Services, db: Session, case: Case, step: str, actor: str, seller_message: str) -> None:
    """Send the seller back to redo one step; the step's earlier captures stop counting."""
    case.resubmit_step = step
    message = seller_message or messages.retake_message(step)
    reasons = list(case.decision_reasons)  # a step sent back keeps the reasons it had
    target = CaseState.RESUBMISSION_REQUESTED
    decide_case(svc, db, case, target, actor, reasons=reasons, seller_message=message, detail={"step": step})
    case.expires_at = svc.clock() + timedelta(seconds=svc.settings.resubmission_ttl_s)
    for capture in case.captures:
        if capture.step == step:
            capture.superseded = True
    reports = cases.full_reports(svc, case)
    reports.pop("face_match", None)
    reports.pop("liveness" if step == cases.LIVENESS else "document", None)
    cases.set_reports(svc, case, reports)
    case.assigned_to = None


def view_image(svc: Services, db: Session, case: Case, blob_id: str, user: User) -> tuple[bytes, str]:
    blob = next((b for b in case.blobs if b.id == blob_id), None)
    if blob is None:
        raise NotFoundError("no such image")
    data = cases.read_blob(svc, case, blob)
    audit(db, user.name, "view_image", case.id, blob=blob.id, kind=blob.kind)
    return data, blob.media_type


# --------------------------------------------------------------------------- video calls


def publish_slot(svc: Services, db: Session, user: User, starts_at: datetime, duration_min: int) -> VideoSlot:
    """A new free slot: in the future (at most a year ahead), 5-120 minutes long; admins only."""
    if user.role != Role.ADMIN:
        raise ForbiddenError("only admins publish video-call slots")
    if starts_at <= svc.clock():
        raise UnprocessableError("a slot must start in the future", code="slot_in_past")
    if starts_at > svc.clock() + SLOT_HORIZON:
        raise UnprocessableError("a slot must start within a year", code="slot_too_far")
    if not SLOT_MINUTES[0] <= duration_min <= SLOT_MINUTES[1]:
        raise UnprocessableError(f"a call lasts {SLOT_MINUTES[0]}-{SLOT_MINUTES[1]} minutes", code="bad_duration")
    slot = VideoSlot(starts_at=starts_at, duration_min=duration_min, created_by=user.name)
    db.add(slot)
    audit(db, user.name, "publish_slot", starts_at=starts_at.isoformat(), duration_min=duration_min)
    return slot


def open_slots(svc: Services, db: Session) -> list[VideoSlot]:
    return list(
        db.scalars(
            select(VideoSlot)
            .where(VideoSlot.case_id.is_(None), VideoSlot.starts_at > svc.clock())
            .order_by(VideoSlot.starts_at)
        ).all()
    )


def booking_of(db: Session, case: Case) -> VideoSlot | None:
    return db.scalar(select(VideoSlot).where(VideoSlot.case_id == case.id))


def book_slot(svc: Services, db: Session, case: Case, slot_id: int) -> VideoSlot:
    if case.state != CaseState.VIDEO_CALL_REQUESTED:
        raise ConflictError(N_("ask for a video call first"), code="not_video_call")
    slot = db.get(VideoSlot, slot_id)
    if slot is None or slot.case_id not in (None, case.id) or as_utc(slot.starts_at) <= svc.clock():
        raise ConflictError(N_("that time is no longer available; please pick another"), code="slot_taken")
    previous = booking_of(db, case)
    if previous is not None and previous.id != slot.id:
        previous.case_id = None
        previous.booked_at = None
    slot.case_id = case.id
    slot.booked_at = svc.clock()
    cases.record_event(db, case, "applicant", "video_call_booked", slot=slot.id, starts_at=slot.starts_at.isoformat())
    return slot


def _check_call(svc: Services, slot: VideoSlot, case: Case, user: User) -> None:
    """Only the reviewer holding the case (or an admin) records a call, once, and not before it starts."""
    if slot.outcome is not None:
        raise ConflictError("this call's outcome is recorded already", code="outcome_recorded")
    if case.assigned_to != user.name and user.role != Role.ADMIN:
        raise ForbiddenError("claim the case before recording its call", code="not_claimed")
    if svc.clock() < as_utc(slot.starts_at):
        raise ConflictError("the call has not started yet", code="call_not_started")


def record_call_outcome(
    svc: Services, db: Session, slot: VideoSlot, user: User, outcome: str, note: str, seller_message: str = ""
) -> None:
    """The outcome of a booked call: ``note`` is internal, ``seller_message`` is what the seller reads."""
    if outcome not in CALL_OUTCOMES:
        raise UnprocessableError("outcome must be verified, not_verified or no_show", code="bad_outcome")
    result = CallOutcome(outcome)
    _check_texts(note, seller_message)
    if slot.case_id is None:
        raise ConflictError("nobody booked this slot", code="not_booked")
    case = get_case(db, slot.case_id)
    _check_call(svc, slot, case, user)
    slot.outcome, slot.outcome_note, slot.outcome_by, slot.outcome_at = outcome, note or None, user.name, svc.clock()
    slot.outcome_seller_message = seller_message or None
    audit(db, user.name, f"video_call_{outcome}", case.id, slot=slot.id)
    actor = f"reviewer:{user.name}"
    if result is CallOutcome.NO_SHOW:
        cases.record_event(db, case, actor, "video_call_no_show", slot=slot.id)
        return
    case.assigned_to, case.claimed_at = None, None
    if result is CallOutcome.VERIFIED:
        reasons, target, message = list(case.decision_reasons), CaseState.APPROVED, seller_message or None
    else:
        reasons, target = ["video_call_not_verified"], CaseState.REJECTED
        message = seller_message or messages.VIDEO_CALL_NOT_VERIFIED
    decide_case(svc, db, case, target, actor, reasons=reasons, seller_message=message, detail={"via": "video_call"})


def require_admin(user: User) -> None:
    if user.role != Role.ADMIN:
        raise ForbiddenError("admins only")
