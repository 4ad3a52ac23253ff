"""The reviewers' console: login and lockout, CSRF, queue, claiming, decisions, audit, video calls, access."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Route

from openidv.service.app import create_app
from openidv.service.cases import Services, full_reports, status_token
from openidv.service.orm import AuditEntry, Case, Review, User, VideoSlot
from tests.service.conftest import make_settings
from tests.service.console_helpers import PASSWORD, add_users, login, seed_case


@pytest.fixture
def app_svc(tmp_path: Path) -> Iterator[tuple[TestClient, Services]]:
    app = create_app(make_settings(tmp_path, outbox_worker=False))
    with TestClient(app) as c:
        svc: Services = app.state.services
        add_users(svc)
        yield c, svc


def _new(client: TestClient) -> TestClient:
    return TestClient(client.app)


def test_login_lockout_and_logout(app_svc: tuple[TestClient, Services]) -> None:
    c, svc = app_svc
    assert c.get("/review", follow_redirects=False).headers["location"] == "/review/login"
    for _ in range(svc.settings.lockout_failures - 1):
        r = c.post("/review/login", data={"name": "rita", "password": "wrong password!"})
        assert r.status_code == 401 and "wrong name or password" in r.text
    r = c.post("/review/login", data={"name": "nobody", "password": "whatever it is"})
    assert r.status_code == 401 and "wrong name or password" in r.text  # same answer for unknown names
    r = c.post("/review/login", data={"name": "rita", "password": "wrong password!"})
    assert r.status_code == 401
    r = c.post("/review/login", data={"name": "rita", "password": PASSWORD})
    assert r.status_code == 401 and "wrong name or password" in r.text  # locked: answered like a wrong password
    with svc.sessions() as db:
        user = db.scalar(select(User).where(User.name == "rita"))
        assert user is not None and user.locked_until is not None
        assert user.password_hash.startswith("$argon2id$")
        actions = [a.action for a in db.scalars(select(AuditEntry).where(AuditEntry.actor == "rita"))]
        assert actions.count("login_failed") == svc.settings.lockout_failures and "account_locked" in actions
    real = svc.clock
    svc.clock = lambda: real() + timedelta(seconds=svc.settings.lockout_s + 1)
    try:
        token = login(c, "rita")
        assert "Cases awaiting review" in c.get("/review").text
        r = c.post("/review/logout", data={"csrf_token": token}, follow_redirects=False)
        assert r.headers["location"] == "/review/login"
        assert c.get("/review", follow_redirects=False).status_code == 303
    finally:
        svc.clock = real


def test_queue_claim_decide_and_audit(app_svc: tuple[TestClient, Services]) -> None:
    c, svc = app_svc
    older, _ = seed_case(svc, submitted_ago_h=30, mismatch=True, outcome="reject")
    newer, newer_token = seed_case(svc, submitted_ago_h=2, document_type="passport")
    rita, remy = c, _new(c)
    token_rita, token_remy = login(rita, "rita"), login(remy, "remy")

    page = rita.get("/review").text
    assert page.index(older[:8]) < page.index(newer[:8])  # oldest first
    assert "42.0 h" in page or "42 h" in page or "42." in page  # 72 h deadline - 30 h
    assert newer[:8] not in rita.get("/review", params={"recommendation": "reject"}).text
    assert older[:8] not in rita.get("/review", params={"document_type": "passport"}).text
    assert newer[:8] not in rita.get("/review", params={"failed_check": "consistency_barcode_printed"}).text

    # CSRF: a form without the session's token is refused
    r = rita.post(f"/review/cases/{older}/claim", data={"csrf_token": "forged"})
    assert r.status_code == 403 and "reload" in r.text
    assert rita.post(f"/review/cases/{older}/claim", data={"csrf_token": token_rita}).status_code == 200
    r = remy.post(f"/review/cases/{older}/claim", data={"csrf_token": token_remy})
    assert r.status_code == 409 and "rita is working on this case" in r.text.lower()
    r = remy.post(f"/review/cases/{older}/decide", data={"csrf_token": token_remy, "action": "approve"})
    assert r.status_code == 409

    case_page = rita.get(f"/review/cases/{older}").text
    assert "mismatch" in case_page and 'data-field="birth_date"' in case_page
    assert "Document portrait" in case_page and "Live selfie" in case_page
    image_ids = re.findall(rf"/review/cases/{older}/images/([0-9a-f]{{32}})", case_page)
    assert len(image_ids) >= 5
    img = rita.get(f"/review/cases/{older}/images/{image_ids[0]}")
    assert (
        img.status_code == 200
        and img.content.startswith(b"\xff\xd8\xff")
        and img.headers["cache-control"] == "no-store"
    )

    r = rita.post(f"/review/cases/{older}/decide", data={"csrf_token": token_rita, "action": "reject"})
    assert r.status_code == 422 and "at least one reason" in r.text
    r = rita.post(
        f"/review/cases/{older}/decide",
        data={
            "csrf_token": token_rita,
            "action": "reject",
            "reason": ["document_not_genuine"],
            "internal_note": "birth date edited",
            "seller_message": "The document does not appear genuine.",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303

    remy.post(f"/review/cases/{newer}/claim", data={"csrf_token": token_remy})
    r = remy.post(
        f"/review/cases/{newer}/decide", data={"csrf_token": token_remy, "action": "approve"}, follow_redirects=False
    )
    assert r.status_code == 303
    status = _new(c).get(f"/status/{status_token(newer_token)}").text
    assert 'data-status="approved"' in status

    with svc.sessions() as db:
        rejected = db.get(Case, older)
        assert (
            rejected is not None
            and rejected.state == "rejected"
            and rejected.decision_reasons == ["document_not_genuine"]
        )
        review = db.scalar(select(Review).where(Review.case_id == older))
        assert review is not None and review.reviewer == "rita" and review.system_outcome == "reject"
        entries = [(a.actor, a.action) for a in db.scalars(select(AuditEntry).where(AuditEntry.case_id == older))]
        assert ("rita", "view_case") in entries and ("rita", "view_image") in entries
        assert ("rita", "claim") in entries and ("rita", "reject") in entries
        assert db.get(Case, newer).state == "approved"  # type: ignore[union-attr]


def test_resubmission_and_escalation(app_svc: tuple[TestClient, Services]) -> None:
    c, svc = app_svc
    case_id, token = seed_case(svc)
    escalate_id, _ = seed_case(svc)
    t = login(c, "rita")
    c.post(f"/review/cases/{case_id}/claim", data={"csrf_token": t})
    r = c.post(
        f"/review/cases/{case_id}/decide",
        data={"csrf_token": t, "action": "request_resubmission", "resubmit_step": "document_back"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    seller = _new(c)
    assert 'data-status="resubmission_requested"' in seller.get(f"/status/{status_token(token)}").text
    r = seller.get(f"/resume/{token}", follow_redirects=False)
    assert r.headers["location"] == "/capture"
    steps = seller.get(f"/api/v1/cases/{case_id}").json()["steps"]
    assert [s["done"] for s in steps] == [True, False, True]  # only the back must be redone
    with svc.sessions() as db:  # the document report goes, in the public view and in the sealed one
        case = db.get(Case, case_id)
        assert case is not None and set(case.reports) == set(full_reports(svc, case)) == {"liveness"}

    c.post(f"/review/cases/{escalate_id}/claim", data={"csrf_token": t})
    c.post(f"/review/cases/{escalate_id}/decide", data={"csrf_token": t, "action": "escalate", "internal_note": "odd"})
    r = c.post(f"/review/cases/{escalate_id}/claim", data={"csrf_token": t})
    assert r.status_code == 403
    admin = _new(c)
    ta = login(admin, "ada")
    r = admin.post(f"/review/cases/{escalate_id}/assign", data={"csrf_token": ta, "reviewer": "remy"})
    assert r.status_code == 409  # an escalated case goes to admins only
    assert c.post(f"/review/cases/{escalate_id}/assign", data={"csrf_token": t, "reviewer": "rita"}).status_code == 403
    assert admin.post(f"/review/cases/{escalate_id}/claim", data={"csrf_token": ta}).status_code == 200
    admin.post(f"/review/cases/{escalate_id}/decide", data={"csrf_token": ta, "action": "approve"})
    with svc.sessions() as db:
        assert db.get(Case, escalate_id).state == "approved"  # type: ignore[union-attr]
    assert "view_case" in admin.get("/review/audit").text
    assert c.get("/review/audit").status_code == 403  # reviewers do not see the audit log
    assert c.get("/review/users").status_code == 403 and admin.get("/review/users").status_code == 200
    erase_form = {"csrf_token": t, "confirm": escalate_id}
    assert c.post(f"/review/cases/{escalate_id}/erase", data=erase_form).status_code == 403  # admins only
    report = admin.get("/review/agreement")
    assert report.status_code == 200 and 'id="matrix"' in report.text and "(current)" in report.text
    chart = admin.get("/review/agreement.png")
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")


def test_video_call_path_books_and_decides_without_biometrics(app_svc: tuple[TestClient, Services]) -> None:
    c, svc = app_svc
    admin = _new(c)
    ta = login(admin, "ada")
    start = (svc.clock() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = admin.post(
        "/review/slots", data={"csrf_token": ta, "starts_at": start, "duration_min": "20"}, follow_redirects=False
    )
    assert r.status_code == 303
    t = login(c, "rita")
    assert c.post("/review/slots", data={"csrf_token": t, "starts_at": start}).status_code == 403  # admins only

    seller = _new(c)
    seller.post("/start")
    r = seller.post(
        "/eligibility",
        data={
            "us_resident": "yes",
            "adult": "yes",
            "document_type": "passport",
            "method": "video_call",
            "email": "s@example.com",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/video-call"
    page = seller.get("/video-call").text
    slot_id = re.search(r'name="slot_id" value="(\d+)"', page)
    assert slot_id is not None
    assert (
        seller.post("/video-call/book", data={"slot_id": slot_id.group(1)}, follow_redirects=False).status_code == 303
    )
    assert "Your call" in seller.get("/video-call").text

    calls = c.get("/review/video-calls").text
    assert f'data-slot="{slot_id.group(1)}"' in calls
    outcome = f"/review/slots/{slot_id.group(1)}/outcome"
    verdict = {
        "csrf_token": t,
        "outcome": "not_verified",
        "note": "internal: the licence looked edited",
        "seller_message": "We could not confirm your document in the call.",
    }
    assert c.post(outcome, data=verdict).status_code == 403  # rita has not claimed the case
    claim = re.search(r'action="/review/cases/([0-9a-f]{32})/claim"', calls)
    assert claim is not None
    assert c.post(f"/review/cases/{claim.group(1)}/claim", data={"csrf_token": t}).status_code == 200
    r = c.post(outcome, data=verdict)
    assert r.status_code == 409 and "not started" in r.text  # the call is tomorrow
    real = svc.clock
    svc.clock = lambda: real() + timedelta(days=1, minutes=5)
    try:
        t = login(c, "rita")  # the console login of yesterday has expired
        verdict["csrf_token"] = t
        assert c.post(outcome, data=verdict | {"note": "x" * 2001}).status_code == 422  # bounded
        assert c.post(outcome, data=verdict, follow_redirects=False).status_code == 303
        assert c.post(outcome, data=verdict).status_code == 409  # recorded once
    finally:
        svc.clock = real
    status = seller.get("/done").text
    assert "We could not confirm your document in the call." in status and "internal" not in status
    with svc.sessions() as db:
        slot = db.get(VideoSlot, int(slot_id.group(1)))
        assert slot is not None and slot.outcome == "not_verified" and slot.case_id
        assert slot.outcome_note == "internal: the licence looked edited"
        case = db.get(Case, slot.case_id)
        assert case is not None and case.state == "rejected"
        assert case.blobs == [] and case.captures == []  # no biometric data in this path


def test_slots_are_bounded(app_svc: tuple[TestClient, Services]) -> None:
    c, svc = app_svc
    ta = login(c, "ada")
    tomorrow = (svc.clock() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    far = (svc.clock() + timedelta(days=800)).strftime("%Y-%m-%dT%H:%M")
    for starts_at, minutes in ((tomorrow, "1000000"), (tomorrow, "0"), (far, "15")):
        r = c.post("/review/slots", data={"csrf_token": ta, "starts_at": starts_at, "duration_min": minutes})
        assert r.status_code == 422, (starts_at, minutes)
    with svc.sessions() as db:
        assert db.query(VideoSlot).count() == 0


def test_no_reviewer_route_or_foreign_case_is_reachable(app_svc: tuple[TestClient, Services]) -> None:
    """Walk every route as an anonymous client and as another seller."""
    c, svc = app_svc
    victim_id, victim_token = seed_case(svc)
    other = _new(c)
    other.post("/start")  # a seller with a case of their own
    anonymous = _new(c)
    values = {
        "case_id": victim_id,
        "blob_id": "0" * 32,
        "slot_id": "1",
        "token": "wrong-token",
        "step": "document_front",
    }
    from openidv.service import api, console, web

    routes = [*api.router.routes, *web.router.routes, *console.router.routes, *c.app.routes]  # type: ignore[attr-defined]
    checked = 0
    for route in routes:
        if not isinstance(route, Route) or route.path.startswith(("/static", "/docs", "/redoc", "/openapi")):
            continue
        path = route.path
        for key, value in values.items():
            path = path.replace("{" + key + "}", value)
        for method in sorted(route.methods or {"GET"}):
            if method == "HEAD":
                continue
            for who, client in (("anonymous", anonymous), ("other seller", other)):
                r = client.request(method, path, follow_redirects=False)
                checked += 1
                if route.path.startswith("/review") and route.path != "/review/login":
                    ok = r.status_code in (303, 401) and (
                        r.status_code == 401 or r.headers["location"] == "/review/login"
                    )
                    assert ok, (who, method, route.path, r.status_code)
                assert victim_id not in r.text or r.status_code >= 400, (who, method, route.path)
                assert victim_token not in r.text, (who, method, route.path)
                if "{case_id}" in route.path and route.path.startswith("/api"):
                    assert r.status_code in (401, 404, 405, 422), (who, method, route.path, r.status_code)
    assert checked > 40


def test_users_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from openidv.cli import main

    monkeypatch.setenv("OPENIDV_ENVIRONMENT", "development")
    monkeypatch.setenv("OPENIDV_DATA_DIR", str(tmp_path / "var"))
    assert main(["users", "add", "zoe", "--role", "admin", "--password", PASSWORD, "--json"]) == 0
    assert main(["users", "add", "zoe", "--role", "admin", "--password", PASSWORD, "--json"]) == 2
    assert main(["users", "add", "yan", "--role", "reviewer", "--password", "short", "--json"]) == 2
    out = capsys.readouterr().out
    assert '"role": "admin"' in out and "exists already" in out and "at least 12" in out


def test_admin_assigns_a_case_to_a_reviewer(app_svc: tuple[TestClient, Services]) -> None:
    c, svc = app_svc
    case_id, _ = seed_case(svc)
    admin = _new(c)
    ta = login(admin, "ada")
    r = admin.post(
        f"/review/cases/{case_id}/assign", data={"csrf_token": ta, "reviewer": "remy"}, follow_redirects=False
    )
    assert r.status_code == 303
    tr = login(c, "rita")
    assert c.post(f"/review/cases/{case_id}/claim", data={"csrf_token": tr}).status_code == 409
    remy = _new(c)
    tm = login(remy, "remy")
    r = remy.post(
        f"/review/cases/{case_id}/decide", data={"csrf_token": tm, "action": "approve"}, follow_redirects=False
    )
    assert r.status_code == 303
    with svc.sessions() as db:
        entries = [(a.actor, a.action) for a in db.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id))]
        assert ("ada", "assign") in entries and ("remy", "approve") in entries


def test_blind_review_hides_the_recommendation_until_decided(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, blind_review=True))
    with TestClient(app) as c:
        svc: Services = app.state.services
        add_users(svc)
        case_id, _ = seed_case(svc, outcome="reject")
        t = login(c, "rita")
        assert "rec-reject" not in c.get("/review").text and "hidden" in c.get("/review").text
        page = c.get(f"/review/cases/{case_id}").text
        assert "hidden until you decide" in page and "System recommendation: reject" not in page
        c.post(f"/review/cases/{case_id}/claim", data={"csrf_token": t})
        c.post(f"/review/cases/{case_id}/decide", data={"csrf_token": t, "action": "approve"})
        assert "System recommendation: reject" in c.get(f"/review/cases/{case_id}").text


def test_admin_sees_the_outbox_and_retries_a_dead_message(app_svc: tuple[TestClient, Services]) -> None:
    from openidv.service.notify import deliver_due
    from openidv.service.orm import Delivery, OutboxMessage

    c, svc = app_svc  # no SMTP host configured: every email attempt fails
    case_id, _ = seed_case(svc)
    t = login(c, "rita")
    c.post(f"/review/cases/{case_id}/claim", data={"csrf_token": t})
    c.post(f"/review/cases/{case_id}/decide", data={"csrf_token": t, "action": "approve"})
    now = svc.clock()
    for i in range(svc.settings.outbox_max_attempts):
        deliver_due(svc, now=now + timedelta(hours=2 * (i + 1)))
    with svc.sessions() as db:
        message = db.scalar(select(OutboxMessage).where(OutboxMessage.case_id == case_id))
        assert message is not None and message.status == "dead"
        message_id = message.id
    assert c.get("/review/notifications").status_code == 403  # admins only
    admin = _new(c)
    ta = login(admin, "ada")
    page = admin.get("/review/notifications").text
    assert f'data-message="{message_id}"' in page and "SMTP not configured" in page
    r = admin.post(f"/review/notifications/{message_id}/requeue", data={"csrf_token": ta}, follow_redirects=False)
    assert r.status_code == 303
    assert admin.post(f"/review/notifications/{message_id}/requeue", data={"csrf_token": ta}).status_code == 409
    with svc.sessions() as db:
        message = db.get(OutboxMessage, message_id)
        assert message is not None and message.status == "pending" and message.attempts == 0
        assert len(db.scalars(select(Delivery).where(Delivery.message_id == message_id)).all()) >= 1  # log kept
