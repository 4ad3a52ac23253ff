"""Crypto-shredding and erasure: a case's images, key and personal fields are destroyed.

:func:`shred` is shared by the retention purge and by erasure on request. It deletes the
ciphertext files, **destroys the wrapped data key** (so a backup of the blobs or of the
database taken earlier no longer decrypts: the images and the sealed reports were
encrypted under that key only), and clears every personal field kept in plaintext: the
contact email (case and video-call request), the seller's and reviewers' free-text
messages and notes, and the case's outbox messages (their text and recipient).

What stays: the case id, its states and times, the public view of the reports (check
names, statuses, reasons, scores: :mod:`openidv.service.personal`), the decision's reason
codes and the audit trail. :func:`erase` also drops the integrator's reference, moves the
case to ``erased`` whatever its state, and writes an audit record of who erased it, when
and why.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openidv.service import reuse
from openidv.service.auth import audit
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Case, Handoff, OutboxMessage, VideoCallRequest, VideoSlot
from openidv.service.personal import public_recommendation, public_view
from openidv.service.services import Services
from openidv.service.transitions import transition

ERASED_RECIPIENT = "(erased)"


def _clear_messages(db: Session, case: Case) -> None:
    """Free text that may name the seller: reviewers' notes and messages, video-call notes, outbox text."""
    for review in case.reviews:
        review.internal_note = None
        review.seller_message = None
    for event in case.events:
        if "note" in (event.detail or {}):
            event.detail = {k: v for k, v in event.detail.items() if k != "note"}
    for slot in db.scalars(select(VideoSlot).where(VideoSlot.case_id == case.id)):
        slot.outcome_note = None
        slot.outcome_seller_message = None
    for request in db.scalars(select(VideoCallRequest).where(VideoCallRequest.case_id == case.id)):
        request.contact_email = None
    for message in db.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)):
        message.recipient = ERASED_RECIPIENT
        message.payload = {"content_dropped": True}
        if message.status == "pending":  # nothing is sent about a shredded case
            message.status, message.last_error = "dead", "the case's personal data was deleted"


def shred(svc: Services, db: Session, case: Case) -> int:
    """Destroy ``case``'s images, data key, personal fields, document fingerprint and phone links (the caller
    commits); returns the blobs deleted."""
    now = svc.clock()
    svc.blobs.delete_case(case.id)
    deleted = 0
    for blob in case.blobs:
        svc.runtime.sides.pop(blob.id)
        if blob.deleted_at is None:
            blob.deleted_at = now
            deleted += 1
    svc.runtime.end_liveness(case.id)
    case.wrapped_data_key = None
    case.sealed_reports = None
    case.reports = public_view(case.reports or {})  # a report stored before sealing loses its fields here
    case.recommendation = public_recommendation(case.recommendation or {})
    case.contact_email = None
    case.seller_message = None
    case.purged_at = case.purged_at or now
    _clear_messages(db, case)
    reuse.erase(db, case.id)  # the document's keyed fingerprint goes with the case
    db.execute(delete(Handoff).where(Handoff.case_id == case.id))  # a pending phone link holds the case token
    return deleted


def erase(svc: Services, db: Session, case: Case, *, actor: str, reason: str = "") -> dict[str, object]:
    """Erase ``case`` on request, in any state: shred it, drop the integrator's reference, state ``erased``.

    Erasing an erased case changes nothing. A minimal audit record stays: who, when, the
    state the case was in, how many images were deleted and the reason given.
    """
    if case.state == CaseState.ERASED:
        return {"case_id": case.id, "state": case.state, "images_deleted": 0, "already_erased": True}
    was = case.state
    deleted = shred(svc, db, case)
    case.external_ref = None
    if case.assigned_to is not None:
        case.assigned_to, case.claimed_at = None, None
    for slot in db.scalars(select(VideoSlot).where(VideoSlot.case_id == case.id, VideoSlot.outcome.is_(None))):
        slot.case_id, slot.booked_at = None, None  # a booked call that will not happen frees its slot
    transition(svc, db, case, CaseState.ERASED, actor, images_deleted=deleted)
    audit(db, actor, "erase_case", case.id, was=was, images_deleted=deleted, reason=reason[:200])
    return {"case_id": case.id, "state": case.state, "images_deleted": deleted, "already_erased": False}
