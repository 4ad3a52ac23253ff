"""Cross-device handoff: continue a case on the phone by scanning a QR code.

On a capture step the desktop asks for a handoff (:func:`create`): a random single-use token,
valid :data:`TTL_S` seconds, bound to the case. The QR code (``segno``) and the short link carry
``<public base>/h/<token>``. Opening it (:func:`redeem`) marks the handoff used and gives the
phone the case's own bearer token (kept sealed under the case's data key until then, wiped
after), so both devices work on one case; the desktop polls the case's status and moves to the
pending page when the phone submits. A used, expired or unknown token gets
:class:`HandoffUnusableError` with the reason, rendered as a plain page.

A case has at most one live link: a new one replaces the earlier ones (their sealed tokens are wiped
at once; opening one says it was replaced), and a case gets at most :data:`MAX_LINKS_PER_CASE` links.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from openidv.service import crypto
from openidv.service.db import as_utc
from openidv.service.errors import ConflictError, ServiceError
from openidv.service.i18n import N_
from openidv.service.lifecycle import OPEN_FOR_CAPTURE
from openidv.service.orm import Case, Handoff, new_id

if TYPE_CHECKING:
    from openidv.service.services import Services

#: a handoff link is valid this long, seconds
TTL_S = 600
#: links a case may be given in all (each new one replaces the one before)
MAX_LINKS_PER_CASE = 10
PATH = "/h/"


class Unusable(StrEnum):
    """Why a handoff link no longer opens the case."""

    USED = "used"
    EXPIRED = "expired"
    REPLACED = "replaced"
    UNKNOWN = "unknown"
    CASE_CLOSED = "case_closed"


class HandoffUnusableError(ServiceError):
    """The link cannot be used (410); ``reason`` says why, for the page."""

    status = 410
    code = "handoff_unusable"

    def __init__(self, reason: Unusable) -> None:
        super().__init__(N_("this link cannot be used ({reason})"), params={"reason": reason.value})
        self.reason = reason


def _aad(case_id: str, handoff_id: str) -> bytes:
    return f"openidv:handoff:{case_id}:{handoff_id}".encode()


def create(svc: Services, db: Session, case: Case, case_token: str) -> str:
    """A new handoff for ``case`` (which must take captures); returns the link's token."""
    from openidv.service.cases import data_key, token_hash

    if case.state not in OPEN_FOR_CAPTURE:
        raise ConflictError(N_("this verification is not at a capture step"), code="not_capturing")
    earlier = list(db.scalars(select(Handoff).where(Handoff.case_id == case.id)))
    if len(earlier) >= MAX_LINKS_PER_CASE:
        raise ConflictError(
            N_("this verification has had {count} phone links, the most it can have; continue on this computer"),
            code="handoff_limit",
            params={"count": MAX_LINKS_PER_CASE},
        )
    for old in earlier:  # the new link replaces them: none of them opens the case any more
        old.case_token_sealed = None
    token = secrets.token_urlsafe(24)
    handoff = Handoff(
        id=new_id(),
        case_id=case.id,
        token_hash=token_hash(token),
        created_at=svc.clock(),
        expires_at=svc.clock() + timedelta(seconds=TTL_S),
    )
    handoff.case_token_sealed = crypto.encrypt(data_key(svc, case), case_token.encode(), _aad(case.id, handoff.id))
    db.add(handoff)
    from openidv.service.cases import record_event

    record_event(db, case, "applicant", "handoff_created", handoff=handoff.id)
    return token


def _unusable(svc: Services, handoff: Handoff, case: Case | None) -> Unusable | None:
    """Why ``handoff`` cannot open ``case`` now; None when it can."""
    if handoff.used_at is not None:
        return Unusable.USED
    if svc.clock() >= as_utc(handoff.expires_at):
        return Unusable.EXPIRED
    if case is None or case.state not in OPEN_FOR_CAPTURE:
        return Unusable.CASE_CLOSED
    if handoff.case_token_sealed is None:  # wiped by nothing else: a newer link replaced this one
        return Unusable.REPLACED
    return None


def redeem(svc: Services, db: Session, token: str) -> tuple[Case, str]:
    """Use the link once: the case and its bearer token (for the phone's cookie)."""
    from openidv.service.cases import data_key, token_hash

    handoff = db.scalar(select(Handoff).where(Handoff.token_hash == token_hash(token))) if token else None
    if handoff is None:
        raise HandoffUnusableError(Unusable.UNKNOWN)
    case = db.get(Case, handoff.case_id)
    reason = _unusable(svc, handoff, case)
    if reason is not None:
        handoff.case_token_sealed = None
        db.commit()  # the wipe stands although the request fails
        raise HandoffUnusableError(reason)
    sealed = handoff.case_token_sealed
    assert case is not None and sealed is not None  # _unusable said so
    handoff.used_at, handoff.case_token_sealed = svc.clock(), None
    return case, crypto.decrypt(data_key(svc, case), sealed, _aad(case.id, handoff.id)).decode()


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code (error correction M, 4 px modules, quiet zone of 4)."""
    return str(segno.make(url, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff"))
