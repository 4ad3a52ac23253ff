"""Privacy life cycle: crypto-shredding, retention in every state, erasure, keys and files, tokens (issue 19)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openidv.service import crypto
from openidv.service.app import build_services, create_app
from openidv.service.cases import (
    Services,
    create_case,
    data_key,
    full_reports,
    set_reports,
    status_token,
    transition,
)
from openidv.service.errors import GoneError
from openidv.service.lifecycle import CaseState
from openidv.service.orm import ApiKey, AuditEntry, Blob, Case, OutboxMessage, Review, VideoCallRequest
from tests.service.conftest import make_settings
from tests.service.console_helpers import add_users, login, recorded_reports, seed_case

REPO = Path(__file__).resolve().parents[2]
#: what the seeded document says about the seller (every one must vanish from the stored data)
PERSONAL = {
    "family_name": "RIVERA",
    "given_names": "MARISOL QUETZALLI",
    "birth_date": "1988-03-22",
    "document_number": "D73194025",
    "address": "4417 WILLOWBROOK TERRACE",
}
EMAIL = "marisol.rivera@example.com"


def _personal_reports() -> dict[str, Any]:
    reports, _ = recorded_reports()
    fields = [{"name": k, "value": v, "source": "barcode"} for k, v in PERSONAL.items()]
    reports["document"]["all_fields"] = fields
    reports["document"]["fields"] = {f["name"]: f for f in fields}
    reports["document"]["notes"] = [f"barcode: {PERSONAL['family_name']} {PERSONAL['document_number']}"]
    reports["document"]["checks"].append(
        {"name": "age", "status": "pass", "reason": "adult", "score": 1.0, "detail": f"born {PERSONAL['birth_date']}"}
    )
    return reports


def _seed_personal(svc: Services, **kwargs: Any) -> tuple[str, str]:
    """An in-review case whose document names the seller, with a reviewer note and a message to the seller."""
    case_id, token = seed_case(svc, email=EMAIL, **kwargs)
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        set_reports(svc, case, _personal_reports())
        case.external_ref = "shop-seller-889"
        db.add(
            Review(
                case_id=case_id,
                reviewer="rita",
                action="escalate",
                internal_note=f"{PERSONAL['family_name']} looks older",
                seller_message=f"Dear {PERSONAL['given_names']}",
            )
        )
        db.add(VideoCallRequest(case_id=case_id, reason="requested", contact_email=EMAIL))
        db.add(
            OutboxMessage(
                channel="email", case_id=case_id, recipient=EMAIL, payload={"text": f"Hello {PERSONAL['family_name']}"}
            )
        )
        db.commit()
    return case_id, token


def _database_text(svc: Services) -> str:
    """Every row of every table, as text (what a copy of the database holds, whatever the engine)."""
    from openidv.service.orm import Base

    out = []
    with svc.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def _raw_sqlite(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("openidv.db*")))


@pytest.fixture
def svc(tmp_path: Path, database: str) -> Iterator[Services]:
    """The services on SQLite and on PostgreSQL."""
    s = build_services(make_settings(tmp_path, database))
    yield s
    s.engine.dispose()


def _later(svc: Services, **delta: float) -> None:
    real = svc.clock
    svc.clock = lambda: real() + timedelta(**delta)


# --------------------------------------------------------------------------- 3. crypto-shredding


def test_personal_fields_are_encrypted_and_purge_destroys_the_key(svc: Services, tmp_path: Path) -> None:
    """A copy of the blobs and the database taken before the purge: afterwards nothing decrypts and no
    personal field is left in the database, its rows or its files."""
    case_id, _ = _seed_personal(svc)
    dump = _database_text(svc)  # the reviewer's note and the email name the seller; the report's fields do not
    assert [v for v in PERSONAL.values() if v in dump] == [PERSONAL["family_name"], PERSONAL["given_names"]]
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None and case.wrapped_data_key is not None
        stored = json.dumps([case.reports, case.recommendation])
        assert not [v for v in PERSONAL.values() if v in stored]  # encrypted under the case key
        old_wrapped, key_id = case.wrapped_data_key, case.key_id
        assert full_reports(svc, case)["document"]["fields"]["family_name"]["value"] == PERSONAL["family_name"]
        assert "checks" in case.reports["document"] and "fields" not in case.reports["document"]
        blobs = {b.id: b.kind for b in case.blobs}
        transition(svc, db, case, CaseState.APPROVED, "reviewer:rita")
        db.commit()
    backup = tmp_path / "backup"
    shutil.copytree(svc.settings.data_dir, backup)

    from openidv.service.retention import purge_due

    _later(svc, days=svc.settings.retention_days + 1)
    assert purge_due(svc) == 1
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None and case.wrapped_data_key is None and case.sealed_reports is None
        assert case.reports["document"]["checks"]  # the public view stays (checks, scores)
    # the backed-up blobs opened with the key as it was before the purge (the backup is real ciphertext) ...
    old_key = svc.keys.unwrap(crypto.WrappedKey(key_id, old_wrapped), case_id)
    backed_up = {b: (backup / "blobs" / case_id / f"{b}.bin").read_bytes() for b in blobs}
    for blob_id, kind in blobs.items():
        assert crypto.decrypt(old_key, backed_up[blob_id], crypto.blob_aad(case_id, kind, blob_id))
    # ... but the database no longer holds that key, in its rows or in its files
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        with pytest.raises(GoneError):
            data_key(svc, case)
        assert all(w is None or w != old_wrapped for w in db.scalars(select(Case.wrapped_data_key)))
    dump = _database_text(svc)
    for value in [*PERSONAL.values(), EMAIL]:
        assert value not in dump, value
    if svc.engine.dialect.name == "sqlite":  # the files too: no old page or WAL frame keeps them
        raw = _raw_sqlite(svc.settings.data_dir)
        for value in [*PERSONAL.values(), EMAIL]:
            assert value.encode() not in raw, value
        assert old_wrapped not in raw


# --------------------------------------------------------------------------- 4. retention in every state


def test_every_state_has_a_retention_limit(svc: Services) -> None:
    in_review, _ = seed_case(svc)
    escalated, _ = seed_case(svc)
    with svc.sessions() as db:
        case = db.get(Case, escalated)
        assert case is not None
        case.escalated = True
        video, _ = create_case(svc, db, channel="web", actor="applicant")
        transition(svc, db, video, CaseState.VIDEO_CALL_REQUESTED, "applicant")
        db.commit()
        ids = [in_review, escalated, video.id]
        assert all(c.purge_after is not None for c in db.scalars(select(Case).where(Case.id.in_(ids))))

    from openidv.service.retention import purge_due

    _later(svc, days=svc.settings.open_case_retention_days - 1)
    assert purge_due(svc) == 0
    _later(svc, days=2)
    assert purge_due(svc) == 3
    with svc.sessions() as db:
        for case in db.scalars(select(Case).where(Case.id.in_(ids))):
            assert case.state == "expired" and case.purged_at is not None and case.wrapped_data_key is None
            assert all(b.deleted_at is not None for b in case.blobs)
            assert not (svc.settings.data_dir / "blobs" / case.id).exists()


# --------------------------------------------------------------------------- 5. erasure


def _assert_erased(svc: Services, case_id: str, actor: str) -> None:
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None and case.state == "erased"
        assert case.wrapped_data_key is None and case.sealed_reports is None and case.contact_email is None
        assert case.external_ref is None
        assert all(b.deleted_at is not None for b in db.scalars(select(Blob).where(Blob.case_id == case_id)))
        records = db.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id, AuditEntry.action == "erase_case"))
        assert [a.actor for a in records] == [actor]
    assert not (svc.settings.data_dir / "blobs" / case_id).exists()
    dump = _database_text(svc)
    assert not [v for v in [*PERSONAL.values(), EMAIL] if v in dump]


def test_erasure_by_api_cli_and_console_in_any_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(tmp_path))
    with TestClient(app) as client:
        svc: Services = app.state.services
        add_users(svc)
        with svc.sessions() as db:
            for name in ("shop", "other"):
                db.add(ApiKey(name=name, prefix="oidv_", key_hash=hashlib.sha256(name.encode()).hexdigest()))
            db.commit()
        # API: the key that created the case erases it (in review), nobody else
        api_case, api_token = _seed_personal(svc, channel="api:shop")
        assert client.delete(f"/api/v1/cases/{api_case}", headers={"Authorization": "Bearer other"}).status_code == 404
        r = client.delete(f"/api/v1/cases/{api_case}", headers={"X-Case-Token": api_token})
        assert r.status_code == 401
        r = client.delete(f"/api/v1/cases/{api_case}", headers={"Authorization": "Bearer shop"}, params={"reason": "x"})
        assert r.status_code == 200 and r.json()["state"] == "erased" and r.json()["images_deleted"] == 5
        again = client.delete(f"/api/v1/cases/{api_case}", headers={"Authorization": "Bearer shop"})
        assert again.status_code == 200 and again.json()["already_erased"] is True
        _assert_erased(svc, api_case, "api:shop")
        assert "erased" in TestClient(app).get(f"/status/{status_token(api_token)}").text

        # console: admins only, confirmed by the case id; an approved case
        console_case, _ = _seed_personal(svc)
        with svc.sessions() as db:
            case = db.get(Case, console_case)
            assert case is not None
            transition(svc, db, case, CaseState.APPROVED, "reviewer:rita")
            db.commit()
        t = login(client, "rita")
        assert (
            client.post(
                f"/review/cases/{console_case}/erase", data={"csrf_token": t, "confirm": console_case}
            ).status_code
            == 403
        )
        admin = TestClient(app)
        ta = login(admin, "ada")
        assert 'id="erase"' in admin.get(f"/review/cases/{console_case}").text
        assert (
            admin.post(f"/review/cases/{console_case}/erase", data={"csrf_token": ta, "confirm": "no"}).status_code
            == 422
        )
        r = admin.post(
            f"/review/cases/{console_case}/erase",
            data={"csrf_token": ta, "confirm": console_case},
            follow_redirects=False,
        )
        assert r.status_code == 303
        _assert_erased(svc, console_case, "reviewer:ada")

        # command line: a case just started
        with svc.sessions() as db:
            started, _ = create_case(svc, db, channel="web", actor="applicant")
            started_id = started.id
            db.commit()
    app.state.services.engine.dispose()
    from openidv.cli import main

    monkeypatch.setenv("OPENIDV_ENVIRONMENT", "development")
    monkeypatch.setenv("OPENIDV_DATA_DIR", str(tmp_path / "var"))
    assert main(["erase", started_id, "--reason", "request by email", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "erased"
    assert main(["erase", "f" * 32, "--json"]) == 2
    svc = build_services(make_settings(tmp_path))
    _assert_erased(svc, started_id, "cli")
    svc.engine.dispose()


# --------------------------------------------------------------------------- 6. keys and files


def test_refuses_to_start_without_a_key_file_outside_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from openidv.cli import main

    for name in [k for k in os.environ if k.startswith("OPENIDV_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OPENIDV_DATA_DIR", str(tmp_path / "var"))
    assert main(["serve", "--port", "1"]) == 2  # refused before anything listens
    err = capsys.readouterr().err
    assert "key_file_required" in err and "OPENIDV_KEY_FILE" in err and "openidv keys generate" in err
    assert not (tmp_path / "var").exists()  # nothing was created, no key generated next to the data
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^run:.*\n\tOPENIDV_ENVIRONMENT=development .*\$\(BIN\)/openidv serve", makefile, re.M)


def test_data_folder_0700_and_database_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        (tmp_path / "var").mkdir(mode=0o755)  # an existing folder others can read is tightened
        s = build_services(make_settings(tmp_path))
        _seed_personal(s)
        s.engine.dispose()
    finally:
        os.umask(old)
    data = tmp_path / "var"
    assert data.stat().st_mode & 0o777 == 0o700
    files = list(data.glob("openidv.db*"))
    assert files and all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    assert all(p.stat().st_mode & 0o077 == 0 for p in data.rglob("*"))


def test_keys_rotate_rewraps_every_data_key_while_the_service_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from openidv.cli import main
    from openidv.service import notify

    key_file = tmp_path / "keys" / "master.key"
    assert main(["keys", "generate", str(key_file), "--key-id", "k1"]) == 0
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert main(["keys", "generate", str(key_file)]) == 2  # never overwritten
    app = create_app(make_settings(tmp_path, key_file=key_file, environment="production"))
    with TestClient(app) as client:
        svc: Services = app.state.services
        add_users(svc)
        cases = [seed_case(svc)[0] for _ in range(3)]
        with svc.sessions() as db:
            key = ApiKey(name="shop", prefix="oidv_", key_hash="0" * 64)
            db.add(key)
            secret = notify.set_webhook(svc, db, key, "https://hooks.example.com/idv")
            db.commit()
        login(client, "ada")
        image = re.search(
            rf"/review/cases/{cases[0]}/images/[0-9a-f]{{32}}", client.get(f"/review/cases/{cases[0]}").text
        )
        assert image is not None

        # the command runs as another process would: its own settings, engine and key ring
        capsys.readouterr()
        monkeypatch.setenv("OPENIDV_KEY_FILE", str(key_file))
        monkeypatch.setenv("OPENIDV_DATA_DIR", str(tmp_path / "var"))
        assert main(["keys", "rotate", "--key-id", "k2", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["key_id"] == "k2" and result["cases"] == 3 and result["webhooks"] == 1

        # the running service reads the re-wrapped keys and wraps new cases under the new key
        assert client.get(image.group(0)).content.startswith(b"\xff\xd8\xff")
        seed_case(svc)  # a case created after the rotation
        with svc.sessions() as db:
            assert {c.key_id for c in db.scalars(select(Case))} == {"k2"}
            key = db.scalar(select(ApiKey).where(ApiKey.name == "shop"))
            assert key is not None and key.webhook_key_id == "k2"
            assert notify.webhook_secret(svc, key) == secret
            case = db.get(Case, cases[1])
            assert case is not None and full_reports(svc, case)["document"]["all_fields"]
    app.state.services.engine.dispose()
    assert [line.split(":")[0] for line in key_file.read_text().splitlines() if not line.startswith("#")] == [
        "k1",
        "k2",
    ]


def test_rotation_never_restores_a_destroyed_key(svc: Services, tmp_path: Path) -> None:
    """A case shredded between the rotation's read and its write keeps its key destroyed (compare-and-swap)."""
    from sqlalchemy import update

    from openidv.service import rotation

    key_file = tmp_path / "k.key"
    crypto.KeyRing.generate_file(key_file, "a")
    svc.keys = crypto.KeyRing.from_file(key_file)
    case_id, _ = seed_case(svc)
    real_wrap = svc.keys.wrap

    def wrap_then_shred(data_key: bytes, cid: str) -> crypto.WrappedKey:
        out = real_wrap(data_key, cid)
        with svc.engine.begin() as conn:  # the purge commits meanwhile
            conn.execute(update(Case).where(Case.id == cid).values(wrapped_data_key=None))
        return out

    svc.keys.wrap = wrap_then_shred  # type: ignore[method-assign]
    result = rotation.rotate(svc, key_file, "b")
    assert result.cases == 0 and result.skipped == 1
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None and case.wrapped_data_key is None


# --------------------------------------------------------------------------- 7. tokens


def test_status_token_is_read_only_and_the_case_token_expires(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    with TestClient(app):
        svc: Services = app.state.services
        case_id, token = seed_case(svc, email=EMAIL)
        with svc.sessions() as db:
            case = db.get(Case, case_id)
            assert case is not None
            transition(svc, db, case, CaseState.REJECTED, "reviewer:rita")
            db.commit()
        status = status_token(token)
        assert status != token and token not in status
        anyone = TestClient(app)
        assert 'data-status="rejected"' in anyone.get(f"/status/{status}").text
        # the status token as a case credential opens nothing: no email change, no video call, no booking
        anyone.cookies.set("openidv_case", status)
        assert anyone.post("/video-call", data={"email": "attacker@example.com"}).status_code == 404
        assert anyone.post("/video-call/book", data={"slot_id": "1"}).status_code == 404
        assert anyone.get("/done").status_code == 404
        r = anyone.post(f"/api/v1/cases/{case_id}/video-call", json={}, headers={"X-Case-Token": status})
        assert r.status_code == 404
        # the case token of a rejected case can still ask for the video call, within the renewed window
        owner = TestClient(app)
        owner.cookies.set("openidv_case", token)
        assert 'data-status="rejected"' in owner.get("/done").text
        with svc.sessions() as db:
            case = db.get(Case, case_id)
            assert case is not None and case.state == "rejected" and case.contact_email == EMAIL
            assert not db.scalars(select(VideoCallRequest).where(VideoCallRequest.case_id == case_id)).all()

        # the capture token expires with the case TTL; the status link keeps working
        fresh = TestClient(app)
        assert fresh.post("/start", follow_redirects=False).status_code == 303
        assert fresh.get("/eligibility").status_code == 200
        _later(svc, seconds=svc.settings.case_ttl_s + 1)
        r = fresh.get("/eligibility")
        assert r.status_code == 410
        late = fresh.cookies.get("openidv_case")
        assert late is not None
        assert 'data-status="expired"' in TestClient(app).get(f"/status/{status_token(late)}").text
        _later(svc, days=8)  # past the rejected case's renewed window too
        assert owner.get("/done").status_code == 410
        assert 'data-status="rejected"' in anyone.get(f"/status/{status}").text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_token_in_the_access_log(tmp_path: Path) -> None:
    """A real ``openidv serve``: the status and resume paths are masked in its access log."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENIDV_")}
    env |= {
        "OPENIDV_ENVIRONMENT": "development",
        "OPENIDV_DATA_DIR": str(tmp_path / "var"),
        "OPENIDV_WARM_MODELS": "false",
        "OPENIDV_OUTBOX_WORKER": "false",
        "PYTHONPATH": str(REPO / "src"),
    }
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "openidv.cli", "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
        try:
            import httpx

            secret = "s3cretT0kenValue_" + "x" * 20
            for _ in range(300):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            for path in (f"/status/{secret}", f"/resume/{secret}?x=1", f"/status/{secret}/"):
                assert httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5.0).status_code in (307, 404)
        finally:
            server.terminate()
            server.wait(timeout=30)
    written = log.read_text()
    assert "/status/[token]" in written and "/resume/[token]" in written
    assert secret not in written and "GET /healthz" in written


def test_reports_stored_before_sealing_are_sealed_at_start(tmp_path: Path) -> None:
    """A case written with plaintext fields (as before migration 0003) is sealed when the service starts."""
    svc = build_services(make_settings(tmp_path))
    case_id, _ = seed_case(svc)
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        case.reports, case.sealed_reports = _personal_reports(), None  # the old way: everything in plaintext
        db.commit()
    svc.engine.dispose()
    svc = build_services(make_settings(tmp_path))
    assert not [v for v in PERSONAL.values() if v in _database_text(svc)]
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None and case.sealed_reports is not None
        assert full_reports(svc, case)["document"]["fields"]["address"]["value"] == PERSONAL["address"]
    svc.engine.dispose()
