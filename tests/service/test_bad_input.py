"""Bad input gets a clear 4xx (JSON from the API, a readable page from the site) and the case stays intact."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from openidv.imaging import encode_jpeg
from openidv.service.app import create_app
from openidv.service.orm import Case
from openidv.synth.forgery import SyntheticDocument
from tests.service.conftest import Applicant, make_settings


def _case_snapshot(client: TestClient, case_id: str) -> tuple[Any, ...]:
    with client.app.state.services.sessions() as db:  # type: ignore[attr-defined]
        case = db.get(Case, case_id)
        assert case is not None
        return (case.state, len(case.captures), len(case.blobs), sorted(case.reports))


def _error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]


@pytest.fixture
def small_limit_client(tmp_path: Path) -> Any:
    app = create_app(
        make_settings(tmp_path, max_upload_bytes=300_000, max_image_pixels=20_000_000, allow_file_upload=True)
    )
    with TestClient(app) as c:
        yield c


def test_uploads_refused_with_clear_errors_and_nothing_lost(small_limit_client: TestClient) -> None:
    c = small_limit_client
    a = Applicant(c)
    a.start()
    before = _case_snapshot(c, a.case_id)

    _error(a.capture("document_front", b"\xff\xd8\xff" + b"\0" * 400_000), 413, "payload_too_large")
    _error(a.capture("document_front", b"hello, not an image", "text/plain"), 415, "unsupported_media_type")
    png = io.BytesIO()
    Image.new("RGB", (64, 64)).save(png, format="PNG")
    _error(a.capture("document_front", png.getvalue(), "image/jpeg"), 415, "unsupported_media_type")  # type mismatch
    rng = np.random.default_rng(0)
    _error(a.capture("document_front", b"\xff\xd8\xff\xe0" + rng.bytes(5000)), 422, "corrupt_image")
    jpeg = encode_jpeg(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), 90)
    _error(a.capture("document_front", jpeg[: len(jpeg) // 2]), 422, "corrupt_image")  # truncated
    bomb = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(bomb, format="PNG", optimize=True)  # 100 MP, ~100 kB
    assert len(bomb.getvalue()) < 300_000
    _error(a.capture("document_front", bomb.getvalue(), "image/png"), 422, "image_too_large")
    _error(a.capture("selfie_step", jpeg), 404, "unknown_step")

    assert _case_snapshot(c, a.case_id) == before  # nothing counted, nothing kept
    assert c.get(f"{a.api}").json()["steps"][0]["attempts"] == 0


def test_out_of_order_steps_are_refused(sqlite_client: TestClient, licence: SyntheticDocument) -> None:
    c = sqlite_client
    a = Applicant(c)
    # consent before eligibility
    assert c.post("/start", follow_redirects=False).status_code == 303
    r = c.post("/consent", data={"version": "x", "accepted": "yes"})
    assert r.status_code == 409 and "eligibility" in r.text.lower()  # a readable page, not JSON
    a.start()
    before = _case_snapshot(c, a.case_id)
    assert licence.back is not None
    _error(a.capture("document_back", licence.back), 409, "out_of_order")
    _error(c.post(f"{a.api}/liveness/start"), 409, "out_of_order")
    _error(c.post(f"{a.api}/liveness/finish"), 409, "no_liveness_session")
    _error(c.post(f"{a.api}/submit"), 409, "incomplete")
    _error(
        c.post(
            f"{a.api}/eligibility",
            json={"us_resident": True, "adult": True, "document_type": "passport", "biometric": True},
        ),
        409,
        "out_of_order",
    )
    assert _case_snapshot(c, a.case_id) == before


def test_attempts_are_capped_per_step(sqlite_client: TestClient) -> None:
    c = sqlite_client
    a = Applicant(c)
    a.start()
    blank = encode_jpeg(np.full((720, 960, 3), 128, dtype=np.uint8), 90)  # no document in view
    for attempt in (1, 2, 3):
        r = a.capture("document_front", blank)
        assert r.status_code == 200
        body = r.json()
        assert not body["accepted"] and body["attempt"] == attempt
        assert body["reasons"] and body["messages"][0]
    _error(a.capture("document_front", blank), 409, "attempts_exhausted")
    # the way out: a video call
    r = c.post(f"{a.api}/video-call", json={"email": "seller@example.com"})
    assert r.status_code == 200 and r.json()["state"] == "video_call_requested"


def test_tokens_expired_foreign_and_missing(sqlite_client: TestClient, licence: SyntheticDocument) -> None:
    c = sqlite_client
    first = Applicant(c)
    first.start()
    other = Applicant(TestClient(c.app))
    other.start()
    # a token for one case cannot touch another
    r = other.client.post(
        f"{first.api}/captures/document_front", content=licence.front, headers={"Content-Type": "image/jpeg"}
    )
    _error(r, 404, "not_found")
    r = TestClient(c.app).get(f"{first.api}", headers={"X-Case-Token": "not-a-real-token"})
    _error(r, 404, "not_found")
    page = TestClient(c.app).get("/status/not-a-real-token")
    assert page.status_code == 404 and "<html" in page.text and "no such verification" in page.text.lower()
    page = TestClient(c.app).get("/capture")
    assert page.status_code == 404 and "start one from the home page" in page.text

    # expiry: move the service's clock past the case's deadline
    services = c.app.state.services  # type: ignore[attr-defined]
    real_clock = services.clock
    services.clock = lambda: real_clock() + timedelta(seconds=services.settings.case_ttl_s + 1)
    try:
        _error(first.capture("document_front", licence.front), 410, "expired")
        page = c.get("/capture")
        assert page.status_code == 410 and "expired" in page.text.lower()
    finally:
        services.clock = real_clock
    with services.sessions() as db:
        case = db.get(Case, first.case_id)
        assert case is not None and case.state == "expired"
        assert case.purge_after is not None  # images (none here) are purged on schedule
        assert [e.to_state for e in case.events if e.event == "transition"][-1] == "expired"


def test_eligibility_refusals_are_readable(sqlite_client: TestClient) -> None:
    c = sqlite_client
    c.post("/start")
    r = c.post(
        "/eligibility", data={"us_resident": "no", "adult": "yes", "document_type": "passport", "method": "online"}
    )
    assert r.status_code == 422 and "US residents only" in r.text
    r = c.post(
        "/eligibility", data={"us_resident": "yes", "adult": "no", "document_type": "passport", "method": "online"}
    )
    assert r.status_code == 422 and "18" in r.text
    r = c.post("/eligibility", data={"us_resident": "yes"})
    assert r.status_code == 422  # missing fields: a readable page
    r = c.post(
        "/eligibility",
        data={"us_resident": "yes", "adult": "yes", "document_type": "passport", "method": "video_call"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/video-call"
    assert "Verify in a video call" in c.get("/video-call").text


def test_security_headers(sqlite_client: TestClient) -> None:
    r = sqlite_client.get("/")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in sqlite_client.get("/static/app.css").headers


def test_refused_eligibility_keeps_the_answers(sqlite_client: TestClient) -> None:
    c = sqlite_client
    c.post("/start")
    r = c.post(
        "/eligibility",
        data={"us_resident": "no", "adult": "yes", "document_type": "passport", "method": "online", "email": "a@b.co"},
    )
    assert r.status_code == 422
    assert 'value="no" checked' in r.text and 'value="passport" required checked' in r.text
    assert 'value="a@b.co"' in r.text
