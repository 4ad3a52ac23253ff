"""Issue 22 part 1: continue on the phone. Single-use, 10-minute handoff links bound to the case."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from openidv.service import handoff
from openidv.service.orm import Case, Handoff
from tests.service.conftest import Applicant


def _link(page: str) -> str:
    found = re.search(r'id="handoff-link" href="https?://[^/]+(/h/[A-Za-z0-9_-]+)"', page)
    assert found is not None, page
    return found.group(1)


def _unusable(r: object) -> str:
    text = getattr(r, "text", "")
    found = re.search(r'id="handoff-unusable" data-reason="([a-z_]+)"', text)
    assert getattr(r, "status_code", 0) == 410 and found is not None, text
    return found.group(1)


def test_phone_joins_the_same_case_once(client: TestClient) -> None:
    desktop = Applicant(client)
    desktop.start("passport")
    r = client.post("/handoff")
    assert r.status_code == 200 and "<svg" in r.text and 'class="segno"' in r.text
    link = _link(r.text)
    phone = TestClient(client.app)
    r = phone.get(link, follow_redirects=False)
    assert r.status_code == 200 and 'http-equiv="refresh" content="0;url=/capture"' in r.text
    assert phone.cookies.get("openidv_case") == client.cookies.get("openidv_case")
    phone_page = phone.get("/capture").text
    assert f'"case_id": "{desktop.case_id}"' in phone_page
    # the phone is not offered to continue on a phone; the desktop still is
    assert 'id="handoff"' not in phone_page and 'id="handoff"' in client.get("/capture").text
    # the phone can now work on the case through the API, as the desktop could
    assert phone.get(f"/api/v1/cases/{desktop.case_id}").json()["next_step"] == "passport_page"
    assert _unusable(TestClient(client.app).get(link)) == "used"
    assert _unusable(TestClient(client.app).get("/h/not-a-real-token")) == "unknown"
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as db:
        rows = db.query(Handoff).filter_by(case_id=desktop.case_id).all()
        assert len(rows) == 1 and rows[0].used_at is not None and rows[0].case_token_sealed is None
        case = db.get(Case, desktop.case_id)
        assert case is not None
        assert [e.event for e in case.events if e.event.startswith("handoff")] == ["handoff_created", "handoff_used"]


def test_expired_and_closed_links_get_a_clear_page(client: TestClient) -> None:
    desktop = Applicant(client)
    desktop.start("passport")
    services = client.app.state.services  # type: ignore[attr-defined]
    stale = _link(client.post("/handoff").text)
    later = _link(client.post("/handoff").text)
    real_clock = services.clock
    services.clock = lambda: real_clock() + timedelta(seconds=handoff.TTL_S + 1)
    try:
        page = TestClient(client.app).get(stale)
    finally:
        services.clock = real_clock
    assert _unusable(page) == "expired"
    assert "10 minutes" in page.text
    assert client.post(f"{desktop.api}/video-call", json={}).status_code == 200  # the case leaves capture
    assert _unusable(TestClient(client.app).get(later)) == "case_closed"
    assert client.post("/handoff", follow_redirects=False).headers["location"] == "/video-call"
    with services.sessions() as db:
        sealed = [h.case_token_sealed for h in db.query(Handoff).order_by(Handoff.created_at).all()]
    assert sealed == [None, None]  # wiped once the links can no longer be used


def test_handoff_needs_a_case_at_a_capture_step(client: TestClient) -> None:
    r = TestClient(client.app).post("/handoff", follow_redirects=False)
    assert r.status_code == 404  # no case in this browser
    client.post("/start", follow_redirects=False)
    r = client.post("/handoff", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/eligibility"


def test_a_new_link_replaces_the_earlier_ones_and_a_case_gets_a_bounded_number(client: TestClient) -> None:
    desktop = Applicant(client)
    desktop.start("passport")
    first = _link(client.post("/handoff").text)
    second = _link(client.post("/handoff").text)
    page = TestClient(client.app).get(first)
    assert _unusable(page) == "replaced" and "newest" in page.text
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as db:
        rows = db.query(Handoff).filter_by(case_id=desktop.case_id).order_by(Handoff.created_at).all()
        # the replaced link's sealed case token was wiped when the new link was made
        assert [row.case_token_sealed is None for row in rows] == [True, False]
    phone = TestClient(client.app)
    assert phone.get(second, follow_redirects=False).status_code == 200  # the newest one opens the case
    assert phone.cookies.get("openidv_case") == client.cookies.get("openidv_case")
    for _ in range(handoff.MAX_LINKS_PER_CASE - 2):
        assert client.post("/handoff").status_code == 200
    refused = client.post("/handoff")
    assert refused.status_code == 409 and 'data-code="handoff_limit"' in refused.text
    assert f"{handoff.MAX_LINKS_PER_CASE} phone links" in refused.text
    with services.sessions() as db:
        rows = db.query(Handoff).filter_by(case_id=desktop.case_id).all()
        assert len(rows) == handoff.MAX_LINKS_PER_CASE
        assert sum(row.case_token_sealed is not None for row in rows) == 1  # one live link at most
