"""Channel rules (issue 19 item 11): who may consent, where document photos come from, the video-call
email, links from OPENIDV_PUBLIC_URL, the interactive API docs."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from openidv.imaging import encode_jpeg
from openidv.service.app import create_app
from openidv.service.orm import ApiKey, Case
from tests.service.conftest import Applicant, make_settings, overridden_settings

KEY = {"Authorization": "Bearer oidv_market_key"}


def _error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.json()["error"]["code"] == code, r.json()


def _with_key(c: TestClient) -> None:
    with c.app.state.services.sessions() as db:  # type: ignore[attr-defined]
        raw = KEY["Authorization"].split()[1]
        db.add(ApiKey(name="market", prefix=raw[:9], key_hash=hashlib.sha256(raw.encode()).hexdigest()))
        db.commit()


def _api_case(c: TestClient) -> tuple[str, str]:
    """A case created with the API key, eligible; returns (case id, token)."""
    _with_key(c)
    r = c.post("/api/v1/cases", json={}, headers={**KEY, "Host": "evil.example"})
    assert r.status_code == 201, r.text
    case_id, token = r.json()["case_id"], r.json()["token"]
    answers = {"us_resident": True, "adult": True, "document_type": "drivers_license", "biometric": True}
    assert c.post(f"/api/v1/cases/{case_id}/eligibility", json=answers, headers=KEY).status_code == 200
    return case_id, token


def test_consent_comes_only_from_the_applicant(sqlite_client: TestClient) -> None:
    c = sqlite_client
    case_id, token = _api_case(c)
    version = c.app.state.services.settings.consent_version  # type: ignore[attr-defined]
    consent = {"accepted": True, "version": version}
    _error(c.post(f"/api/v1/cases/{case_id}/consent", json=consent, headers=KEY), 403, "applicant_only")
    fresh = TestClient(c.app)
    r = fresh.post(f"/api/v1/cases/{case_id}/consent", json=consent, headers={"X-Case-Token": token})
    assert r.status_code == 200 and r.json()["state"] != "started", r.text


def test_links_are_built_from_the_public_url_not_the_host_header(sqlite_client: TestClient) -> None:
    c = sqlite_client
    _with_key(c)
    r = c.post("/api/v1/cases", json={}, headers={**KEY, "Host": "evil.example"})
    public = c.app.state.services.settings.public_url.rstrip("/")  # type: ignore[attr-defined]
    body = r.json()
    assert body["applicant_url"].startswith(public + "/resume/") and body["status_url"].startswith(public)
    assert "evil.example" not in r.text


def _exif_jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: what a camera app writes
    Image.fromarray(rgb).save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def test_document_photos_come_only_from_the_live_capture(sqlite_client: TestClient) -> None:
    c = sqlite_client
    a = Applicant(c)
    a.start("drivers_license")
    rgb = np.random.default_rng(3).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    png = io.BytesIO()
    Image.fromarray(rgb).save(png, format="PNG")
    _error(a.capture("document_front", png.getvalue(), "image/png"), 422, "live_capture_required")
    _error(a.capture("document_front", _exif_jpeg(rgb)), 422, "live_capture_required")
    assert c.get(a.api).json()["steps"][0]["attempts"] == 0  # refusals cost no attempt
    r = a.capture("document_front", encode_jpeg(rgb, 85))  # what the page's canvas sends: judged on content
    assert r.status_code == 200 and r.json()["accepted"] is False and r.json()["attempt"] == 1, r.text
    with overridden_settings(c, allow_file_upload=True):
        r = a.capture("document_front", png.getvalue(), "image/png")
        assert r.status_code == 200 and r.json()["attempt"] == 2, r.text


def test_an_api_key_cannot_upload_document_photos(sqlite_client: TestClient) -> None:
    c = sqlite_client
    case_id, token = _api_case(c)
    version = c.app.state.services.settings.consent_version  # type: ignore[attr-defined]
    consent = {"accepted": True, "version": version}
    assert c.post(f"/api/v1/cases/{case_id}/consent", json=consent, headers={"X-Case-Token": token}).status_code == 200
    jpeg = encode_jpeg(np.full((480, 640, 3), 128, np.uint8), 85)
    headers = {**KEY, "Content-Type": "image/jpeg"}
    r = c.post(f"/api/v1/cases/{case_id}/captures/document_front", content=jpeg, headers=headers)
    _error(r, 422, "live_capture_required")


def test_the_video_call_email_is_validated_like_the_eligibility_email(sqlite_client: TestClient) -> None:
    c = sqlite_client
    assert c.post("/start", follow_redirects=False).status_code == 303
    for bad in ("not-an-address", "a@b.example\r\nBcc: list@victim.example", "x" * 330 + "@b.example"):
        r = c.post("/video-call", data={"email": bad}, headers={"Accept": "application/json"})
        _error(r, 422, "bad_email")
    with c.app.state.services.sessions() as db:  # type: ignore[attr-defined]
        (case,) = db.query(Case).all()
        assert case.state == "started" and case.contact_email is None  # nothing recorded
    r = c.post("/video-call", data={"email": " seller@example.com "}, follow_redirects=False)
    assert r.status_code == 303
    with c.app.state.services.sessions() as db:  # type: ignore[attr-defined]
        (case,) = db.query(Case).all()
        assert case.state == "video_call_requested" and case.contact_email == "seller@example.com"


def test_interactive_api_docs_are_off_unless_asked_for(sqlite_client: TestClient, tmp_path: Path) -> None:
    assert sqlite_client.get("/docs").status_code == 404 and sqlite_client.get("/redoc").status_code == 404
    assert sqlite_client.get("/openapi.json").status_code == 200
    app = create_app(make_settings(tmp_path / "dev", api_docs=True))
    with TestClient(app) as dev:
        assert dev.get("/docs").status_code == 200
