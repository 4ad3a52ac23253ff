"""The applicant's whole flow through the real service, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from openidv.service.cases import full_reports, status_token
from openidv.service.orm import Case
from openidv.synth.forgery import SyntheticDocument
from tests.service.conftest import Applicant
from tests.service.test_document_reuse import seed_use


def _all_database_text(client: TestClient) -> bytes:
    """Every row of every table, as the database renders it (text), concatenated."""
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    out = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            cols = [c["name"] for c in inspect(engine).get_columns(table)]
            for row in conn.execute(text(f'SELECT {", ".join(cols)} FROM "{table}"')):
                out.append(repr(tuple(row)).encode())
    return b"\n".join(out)


def _json_float_lists(value: object, min_len: int = 64) -> list[list[float]]:
    """Numeric lists of at least ``min_len`` numbers anywhere in a JSON value (a face template would be one)."""
    found: list[list[float]] = []
    if isinstance(value, list):
        if len(value) >= min_len and all(isinstance(v, int | float) for v in value):
            found.append(value)
        for v in value:
            found += _json_float_lists(v, min_len)
    elif isinstance(value, dict):
        for v in value.values():
            found += _json_float_lists(v, min_len)
    return found


def test_full_flow_reaches_pending_and_stores_no_biometric_template_or_plaintext(
    client: TestClient, licence: SyntheticDocument, astronaut: np.ndarray, tmp_path: Path
) -> None:
    a = Applicant(client)
    a.start("drivers_license")

    r = a.capture("document_front", licence.front)
    assert r.status_code == 200 and r.json()["accepted"], r.json()
    assert r.json()["next_step"] == "document_back"
    assert licence.back is not None
    r = a.capture("document_back", licence.back)
    assert r.status_code == 200 and r.json()["accepted"], r.json()
    assert r.json()["next_step"] == "liveness"

    finish = a.liveness(astronaut)
    assert finish["accepted"], finish
    assert "checks" not in finish  # the applicant is not told how liveness decided

    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as db:  # as an integrator's case with a return URL (issue 22)
        case = db.get(Case, a.case_id)
        assert case is not None
        case.return_url = "https://market.example/back?x=1"
        db.commit()
        document = full_reports(services, case)["document"]  # with its fields (sealed under the case key)
    # issue 22: another applicant presented this licence before (its barcode's state and number)
    earlier = seed_use(services, document, email="someone.else@example.com", decision="rejected")
    r = client.post(f"{a.api}/submit")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "in_review" and body["status"] == "pending"  # manual mode: every case is reviewed
    assert body["return_to"] == f"https://market.example/back?x=1&case_id={a.case_id}&state=in_review"
    assert "recommendation" not in body and "score" not in json.dumps(body)

    page = client.get("/pending")
    assert page.status_code == 200 and "Pending verification" in page.text
    token = client.cookies.get("openidv_case")
    assert token
    status = client.get(f"/status/{status_token(token)}")
    assert status.status_code == 200 and 'data-status="pending"' in status.text

    with services.sessions() as db:
        case = db.get(Case, a.case_id)
        assert case is not None
        assert set(case.reports) == {"document", "liveness", "face_match"}
        assert case.reports["face_match"]["same_person"] is True
        assert case.reports["liveness"]["decision"] == "live", case.reports["liveness"]["checks"]
        light = next(c for c in case.reports["liveness"]["checks"] if c["name"] == "screen_light_response")
        assert light["status"] == "pass", light  # the page's colours were answered by the face
        assert case.reports["document"]["type"] == "us_dl_id"
        assert case.recommendation["outcome"] in {"approve", "review", "reject"}
        reused = [r for r in case.recommendation["reasons"] if r["code"] == "document.reused"]
        assert len(reused) == 1, case.recommendation  # its free-text detail is not kept in plaintext
        assert [(u["case_id"], u["decision"]) for u in case.recommendation["reused_by"]] == [(earlier, "rejected")]
        assert case.recommendation["mode"] == "manual"
        transitions = [(e.from_state, e.to_state, e.actor) for e in case.events if e.event == "transition"]
        assert transitions == [
            ("started", "capturing", "applicant"),
            ("capturing", "submitted", "applicant"),
            ("submitted", "in_review", "system"),
        ]
        kinds = sorted(b.kind for b in case.blobs)
        assert kinds.count("document_front") == 1 and kinds.count("document_back") == 1
        assert "selfie" in kinds and "portrait" in kinds and "liveness_frame" in kinds
        assert case.consent_version and case.consent_at is not None
        reports = case.reports
        from openidv.service.cases import blob_of, read_blob

        selfie_blob = blob_of(case, "selfie")
        assert selfie_blob is not None
        selfie_jpeg = read_blob(services, case, selfie_blob)

    # --- nothing biometric or plaintext at rest -------------------------------------------------
    assert not _json_float_lists(reports), "a long numeric vector (face template?) is stored in the reports"
    database = _all_database_text(client)
    files = [p for p in (tmp_path / "var").rglob("*") if p.is_file()]
    stored = [(p, p.read_bytes()) for p in files]
    if services.settings.resolved_database_url().startswith("sqlite"):
        assert any(p.suffix == ".db" for p in files)
    blobs = [(p, b) for p, b in stored if p.suffix == ".bin"]
    assert len(blobs) >= 5
    # the uploaded plaintext: no 64-byte window of it appears anywhere
    probes = [licence.front[2000:2064], licence.back[3000:3064]]
    for p, content in [*stored, (Path("<database>"), database)]:
        for probe in probes:
            assert probe not in content, f"plaintext image bytes found in {p}"
        assert b"\x89PNG\r\n\x1a\n" not in content, f"PNG signature in {p}"
        assert b"JFIF\x00" not in content and b"Exif\x00\x00" not in content, f"JPEG header in {p}"
    for p, content in blobs:
        assert not content.startswith(b"\xff\xd8\xff"), f"{p} is a plain JPEG"
    # the selfie's face template (recomputed here, in memory, as the match computed it) is nowhere at rest
    from openidv.face.detection import detect
    from openidv.face.embedding import embed
    from openidv.imaging import decode_image

    selfie = decode_image(selfie_jpeg)
    vec = np.asarray(embed(selfie, detect(selfie)[0]).vector)
    encodings = [vec.astype(np.float32).tobytes()[:64], vec.astype(np.float64).tobytes()[:64]]
    encodings.append(json.dumps([round(float(v), 4) for v in vec[:4]])[1:-1].encode())
    for p, content in [*stored, (Path("<database>"), database)]:
        for enc in encodings:
            assert enc not in content, f"face template bytes found in {p}"


def test_integrator_api_with_keys_and_openapi(sqlite_client: TestClient) -> None:
    import hashlib

    from openidv.service.orm import ApiKey

    services = sqlite_client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as db:
        for name, raw in (("shop-a", "oidv_key_a"), ("shop-b", "oidv_key_b")):
            db.add(ApiKey(name=name, prefix=raw[:9], key_hash=hashlib.sha256(raw.encode()).hexdigest()))
        db.commit()
    a = {"Authorization": "Bearer oidv_key_a"}
    b = {"Authorization": "Bearer oidv_key_b"}

    r = sqlite_client.post("/api/v1/cases", json={"external_ref": "seller-42"}, headers=a)
    assert r.status_code == 201, r.text
    created = r.json()
    case_id, token = created["case_id"], created["token"]
    assert created["status_url"].endswith(f"/status/{status_token(token)}")

    assert sqlite_client.get(f"/api/v1/cases/{case_id}", headers=a).json()["status"] == "not_submitted"
    assert sqlite_client.get(f"/api/v1/cases/{case_id}", headers=b).status_code == 404  # another integrator's case
    r = sqlite_client.post("/api/v1/cases", json={}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    fresh = TestClient(sqlite_client.app)
    assert fresh.post("/api/v1/cases", json={}).status_code == 401
    # the case token works for its own case only, as header
    r = fresh.post(
        f"/api/v1/cases/{case_id}/eligibility",
        json={"us_resident": True, "adult": True, "document_type": "passport", "biometric": True},
        headers={"X-Case-Token": token},
    )
    assert r.status_code == 200, r.text
    consent_version = r.json()["consent_version"]
    consent = {"accepted": True, "version": consent_version}
    r = fresh.post(f"/api/v1/cases/{case_id}/consent", json=consent, headers=a)
    assert r.status_code == 403 and r.json()["error"]["code"] == "applicant_only"  # only the applicant consents
    r = fresh.post(f"/api/v1/cases/{case_id}/consent", json=consent, headers={"X-Case-Token": token})
    assert r.status_code == 200 and r.json()["next_step"] == "passport_page"
    # the applicant link sets the cookie and lands on the capture page
    r = fresh.get(f"/resume/{token}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/capture"

    spec = sqlite_client.get("/openapi.json").json()
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/captures/{step}",
        "/api/v1/cases/{case_id}/liveness/frames",
        "/api/v1/cases/{case_id}/submit",
    ):
        assert path in spec["paths"], path


def test_auto_mode_decides_clear_cases_at_once_and_notifies(
    tmp_path: Path, astronaut: np.ndarray, astronaut_portrait: np.ndarray
) -> None:
    """Auto mode: a clear genuine case is approved on submit, shown at once, and the email is queued."""
    from datetime import date

    from openidv.service.app import create_app
    from openidv.service.orm import OutboxMessage
    from openidv.synth.forgery import generate
    from tests.service.conftest import make_settings

    licence = generate("genuine", np.random.default_rng(24), [astronaut_portrait], date.today(), kind="us_dl")
    assert licence.back is not None
    app = create_app(make_settings(tmp_path, decision_mode="auto"))
    with TestClient(app) as client:
        a = Applicant(client)
        a.start("drivers_license")
        assert a.capture("document_front", licence.front).json()["accepted"]
        assert a.capture("document_back", licence.back).json()["accepted"]
        services = app.state.services
        with services.sessions() as db:
            document = db.get(Case, a.case_id).reports["document"]  # type: ignore[union-attr]
        # issue 22: the same seller verified with this licence before: a resubmission, not flagged
        seed_use(services, document, email="seller@example.com", decision="rejected")
        assert a.liveness(astronaut)["accepted"]
        body = client.post(f"{a.api}/submit").json()
        with services.sessions() as db:
            case = db.get(Case, a.case_id)
            assert case is not None
            outcome = case.recommendation["outcome"]
            assert outcome == "approve", case.recommendation["reasons"]
            assert body["state"] == "approved" and body["status"] == "approved"
            assert [e.to_state for e in case.events if e.event == "transition"][-1] == "approved"
            assert case.events[-1].actor == "system"
            mails = db.query(OutboxMessage).filter_by(case_id=case.id, channel="email").all()
            assert len(mails) == 1 and mails[0].recipient == "seller@example.com"
        token = client.cookies.get("openidv_case")
        assert 'data-status="approved"' in client.get(f"/status/{status_token(token)}").text


def test_footage_that_ignores_the_screen_colours_is_not_live(
    client: TestClient, licence: SyntheticDocument, astronaut: np.ndarray
) -> None:
    """The same person and challenges, but the frames do not answer the screen light (a video played
    into the API or a virtual camera): the challenges are met, the screen-light check fails, and the
    recommendation is not an approval."""
    a = Applicant(client)
    a.start("drivers_license")
    assert licence.back is not None
    assert a.capture("document_front", licence.front).json()["accepted"]
    assert a.capture("document_back", licence.back).json()["accepted"]
    finish = a.liveness(astronaut, lit=False)
    assert finish["accepted"], finish  # usable: every challenge was met; the decision waits for review
    assert client.post(f"{a.api}/submit").status_code == 200
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as db:
        case = db.get(Case, a.case_id)
        assert case is not None
        live = case.reports["liveness"]
        light = next(c for c in live["checks"] if c["name"] == "screen_light_response")
        assert light["status"] == "fail" and light["reason"] == "no_light_response", light
        assert live["decision"] == "not_live"
        assert case.recommendation["outcome"] != "approve", case.recommendation
        assert any(r["code"].startswith("liveness.") for r in case.recommendation["reasons"]), case.recommendation


def test_a_room_too_bright_for_the_screen_light_asks_for_a_retry(
    client: TestClient, licence: SyntheticDocument, astronaut: np.ndarray
) -> None:
    """In daylight the screen adds ~1 % to the face's light: too faint to judge. The applicant is asked
    to move away from bright light and try again (not rejected); in an ordinary room the retry passes."""
    a = Applicant(client)
    a.start("drivers_license")
    assert licence.back is not None
    assert a.capture("document_front", licence.front).json()["accepted"]
    assert a.capture("document_back", licence.back).json()["accepted"]
    bright = a.liveness(astronaut, screen_adds=0.015)
    assert not bright["accepted"] and bright["retry"], bright
    assert "too bright" in bright["message"], bright["message"]
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as db:
        case = db.get(Case, a.case_id)
        assert case is not None
        first = next(c for c in case.captures if c.step == "liveness")
        assert not first.accepted and "weak_light_response" in first.reasons, first.reasons
    again = a.liveness(astronaut, seed=3)
    assert again["accepted"], again
