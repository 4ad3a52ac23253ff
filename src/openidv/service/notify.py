"""Decision notifications: an outbox in the database, delivered by a background worker.

A final decision (approved, rejected, resubmission requested) adds rows to ``outbox`` in the
same transaction (:func:`enqueue_decision`): an email to the seller when the case has a
contact address, and a webhook to the integrator when the case came through an API key that
has a webhook URL. The worker (:class:`OutboxWorker`, or one call of :func:`deliver_due`)
claims one due message at a time by setting ``locked_until`` in its own committed
transaction, sends it, and records the attempt in ``deliveries``. A failed attempt is retried
after ``outbox_backoff_s * 2**(attempt-1)`` seconds (at most one hour) until
``outbox_max_attempts``, then the message is ``dead``. The rows are the queue, so a restart
loses nothing; a worker that dies holding a message releases it when its lock expires
(:data:`LOCK_S`), so delivery is at least once and the webhook's ``id`` lets the receiver
drop a repeat.

Webhooks are signed like Stripe's: header ``OpenIDV-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256(secret, "<t>.<body>")>``; the receiver recomputes the HMAC over the raw body and
refuses a timestamp older than a few minutes (:func:`verify`). Payloads carry the decision and
reason codes only: no scores, checks or biometric data.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from openidv.service import crypto, egress, i18n
from openidv.service.db import as_utc
from openidv.service.errors import UnprocessableError
from openidv.service.lifecycle import CaseState
from openidv.service.messages import EMAIL_SUBJECTS, SELLER_STATUS, STEP_LABELS, localized_seller_message
from openidv.service.orm import ApiKey, Case, Delivery, OutboxMessage, new_id
from openidv.service.services import Services

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "OpenIDV-Signature"
EVENT_DECIDED = "case.decided"
#: a claimed message is locked this long (seconds); longer than one send can take (timeouts below)
LOCK_S = 60.0
#: webhook request timeout (seconds, per connect / read / write)
WEBHOOK_TIMEOUT_S = 10.0
#: SMTP socket timeout (seconds, per operation)
SMTP_TIMEOUT_S = 20.0
#: the longest retry delay (seconds)
MAX_BACKOFF_S = 3600.0
#: decisions that notify the seller and the integrator
NOTIFIED_STATES = frozenset({CaseState.APPROVED, CaseState.REJECTED, CaseState.RESUBMISSION_REQUESTED})
WEBHOOK_SECRET_BYTES = 32
_DETAIL_MAX = 500

_SUBJECTS = EMAIL_SUBJECTS


class NotifyError(Exception):
    """A notification cannot be built or sent (bad address, unknown API key, missing secret)."""


# --------------------------------------------------------------------------- signing


def sign(secret: bytes, body: bytes, t: int) -> str:
    """The ``OpenIDV-Signature`` header value for ``body`` sent at ``t`` (unix seconds)."""
    mac = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: bytes, body: bytes, header: str, now: float, tolerance_s: float = 300.0) -> bool:
    """Check a signature header against the raw ``body``.

    True when one ``v1`` value is the HMAC of ``"<t>.<body>"`` and ``t`` is within
    ``tolerance_s`` seconds of ``now`` (unix seconds), either way. Several ``v1`` values are
    allowed (a secret being rotated); malformed headers are False.
    """
    t: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if t is not None or not value.isdigit():
                return False
            t = int(value)
        elif key == "v1":
            candidates.append(value)
    if t is None or not candidates or abs(now - t) > tolerance_s:
        return False
    expected = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, c.lower()) for c in candidates)


def webhook_secret_aad(api_key_name: str) -> str:
    return f"webhook:{api_key_name}"


def set_webhook(svc: Services, db: Session, api_key: ApiKey, url: str) -> bytes:
    """Point ``api_key``'s webhook at ``url`` with a new random 32-byte secret; returns the secret.

    The secret is stored only wrapped by the current master key (associated data
    ``webhook:<key name>``); show it to the integrator once. The caller commits.
    """
    if len(url) > 2000:
        raise UnprocessableError("the webhook URL is longer than 2000 characters", code="bad_webhook_url")
    try:
        egress.check_url(url, development=svc.settings.webhook_development, unresolved_ok=True)
    except egress.EgressRefusedError as exc:
        raise UnprocessableError(f"webhook URL refused: {exc}", code="bad_webhook_url") from exc
    secret = secrets.token_bytes(WEBHOOK_SECRET_BYTES)
    wrapped = svc.keys.wrap(secret, webhook_secret_aad(api_key.name))
    api_key.webhook_url = url
    api_key.webhook_key_id = wrapped.key_id
    api_key.webhook_secret_wrapped = wrapped.wrapped
    db.add(api_key)
    return secret


def clear_webhook(api_key: ApiKey) -> None:
    """Stop webhooks for ``api_key`` (messages already queued then fail as undeliverable)."""
    api_key.webhook_url = None
    api_key.webhook_key_id = None
    api_key.webhook_secret_wrapped = None


def webhook_secret(svc: Services, api_key: ApiKey) -> bytes:
    """The unwrapped webhook secret of ``api_key``; NotifyError when none is set."""
    if api_key.webhook_key_id is None or api_key.webhook_secret_wrapped is None:
        raise NotifyError(f"API key {api_key.name!r} has no webhook secret")
    return svc.keys.unwrap(
        crypto.WrappedKey(api_key.webhook_key_id, api_key.webhook_secret_wrapped), webhook_secret_aad(api_key.name)
    )


# --------------------------------------------------------------------------- enqueue


def _email_text(svc: Services, case: Case, state: CaseState) -> str:
    """The seller's email in the case's language (``cases.language``; English when unset)."""
    language = i18n.parse_language(case.language) or i18n.DEFAULT_LANGUAGE

    def _(text: str) -> str:
        return i18n.gettext(language, text)

    base = svc.settings.public_url.rstrip("/")
    lines = [_("Hello,"), "", _(SELLER_STATUS[state][1])]
    if case.seller_message:
        reasons = list(case.decision_reasons or [])
        text = localized_seller_message(case.seller_message.strip(), reasons, case.resubmit_step, _)
        lines += ["", _("Message from our team:"), text]
    if state is CaseState.RESUBMISSION_REQUESTED:
        step = STEP_LABELS.get(case.resubmit_step or "", "")
        lines += [
            "",
            _("Please open your verification again and retake this step: {step}.").format(step=_(step))
            if step
            else _("Please open your verification again and follow the instructions."),
        ]
    lines += [
        "",
        _(
            "To see your verification, open the status link you were given when you started it "
            "(it begins with {status_url}), or open {done_url} in the browser you used for the verification. "
            "For your security this email does not contain that link."
        ).format(status_url=f"{base}/status/", done_url=f"{base}/done"),
        "",
        _("Your reference: {case_id}").format(case_id=case.id),
        "",
        _("This message was sent automatically; replies are not read."),
    ]
    return "\n".join(lines) + "\n"


def _email_subject(case: Case, state: CaseState) -> str:
    return i18n.gettext(i18n.parse_language(case.language) or i18n.DEFAULT_LANGUAGE, _SUBJECTS[state])


def _decided_at(case: Case) -> str | None:
    return as_utc(case.decided_at).isoformat() if case.decided_at is not None else None


def enqueue_decision(svc: Services, db: Session, case: Case) -> list[OutboxMessage]:
    """Queue the seller's email and the integrator's webhook for ``case``'s final decision.

    Call in the decision's transaction (the caller commits). A case in any other state queues
    nothing. Returns the messages added (none when there is no contact address and no webhook).
    """
    state = CaseState(case.state)  # a member even before the row is reloaded
    if state not in NOTIFIED_STATES:
        return []
    now = svc.clock()
    messages: list[OutboxMessage] = []
    if case.contact_email:
        messages.append(
            OutboxMessage(
                channel="email",
                case_id=case.id,
                recipient=case.contact_email.strip(),
                payload={"subject": _email_subject(case, state), "text": _email_text(svc, case, state)},
            )
        )
    if case.channel.startswith("api:"):
        name = case.channel.removeprefix("api:")
        api_key = db.scalar(select(ApiKey).where(ApiKey.name == name))
        if api_key is not None and api_key.webhook_url and api_key.revoked_at is None:
            body = {
                "event": EVENT_DECIDED,
                "id": new_id(),
                "case_id": case.id,
                "reference": case.external_ref,
                "external_ref": case.external_ref,  # older name of "reference", kept for existing receivers
                "state": case.state,
                "decision": case.decision or case.state,
                "reasons": list(case.decision_reasons or []),
                "resubmit_step": case.resubmit_step,
                "message": case.seller_message if case.seller_message else SELLER_STATUS[state][1],
                "decided_at": _decided_at(case),
            }
            messages.append(
                OutboxMessage(
                    channel="webhook",
                    case_id=case.id,
                    recipient=api_key.webhook_url,
                    payload={"api_key": name, "body": body},
                )
            )
    for message in messages:
        message.status = "pending"
        message.attempts = 0
        message.next_attempt_at = now
        message.created_at = now
        db.add(message)
    return messages


# --------------------------------------------------------------------------- claim, send, record


@dataclass(frozen=True)
class Claim:
    """A message this worker holds until ``locked_until`` (also the fencing token of the claim)."""

    message_id: int
    locked_until: datetime


@dataclass(frozen=True)
class Attempt:
    """The outcome of one send. ``permanent``: retrying cannot help (the message dies at once)."""

    ok: bool
    detail: str
    permanent: bool = False


def claim(svc: Services, *, now: datetime | None = None, due_by: datetime | None = None) -> Claim | None:
    """Lock the oldest due message for :data:`LOCK_S` seconds and commit; None when nothing is due.

    Due means ``next_attempt_at <= due_by`` (default ``now``). The lock is a conditional UPDATE
    (``pending``, due, unlocked or lock expired), so two workers never hold the same message;
    a worker that dies leaves a lock that expires.
    """
    now = now or svc.clock()
    lock = now + timedelta(seconds=LOCK_S)
    due = (
        OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= (due_by or now),
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
    )
    with svc.sessions() as db:
        ids = db.scalars(
            select(OutboxMessage.id).where(*due).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(5)
        ).all()
        for message_id in ids:
            result = db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, *due)
                .values(locked_until=lock)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) == 1:
                db.commit()
                return Claim(message_id, lock)
        db.rollback()
    return None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


def _smtp_reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return _clip(f"{code} {text}")


def build_email(svc: Services, message: OutboxMessage) -> EmailMessage:
    """The MIME message for an email outbox row (NotifyError for an unusable address)."""
    s = svc.settings
    try:
        to = Address(addr_spec=message.recipient)
        sender = Address(addr_spec=s.smtp_from)
    except (ValueError, IndexError) as exc:  # the header parser raises these for malformed addresses
        raise NotifyError(f"invalid email address: {exc}") from exc
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = str(message.payload.get("subject", "Your identity verification"))
    msg["Date"] = format_datetime(svc.clock())
    msg["Message-ID"] = make_msgid(idstring=f"outbox{message.id}", domain=sender.domain or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(str(message.payload.get("text", "")), cte="quoted-printable")
    return msg


def _send_email(svc: Services, msg: EmailMessage, sender: str, rcpt: str) -> Attempt:
    s = svc.settings
    try:
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.ehlo_or_helo_if_needed()
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=s.smtp_ca_file or None))
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
            options = [] if (sender + rcpt).isascii() else ["SMTPUTF8"]
            code, reply = smtp.mail(sender, options)
            if code != 250:
                return Attempt(False, "MAIL FROM refused: " + _smtp_reply(code, reply), permanent=code >= 500)
            code, reply = smtp.rcpt(rcpt)
            if code not in (250, 251):
                return Attempt(False, "RCPT TO refused: " + _smtp_reply(code, reply), permanent=code >= 500)
            code, reply = smtp.data(msg.as_bytes(policy=email.policy.SMTP))
            if code != 250:
                return Attempt(False, "DATA refused: " + _smtp_reply(code, reply), permanent=code >= 500)
            return Attempt(True, _smtp_reply(code, reply))
    except smtplib.SMTPResponseException as exc:  # refused STARTTLS or login, or the server hung up with a code
        return Attempt(False, "SMTP error: " + _smtp_reply(exc.smtp_code, exc.smtp_error))
    except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout, TLS failure, dropped line
        return Attempt(False, _clip(f"SMTP error: {type(exc).__name__}: {exc}"))


def webhook_body(message: OutboxMessage) -> bytes:
    """The exact bytes POSTed for a webhook outbox row (compact, sorted JSON, UTF-8)."""
    return json.dumps(message.payload["body"], separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _send_webhook(url: str, body: bytes, secret: bytes, now: datetime, development: bool) -> Attempt:
    """POST to a public address checked at connect time; only the answer's status and size are
    recorded (a receiver's body may carry anything, and admins see the delivery log)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "openidv-webhook/1",
        SIGNATURE_HEADER: sign(secret, body, int(now.timestamp())),
    }
    try:
        reply = egress.post(url, body, headers, timeout_s=WEBHOOK_TIMEOUT_S, development=development)
    except egress.EgressRefusedError as exc:
        return Attempt(False, _clip(f"refused: {exc}"))
    except httpx.HTTPError as exc:
        return Attempt(False, _clip(f"HTTP error: {type(exc).__name__}: {exc}"))
    return Attempt(reply.ok, f"HTTP {reply.status}, {reply.size} bytes")


def _prepare(svc: Services, db: Session, message: OutboxMessage, now: datetime) -> Callable[[], Attempt] | Attempt:
    """Everything the send needs, read from the database: a call that sends, or the failed attempt."""
    if message.channel == "email":
        if not svc.settings.smtp_host:
            return Attempt(False, "SMTP not configured (OPENIDV_SMTP_HOST is empty)")
        try:
            msg = build_email(svc, message)
        except NotifyError as exc:
            return Attempt(False, str(exc), permanent=True)
        sender, rcpt = svc.settings.smtp_from, message.recipient
        return lambda: _send_email(svc, msg, sender, rcpt)
    if message.channel == "webhook":
        name = str(message.payload.get("api_key", ""))
        api_key = db.scalar(select(ApiKey).where(ApiKey.name == name))
        if api_key is None or api_key.revoked_at is not None:
            return Attempt(False, f"API key {name!r} is revoked or gone", permanent=True)
        try:
            secret = webhook_secret(svc, api_key)
        except (NotifyError, crypto.CryptoError) as exc:
            return Attempt(False, f"cannot sign: {exc}", permanent=True)
        url, body, dev = message.recipient, webhook_body(message), svc.settings.webhook_development
        return lambda: _send_webhook(url, body, secret, now, dev)
    return Attempt(False, f"unknown channel {message.channel!r}", permanent=True)


def backoff_s(svc: Services, attempts: int) -> float:
    """Delay before the next try after ``attempts`` failed attempts (seconds)."""
    return float(min(MAX_BACKOFF_S, svc.settings.outbox_backoff_s * 2 ** (attempts - 1)))


def _deliver(svc: Services, held: Claim, now: datetime) -> bool:
    """Send one claimed message (no transaction open meanwhile) and record the attempt; True when delivered."""
    with svc.sessions() as db:
        message = db.get(OutboxMessage, held.message_id)
        if message is None or message.status != "pending":
            return False
        message_id, channel = message.id, message.channel
        try:
            prepared = _prepare(svc, db, message, now)
        except Exception as exc:  # a bug must not leave the message retried forever without a record
            log.exception("outbox message %s: preparing failed unexpectedly", message_id)
            prepared = Attempt(False, _clip(f"internal error: {type(exc).__name__}: {exc}"))
    if isinstance(prepared, Attempt):
        attempt = prepared
    else:
        try:
            attempt = prepared()
        except Exception as exc:
            log.exception("outbox message %s: sending failed unexpectedly", message_id)
            attempt = Attempt(False, _clip(f"internal error: {type(exc).__name__}: {exc}"))

    with svc.sessions() as db:
        message = db.get(OutboxMessage, message_id, with_for_update=True)
        if message is None:
            return False
        held_still = message.locked_until is not None and as_utc(message.locked_until) == held.locked_until
        if not held_still:
            log.warning("outbox message %s: the lock expired during the send (another worker may resend)", message_id)
        message.attempts += 1
        db.add(Delivery(message_id=message_id, at=now, attempt=message.attempts, ok=attempt.ok, detail=attempt.detail))
        if attempt.ok:
            if message.status == "pending":
                message.status = "sent"
                message.sent_at = now
                message.last_error = None
                message.locked_until = None
                message.payload = delivered_payload(message.payload)
        elif held_still and message.status == "pending":
            message.last_error = attempt.detail
            message.locked_until = None
            if attempt.permanent or message.attempts >= svc.settings.outbox_max_attempts:
                message.status = "dead"
                log.error("outbox message %s (%s) is dead: %s", message_id, channel, attempt.detail)
            else:
                message.next_attempt_at = now + timedelta(seconds=backoff_s(svc, message.attempts))
        db.commit()
        return attempt.ok


def delivered_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a delivered message: the email's subject or the webhook's event and id, no text."""
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    kept = {"subject": payload.get("subject"), "api_key": payload.get("api_key")}
    kept |= {"event": body.get("event"), "id": body.get("id")} if body else {}
    return {k: v for k, v in kept.items() if v is not None} | {"content_dropped": True}


def deliver_due(svc: Services, *, now: datetime | None = None, limit: int = 20) -> int:
    """Claim and send up to ``limit`` due messages, one at a time; returns how many were sent.

    ``now`` (UTC) fixes the clock for the whole round (tests); default ``svc.clock()``. Only
    messages due when the round starts are taken, so a message that fails is tried once per
    round even when its retry delay is shorter than the round.
    """
    sent = 0
    round_start = now or svc.clock()
    for _ in range(limit):
        at = now or svc.clock()
        held = claim(svc, now=at, due_by=round_start)
        if held is None:
            break
        if _deliver(svc, held, at):
            sent += 1
    return sent


def delivery_log(db: Session, message_id: int) -> list[Delivery]:
    """The attempts of one message, oldest first."""
    return list(db.scalars(select(Delivery).where(Delivery.message_id == message_id).order_by(Delivery.id)))


def outbox_counts(db: Session) -> dict[str, int]:
    """Messages by status (``pending``, ``sent``, ``dead``), for health pages and the CLI."""
    rows = db.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {str(status): int(n) for status, n in rows}


def requeue(svc: Services, db: Session, message: OutboxMessage) -> None:
    """Give a dead message a fresh set of attempts, due now (after the cause was fixed)."""
    if message.status != "dead":
        raise NotifyError(f"only dead messages are requeued (this one is {message.status})")
    message.status, message.attempts, message.locked_until = "pending", 0, None
    message.next_attempt_at = svc.clock()


# --------------------------------------------------------------------------- worker


class OutboxWorker:
    """A daemon thread that calls :func:`deliver_due` every ``outbox_poll_s`` seconds."""

    def __init__(self, svc: Services, *, poll_s: float | None = None, limit: int = 20) -> None:
        self.svc = svc
        self.poll_s = poll_s if poll_s is not None else svc.settings.outbox_poll_s
        self.limit = limit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to stop and wait up to ``timeout`` seconds; True when it has stopped."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                busy = deliver_due(self.svc, limit=self.limit) >= self.limit
            except Exception:  # keep the worker alive (database down, ...); the next round retries
                log.exception("outbox delivery round failed")
            if not busy:
                self._stop.wait(self.poll_s)


__all__ = [
    "SIGNATURE_HEADER",
    "Attempt",
    "Claim",
    "NotifyError",
    "OutboxWorker",
    "build_email",
    "claim",
    "clear_webhook",
    "deliver_due",
    "delivery_log",
    "enqueue_decision",
    "outbox_counts",
    "set_webhook",
    "sign",
    "verify",
    "webhook_body",
    "webhook_secret",
]
