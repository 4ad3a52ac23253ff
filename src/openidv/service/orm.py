"""SQLAlchemy 2 tables. The same schema runs on SQLite and PostgreSQL (Alembic migrations).

Nothing biometric is stored here: no face embedding, no image bytes. Images live
encrypted in the blob store; this database keeps their ids, kinds, key ids and sizes,
the reports (fields, checks, scores, reason codes) and the audit trail.
Times are timezone-aware UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from openidv.service.enums import ReviewAction, Role
from openidv.service.lifecycle import CaseState


def text_enum(enum: type[StrEnum], length: int) -> Enum:
    """A StrEnum stored as VARCHAR(``length``) holding its values (not its names); no CHECK
    constraint and no database enum type, so the columns keep the schema of the migrations."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: SHA-256 of the applicant's bearer token (cookie and /status/<token>); the token itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    #: SHA-256 of the read-only status token (the ``/status/<token>`` link); derived from the case token
    status_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    state: Mapped[CaseState] = mapped_column(text_enum(CaseState, 32), index=True)
    channel: Mapped[str] = mapped_column(String(64))  #: "web" or "api:<key name>"
    external_ref: Mapped[str | None] = mapped_column(String(200))  #: integrator's reference (API: ``reference``)
    #: where the applicant goes back to after submit or declining (on the API key's allow-list)
    return_url: Mapped[str | None] = mapped_column(String(2000))
    document_type: Mapped[str | None] = mapped_column(String(32))
    eligibility: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None] = mapped_column()
    key_id: Mapped[str] = mapped_column(String(64))  #: master key that wraps the data key
    #: the case's data key wrapped by the master key; None once destroyed (purge or erasure: crypto-shredding)
    wrapped_data_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    #: engine reports without personal data (JSON): {"document": ..., "liveness": ..., "face_match": ...}:
    #: checks' names, statuses, reasons and scores, never field values (see :mod:`openidv.service.personal`)
    reports: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: the full reports (fields read, check details) as JSON encrypted under the case's data key
    sealed_reports: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: the decision policy's output: {"outcome", "reasons", "mode", "policy_version"}
    recommendation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: the final decision and what the seller is told
    decision: Mapped[str | None] = mapped_column(String(32))
    decision_reasons: Mapped[list[Any]] = mapped_column(default=list)
    seller_message: Mapped[str | None] = mapped_column(Text)
    resubmit_step: Mapped[str | None] = mapped_column(String(32))
    purge_after: Mapped[datetime | None] = mapped_column(index=True)
    purged_at: Mapped[datetime | None] = mapped_column()
    #: where the seller is told of the decision
    contact_email: Mapped[str | None] = mapped_column(String(320))
    #: the applicant's page language (``i18n.Language`` code), used for the seller's emails
    language: Mapped[str | None] = mapped_column(String(8))
    #: review: who holds the case, since when, and by when it must be decided
    assigned_to: Mapped[str | None] = mapped_column(String(100), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column()
    review_due_at: Mapped[datetime | None] = mapped_column(index=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)

    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    reviews: Mapped[list[Review]] = relationship(back_populates="case", order_by="Review.id")
    blobs: Mapped[list[Blob]] = relationship(back_populates="case", order_by="Blob.created_at")
    captures: Mapped[list[Capture]] = relationship(back_populates="case", order_by="Capture.id")


class CaseEvent(Base):
    """One state transition (or other recorded event) of a case."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[Case] = relationship(back_populates="events")


class Blob(Base):
    """An encrypted image in the blob store (``<data_dir>/blobs/<case>/<id>.bin``)."""

    __tablename__ = "blobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  #: document_front, document_back, selfie, liveness_frame, portrait
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)  #: ciphertext bytes
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()

    case: Mapped[Case] = relationship(back_populates="blobs")


class Capture(Base):
    """One capture attempt of one step, with the quick check's verdict."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(32))  #: document_front, document_back, passport_page, liveness
    attempt: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: a reviewer asked for this step again: this attempt no longer counts (kept for the record)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship(back_populates="captures")


class ApiKey(Base):
    """A server-to-server API key; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    #: decisions are POSTed here, signed with HMAC-SHA256 under ``webhook_secret`` (stored wrapped)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_key_id: Mapped[str | None] = mapped_column(String(64))
    webhook_secret_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: URL prefixes this key's cases may send applicants back to (``openidv apikey return-urls``)
    return_urls: Mapped[list[Any] | None] = mapped_column(JSON)


class DocumentFingerprint(Base):
    """A keyed HMAC of a case's (issuer, document number), to notice one document used in several cases.

    No biometric data and no readable number: ``digest`` is HMAC-SHA256 under a key derived from
    master key ``key_id`` (see :mod:`openidv.service.reuse`). Deleted with its case.
    """

    __tablename__ = "document_fingerprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True, index=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)  #: hex HMAC-SHA256
    key_id: Mapped[str] = mapped_column(String(64))  #: the master key the HMAC key was derived from
    source: Mapped[str] = mapped_column(String(16))  #: barcode or mrz
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Handoff(Base):
    """A single-use link (QR code) that opens a case on another device, e.g. the applicant's phone.

    Only the SHA-256 of the link's token is stored. ``case_token_sealed`` is the case's bearer token
    encrypted under the case's data key (AES-GCM, associated data ``openidv:handoff:<case>:<id>``),
    so that the phone can join the same case; it is wiped when the link is used or expires.
    """

    __tablename__ = "handoffs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    case_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class VideoCallRequest(Base):
    """A request for an in-person video call instead of the biometric flow."""

    __tablename__ = "video_call_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(64))  #: declined_biometrics, attempts_exhausted, rejected
    contact_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A reviewer or admin. Passwords are argon2id hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[Role] = mapped_column(text_enum(Role, 16))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginSession(Base):
    """A reviewer's login; only the SHA-256 of the cookie value is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  #: SHA-256 of the session cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()

    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """Who did or saw what, when: every view of a case's images and every reviewer action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Review(Base):
    """A reviewer's decision on a case, with the system's recommendation at that moment."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    action: Mapped[ReviewAction] = mapped_column(text_enum(ReviewAction, 32))
    reason_codes: Mapped[list[Any]] = mapped_column(default=list)
    internal_note: Mapped[str | None] = mapped_column(Text)
    seller_message: Mapped[str | None] = mapped_column(Text)
    resubmit_step: Mapped[str | None] = mapped_column(String(32))
    system_outcome: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="reviews")


class OutboxMessage(Base):
    """A notification to deliver (email to the seller, webhook to the integrator).

    Written in the same transaction as the decision, delivered by the background worker,
    retried with backoff; a restart loses nothing because the row is the queue.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))  #: email, webhook
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    recipient: Mapped[str] = mapped_column(String(2000))  #: email address or webhook URL
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  #: pending, sent, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class Delivery(Base):
    """One delivery attempt of an outbox message (the delivery log)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    attempt: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")  #: HTTP status / SMTP reply / error


class VideoSlot(Base):
    """A video-call slot an admin publishes; a seller books it; a reviewer records the outcome."""

    __tablename__ = "video_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    duration_min: Mapped[int] = mapped_column(Integer, default=15)
    created_by: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    booked_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(32))  #: verified, not_verified, no_show
    outcome_note: Mapped[str | None] = mapped_column(Text)  #: internal: reviewers only
    outcome_seller_message: Mapped[str | None] = mapped_column(Text)  #: what the seller is told
    outcome_by: Mapped[str | None] = mapped_column(String(100))
    outcome_at: Mapped[datetime | None] = mapped_column()
