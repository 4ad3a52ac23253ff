"""Decision notifications: outbox, real SMTP server (aiosmtpd), real HTTP webhook receiver, retries, restarts."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd import smtp as aiosmtp
from aiosmtpd.controller import Controller
from sqlalchemy import select

from openidv.service import notify
from openidv.service.app import build_services
from openidv.service.cases import Services, create_case, transition
from openidv.service.db import as_utc
from openidv.service.lifecycle import CaseState
from openidv.service.orm import ApiKey, Case, Delivery, OutboxMessage
from tests.service.conftest import make_settings

T0 = datetime(2031, 3, 4, 12, 0, 0, tzinfo=UTC)
SECRET = b"k" * 32


# --------------------------------------------------------------------------- real servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: aiosmtp.SMTP, session: aiosmtp.Session, envelope: aiosmtp.Envelope
    ) -> str:
        content = envelope.original_content or b""
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


class Receiver:
    """A real HTTP server on localhost that answers scripted statuses and records each request."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                reply = b"ok" if status < 300 else b"temporarily broken"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/openidv"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# --------------------------------------------------------------------------- cases


@pytest.fixture
def svc(tmp_path: Path, database: str, smtp_server: tuple[int, _Inbox]) -> Iterator[Services]:
    s = build_services(
        make_settings(
            tmp_path,
            database,
            smtp_host="127.0.0.1",
            smtp_port=smtp_server[0],
            smtp_from="verify@market.example",
            public_url="https://verify.market.example",
            outbox_backoff_s=5.0,
            outbox_max_attempts=4,
        )
    )
    yield s
    s.engine.dispose()


def _api_key(svc: Services, name: str, url: str | None) -> bytes | None:
    """An integrator key (and its webhook secret when ``url`` is given)."""
    with svc.sessions() as db:
        key = ApiKey(name=name, prefix="oidv_test", key_hash=hashlib.sha256(name.encode()).hexdigest())
        db.add(key)
        secret = notify.set_webhook(svc, db, key, url) if url else None
        db.commit()
    return secret


def _decide(
    svc: Services,
    *,
    channel: str = "web",
    email_to: str | None = "seller@example.org",
    outcome: CaseState = CaseState.REJECTED,
    message: str | None = None,
    reasons: tuple[str, ...] = (),
) -> tuple[str, list[int]]:
    """A case taken through the states to ``outcome`` with its notifications queued in the same transaction."""
    with svc.sessions() as db:
        case, _token = create_case(svc, db, channel=channel, actor="applicant", external_ref="seller-42")
        case.contact_email = email_to
        for state in (CaseState.CAPTURING, CaseState.SUBMITTED, CaseState.IN_REVIEW, outcome):
            transition(svc, db, case, state, "reviewer:ann")
        case.decision = outcome.value
        case.decision_reasons = list(reasons)
        case.seller_message = message
        if outcome is CaseState.RESUBMISSION_REQUESTED:
            case.resubmit_step = "document_back"
        messages = notify.enqueue_decision(svc, db, case)
        db.commit()
        return case.id, [m.id for m in messages]


def _message(svc: Services, message_id: int) -> OutboxMessage:
    with svc.sessions() as db:
        m = db.get(OutboxMessage, message_id)
        assert m is not None
        return m


def _deliveries(svc: Services, message_id: int) -> list[Delivery]:
    with svc.sessions() as db:
        return notify.delivery_log(db, message_id)


# --------------------------------------------------------------------------- signing


def test_sign_and_verify() -> None:
    body = b'{"event":"case.decided"}'
    header = notify.sign(SECRET, body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert notify.verify(SECRET, body, header, now=1_700_000_000 + 299)
    assert notify.verify(SECRET, body, header, now=1_700_000_000 - 299)  # small clock skew either way
    assert not notify.verify(SECRET, body, header, now=1_700_000_000 + 301)  # replayed later
    assert not notify.verify(SECRET, body + b" ", header, now=1_700_000_000)  # tampered body
    assert not notify.verify(b"x" * 32, body, header, now=1_700_000_000)  # wrong secret
    forged_t = header.replace("t=1700000000", "t=1700000500")  # fresh timestamp on an old signature
    assert not notify.verify(SECRET, body, forged_t, now=1_700_000_500)
    rotated = f"{header},v1={'0' * 64}"
    assert notify.verify(SECRET, body, rotated, now=1_700_000_000)
    for bad in ("", "v1=abc", "t=1700000000", "t=abc,v1=00", "garbage", "t=1,t=1700000000,v1=00"):
        assert not notify.verify(SECRET, body, bad, now=1_700_000_000), bad


def test_backoff_doubles_and_is_capped(tmp_path: Path) -> None:
    s = build_services(make_settings(tmp_path, outbox_backoff_s=5.0))
    assert [notify.backoff_s(s, n) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
    assert notify.backoff_s(s, 20) == 3600.0


# --------------------------------------------------------------------------- enqueue


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_enqueue_only_for_final_decisions_and_configured_channels(svc: Services, receiver: Receiver) -> None:
    _api_key(svc, "market", receiver.url)
    _api_key(svc, "nohook", None)
    _, ids = _decide(svc, email_to=None)
    assert ids == []  # web case without an address: nobody to tell
    _, ids = _decide(svc, channel="api:nohook", email_to="a@example.org")
    assert [_message(svc, i).channel for i in ids] == ["email"]
    _, ids = _decide(svc, channel="api:market", email_to=None, outcome=CaseState.APPROVED)
    assert [_message(svc, i).channel for i in ids] == ["webhook"]
    with svc.sessions() as db:  # not a final decision: nothing
        case, _ = create_case(svc, db, channel="api:market", actor="api:market")
        case.contact_email = "b@example.org"
        transition(svc, db, case, CaseState.CAPTURING, "applicant")
        assert notify.enqueue_decision(svc, db, case) == []
        key = db.scalar(select(ApiKey).where(ApiKey.name == "market"))
        assert key is not None
        key.revoked_at = T0  # a revoked integrator is not called
        transition(svc, db, case, CaseState.SUBMITTED, "applicant")
        transition(svc, db, case, CaseState.IN_REVIEW, "system")
        transition(svc, db, case, CaseState.APPROVED, "reviewer:ann")
        assert [m.channel for m in notify.enqueue_decision(svc, db, case)] == ["email"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_set_webhook_refuses_bad_urls_and_stores_the_secret_wrapped(svc: Services) -> None:
    from openidv.service.errors import UnprocessableError

    with svc.sessions() as db:
        key = ApiKey(name="m", prefix="p", key_hash="0" * 64)
        db.add(key)
        for bad in ("ftp://x.example/h", "/relative", "https://"):
            with pytest.raises(UnprocessableError):
                notify.set_webhook(svc, db, key, bad)
        secret = notify.set_webhook(svc, db, key, "https://hooks.example/x")
        db.commit()
        assert len(secret) == 32 and key.webhook_secret_wrapped is not None
        assert secret not in key.webhook_secret_wrapped
        assert notify.webhook_secret(svc, key) == secret
        second = notify.set_webhook(svc, db, key, "https://hooks.example/y")  # rotation: a new secret
        assert second != secret and notify.webhook_secret(svc, key) == second


# --------------------------------------------------------------------------- email


def test_decision_email_reaches_a_real_smtp_server(svc: Services, smtp_server: tuple[int, _Inbox]) -> None:
    _, inbox = smtp_server
    case_id, ids = _decide(
        svc,
        email_to="jane.seller@example.org",
        outcome=CaseState.RESUBMISSION_REQUESTED,
        message="The photo of the back of your licence was too dark. Café lighting is fine!",
    )
    assert len(ids) == 1
    assert notify.deliver_due(svc) == 1
    assert len(inbox.envelopes) == 1
    mail_from, rcpts, raw = inbox.envelopes[0]
    assert mail_from == "verify@market.example" and rcpts == ["jane.seller@example.org"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["To"] == "jane.seller@example.org"
    assert msg["Subject"] == "Your identity verification: please retake a step"
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "retake" in text and "Back of your document" in text
    assert "Café lighting is fine!" in text  # the reviewer's message, non-ASCII intact
    assert case_id in text and "https://verify.market.example/done" in text
    assert "score" not in text.lower()
    m = _message(svc, ids[0])
    assert m.status == "sent" and m.attempts == 1 and m.sent_at is not None
    # once delivered, the text goes: only the subject stays in the outbox
    assert m.payload == {"subject": msg["Subject"], "content_dropped": True}
    log = _deliveries(svc, ids[0])
    assert len(log) == 1 and log[0].ok and log[0].detail.startswith("250 ")
    assert notify.deliver_due(svc) == 0 and len(inbox.envelopes) == 1  # sent once


# --------------------------------------------------------------------------- webhook


def test_signed_webhook_reaches_a_real_receiver(svc: Services, receiver: Receiver) -> None:
    secret = _api_key(svc, "market", receiver.url)
    assert secret is not None
    case_id, ids = _decide(
        svc, channel="api:market", email_to=None, outcome=CaseState.REJECTED, reasons=("document.expiry.expired",)
    )
    assert notify.deliver_due(svc, now=T0) == 1
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert headers["content-type"] == "application/json"
    sig = headers["openidv-signature"]
    assert sig.startswith(f"t={int(T0.timestamp())},")
    assert notify.verify(secret, body, sig, now=T0.timestamp() + 5)
    assert not notify.verify(secret, body.replace(b"rejected", b"approved"), sig, now=T0.timestamp())
    assert not notify.verify(secret, body, sig, now=T0.timestamp() + 600)  # an old delivery replayed
    payload = json.loads(body)
    assert set(payload) == {
        "event",
        "id",
        "case_id",
        "reference",
        "external_ref",
        "state",
        "decision",
        "reasons",
        "resubmit_step",
        "message",
        "decided_at",
    }
    assert payload["event"] == "case.decided" and payload["case_id"] == case_id
    assert (
        payload["reference"] == payload["external_ref"] == "seller-42"
        and payload["state"] == payload["decision"] == "rejected"
    )
    assert payload["reasons"] == ["document.expiry.expired"]
    assert datetime.fromisoformat(payload["decided_at"]).tzinfo is not None
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None and json.dumps(case.recommendation) not in body.decode()
        raw_db = repr([(k.webhook_secret_wrapped, k.webhook_key_id) for k in db.scalars(select(ApiKey))])
    assert secret.hex() not in raw_db and repr(secret) not in raw_db  # the secret is stored wrapped only
    log = _deliveries(svc, ids[0])
    assert [(d.ok, d.detail) for d in log] == [(True, "HTTP 200, 2 bytes")]


def test_retries_with_backoff_then_delivered(svc: Services, receiver: Receiver) -> None:
    secret = _api_key(svc, "market", receiver.url)
    assert secret is not None
    receiver.statuses = [500, 500, 200]
    _, ids = _decide(svc, channel="api:market", email_to=None)
    (mid,) = ids

    assert notify.deliver_due(svc, now=T0) == 0
    m = _message(svc, mid)
    assert m.status == "pending" and m.attempts == 1 and as_utc(m.next_attempt_at) == T0 + timedelta(seconds=5)
    assert m.last_error is not None and m.last_error.startswith("HTTP 500")
    assert notify.deliver_due(svc, now=T0 + timedelta(seconds=4.9)) == 0  # not yet due
    assert len(receiver.requests) == 1

    t1 = T0 + timedelta(seconds=5)
    assert notify.deliver_due(svc, now=t1) == 0
    assert as_utc(_message(svc, mid).next_attempt_at) == t1 + timedelta(seconds=10)  # doubled
    assert notify.deliver_due(svc, now=t1 + timedelta(seconds=9)) == 0

    t2 = t1 + timedelta(seconds=10)
    assert notify.deliver_due(svc, now=t2) == 1
    m = _message(svc, mid)
    assert m.status == "sent" and m.attempts == 3 and as_utc(m.sent_at or T0) == t2 and m.last_error is None
    log = _deliveries(svc, mid)
    assert [(d.attempt, d.ok) for d in log] == [(1, False), (2, False), (3, True)]
    assert log[0].detail == "HTTP 500, 18 bytes" and log[2].detail == "HTTP 200, 2 bytes"  # never the body
    assert [as_utc(d.at) for d in log] == [T0, t1, t2]
    # every try carried the same event id, each signed at its own send time
    ids_seen = {json.loads(b)["id"] for _, b in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids_seen) == 1
    for (headers, body), at in zip(receiver.requests, (T0, t1, t2), strict=True):
        assert notify.verify(secret, body, headers["openidv-signature"], now=at.timestamp())
    assert notify.deliver_due(svc, now=t2 + timedelta(hours=2)) == 0


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_dead_after_max_attempts(tmp_path: Path, database: str) -> None:
    s = build_services(make_settings(tmp_path, database, smtp_host="", outbox_max_attempts=3, outbox_backoff_s=5.0))
    _, (mid,) = _decide(s, email_to="seller@example.org")
    t = T0
    for attempt in (1, 2, 3):
        assert notify.deliver_due(s, now=t) == 0
        t += timedelta(seconds=notify.backoff_s(s, attempt))
    m = _message(s, mid)
    assert m.status == "dead" and m.attempts == 3 and m.sent_at is None
    assert m.last_error is not None and "SMTP not configured" in m.last_error
    log = _deliveries(s, mid)
    assert [(d.attempt, d.ok) for d in log] == [(1, False), (2, False), (3, False)]
    assert notify.deliver_due(s, now=t + timedelta(days=1)) == 0 and len(_deliveries(s, mid)) == 3
    with s.sessions() as db:
        assert notify.outbox_counts(db) == {"dead": 1}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_unreachable_receiver_and_revoked_key(svc: Services) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/hook"  # nothing listens there
    _api_key(svc, "gone", closed)
    _, (mid,) = _decide(svc, channel="api:gone", email_to=None)
    assert notify.deliver_due(svc, now=T0) == 0
    m = _message(svc, mid)
    assert m.status == "pending" and m.last_error is not None and m.last_error.startswith("HTTP error: ConnectError")
    with svc.sessions() as db:
        key = db.scalar(select(ApiKey).where(ApiKey.name == "gone"))
        assert key is not None
        key.revoked_at = T0
        db.commit()
    assert notify.deliver_due(svc, now=T0 + timedelta(seconds=5)) == 0
    m = _message(svc, mid)
    assert m.status == "dead" and m.attempts == 2 and "revoked" in (m.last_error or "")  # retrying cannot help


# --------------------------------------------------------------------------- restarts and concurrency


def test_crashed_worker_and_restart_lose_nothing(
    tmp_path: Path, database: str, smtp_server: tuple[int, _Inbox], receiver: Receiver
) -> None:
    _, inbox = smtp_server
    settings = make_settings(tmp_path, database, smtp_host="127.0.0.1", smtp_port=smtp_server[0], outbox_poll_s=0.05)
    first = build_services(settings)
    _api_key(first, "market", receiver.url)
    _, (mid,) = _decide(first, channel="api:market", email_to=None)

    held = notify.claim(first, now=T0)  # the worker claims the message ... and dies before sending
    assert held is not None and held.message_id == mid
    assert notify.claim(first, now=T0) is None  # nobody else may take it meanwhile
    first.engine.dispose()

    second = build_services(settings)  # the service restarts on the same database
    try:
        assert notify.deliver_due(second, now=T0 + timedelta(seconds=30)) == 0  # still locked
        assert receiver.requests == []
        assert notify.deliver_due(second, now=T0 + timedelta(seconds=notify.LOCK_S + 1)) == 1
        assert notify.deliver_due(second, now=T0 + timedelta(hours=1)) == 0
        assert len(receiver.requests) == 1  # exactly once
        assert [(d.attempt, d.ok) for d in _deliveries(second, mid)] == [(1, True)]

        # decided while no worker runs: delivered as soon as one starts (real thread, real clock)
        _, queued = _decide(second, channel="api:market", email_to="late@example.org", outcome=CaseState.APPROVED)
        assert len(queued) == 2
        worker = notify.OutboxWorker(second)
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not (len(receiver.requests) == 2 and inbox.envelopes):
                time.sleep(0.02)
            time.sleep(0.2)  # a few more polls: nothing is sent twice
        finally:
            assert worker.stop(timeout=5)
        assert len(receiver.requests) == 2 and len(inbox.envelopes) == 1
        assert inbox.envelopes[0][1] == ["late@example.org"]
        assert all(_message(second, i).status == "sent" for i in queued)
    finally:
        second.engine.dispose()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_concurrent_workers_never_send_a_message_twice(svc: Services, receiver: Receiver) -> None:
    _api_key(svc, "market", receiver.url)
    queued = [_decide(svc, channel="api:market", email_to=None)[1][0] for _ in range(6)]
    with ThreadPoolExecutor(3) as pool:  # three workers polling the same database at once
        sent = [f.result(timeout=20) for f in [pool.submit(notify.deliver_due, svc, now=T0) for _ in range(3)]]
    assert sum(sent) == 6
    ids_seen = [json.loads(b)["id"] for _, b in receiver.requests]
    assert len(ids_seen) == 6 and len(set(ids_seen)) == 6
    assert all(len(_deliveries(svc, i)) == 1 for i in queued)
