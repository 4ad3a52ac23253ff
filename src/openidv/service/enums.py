"""Vocabularies of the service stored as text: who a console user is and what a reviewer did.

They are :class:`enum.StrEnum`: a member equals its stored string, so templates and JSON see
plain text, and the ORM stores them with ``Enum(native_enum=False)`` (a VARCHAR, the values
unchanged). The case's states are :class:`openidv.service.lifecycle.CaseState`.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A console account's role: admins also publish slots, see the audit log and the outbox."""

    REVIEWER = "reviewer"
    ADMIN = "admin"


class ReviewAction(StrEnum):
    """What a reviewer does with a case in review (one ``reviews`` row each)."""

    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_RESUBMISSION = "request_resubmission"
    ESCALATE = "escalate"


class CallOutcome(StrEnum):
    """The recorded outcome of a booked video call."""

    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"
    NO_SHOW = "no_show"
