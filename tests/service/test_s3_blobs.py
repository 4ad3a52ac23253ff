"""The S3 blob store against a real S3 server (SeaweedFS ``weed mini`` on loopback), and ``/readyz``."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from openidv.service.app import create_app
from openidv.service.blobstore import BlobStoreUnavailableError
from openidv.service.cases import Services, read_blob
from openidv.service.crypto import KeyRing
from openidv.service.orm import ApiKey, Case
from openidv.service.s3store import S3BlobStore
from openidv.service.shredding import erase
from openidv.synth.forgery import SyntheticDocument
from tests.service.conftest import Applicant, make_settings
from tests.service.pg import _free_port
from tests.service.seaweed import S3Server


def _s3_settings(tmp_path: Path, s3: S3Server, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "blob_backend": "s3",
        "s3_bucket": s3.bucket,
        "s3_endpoint_url": s3.endpoint_url,
        "s3_access_key_id": s3.access_key,
        "s3_secret_access_key": s3.secret_key,
        "s3_prefix": f"{tmp_path.name}/",
        "s3_timeout_s": 3.0,
    }
    values.update(overrides)
    return values


def _keys(s3: S3Server, prefix: str) -> set[str]:
    answer = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return {item["Key"] for item in answer.get("Contents", [])}


def test_s3_store_puts_gets_and_deletes_ciphertext(s3: S3Server, tmp_path: Path) -> None:
    store = S3BlobStore.from_settings(make_settings(tmp_path, **_s3_settings(tmp_path, s3)))
    store.check()
    case_id, other = secrets.token_hex(16), secrets.token_hex(16)
    blobs = {secrets.token_hex(16): secrets.token_bytes(n) for n in (1, 1000, 300_000)}
    for blob_id, data in blobs.items():
        store.put(case_id, blob_id, data)
    store.put(other, secrets.token_hex(16), b"other case")
    assert all(store.get(case_id, b) == data for b, data in blobs.items())
    first = next(iter(blobs))
    store.delete(case_id, first)
    with pytest.raises(FileNotFoundError):
        store.get(case_id, first)
    store.delete_case(case_id)
    assert _keys(s3, store.prefix + case_id) == set()
    assert len(_keys(s3, store.prefix + other)) == 1  # another case's objects stay
    with pytest.raises(ValueError, match="malformed"):
        store.put("../" + case_id[3:], first, b"x")


def test_s3_store_check_names_a_missing_bucket_or_bad_credentials(s3: S3Server, tmp_path: Path) -> None:
    for wrong in ({"s3_bucket": "no-such-bucket"}, {"s3_secret_access_key": "wrong"}):
        store = S3BlobStore.from_settings(make_settings(tmp_path, **_s3_settings(tmp_path, s3, **wrong)))
        with pytest.raises(BlobStoreUnavailableError, match="not usable"):
            store.check()


def _stored_objects_decrypt(svc: Services, s3: S3Server, case: Case, licence: SyntheticDocument) -> None:
    """Every blob row of ``case`` has its object, ciphertext only, which decrypts under the case key."""
    prefix = f"{svc.settings.s3_prefix}{case.id}/"
    rows = {b.id: b for b in case.blobs}
    assert _keys(s3, prefix) == {f"{prefix}{blob_id}.bin" for blob_id in rows}
    for blob_id, row in rows.items():
        stored = s3.client().get_object(Bucket=s3.bucket, Key=f"{prefix}{blob_id}.bin")["Body"].read()
        assert len(stored) == row.size and not stored.startswith((b"\xff\xd8\xff", b"\x89PNG"))
        assert licence.front[2000:2064] not in stored and b"JFIF\x00" not in stored
        assert read_blob(svc, case, row).startswith((b"\xff\xd8\xff", b"\x89PNG"))  # decrypts, aad checked
    front = next(c for c in case.captures if c.step == "document_front")
    assert read_blob(svc, case, rows[str(front.blob_id)]) == licence.front


@pytest.mark.parametrize("database", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_case_through_two_processes_on_postgresql_and_s3_is_stored_encrypted_and_purged(
    s3: S3Server, tmp_path: Path, database: str, licence: SyntheticDocument, astronaut: np.ndarray
) -> None:
    """Two services (as two web processes) share the database and the bucket, not their memory: the case
    starts in one, its back photo and liveness go through the other, and the first submits it, reading
    the other's photo back from S3. Erasing it deletes its objects."""
    key_file = tmp_path / "master.key"  # one key file, as production processes share it
    KeyRing.generate_file(key_file, "k1")
    shared = _s3_settings(tmp_path, s3, environment="production", key_file=key_file)
    settings = [make_settings(tmp_path / name, database, **shared) for name in ("a", "b")]
    app_a, app_b = create_app(settings[0]), create_app(settings[1])
    with TestClient(app_a) as one, TestClient(app_b) as other:
        for client in (one, other):
            assert client.get("/readyz").json() == {"status": "ready", "checks": {"database": "ok", "blob_store": "ok"}}
        a = Applicant(one)
        a.start("drivers_license")
        assert a.capture("document_front", licence.front).json()["accepted"]
        other.cookies.set("openidv_case", str(one.cookies.get("openidv_case")))
        b = Applicant(other, a.case_id)
        assert licence.back is not None
        assert b.capture("document_back", licence.back).json()["accepted"]
        assert b.liveness(astronaut)["accepted"]
        r = one.post(f"{a.api}/submit")
        assert r.status_code == 200 and r.json()["state"] == "in_review", r.text
        svc = app_a.state.services
        with svc.sessions() as db:
            case = db.get(Case, a.case_id)
            assert case is not None and set(case.reports) == {"document", "liveness", "face_match"}
            assert {b.kind for b in case.blobs} >= {"document_front", "document_back", "portrait", "selfie"}
            _stored_objects_decrypt(svc, s3, case, licence)
            erase(svc, db, case, actor="system", reason="test")
            db.commit()
        assert _keys(s3, f"{svc.settings.s3_prefix}{a.case_id}/") == set()
        assert not any((tmp_path / name / "var" / "blobs").exists() for name in ("a", "b"))
    for app in (app_a, app_b):
        app.state.services.engine.dispose()


def test_readyz_reports_an_unusable_blob_store_while_healthz_stays_ok(s3: S3Server, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, **_s3_settings(tmp_path, s3, s3_bucket="no-such-bucket")))
    with TestClient(app) as client:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "checks": {"database": "ok", "blob_store": "unavailable"}}
        assert client.get("/healthz").status_code == 200


def test_an_unreachable_s3_endpoint_gets_503_and_changes_nothing(s3: S3Server, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    settings = make_settings(tmp_path, **_s3_settings(tmp_path, s3, s3_endpoint_url=closed, s3_max_attempts=1))
    with pytest.raises(BlobStoreUnavailableError, match=r"S3 put .* failed"):
        S3BlobStore.from_settings(settings).put(secrets.token_hex(16), secrets.token_hex(16), b"ciphertext")
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 503 and client.get("/healthz").status_code == 200
        svc = app.state.services
        with svc.sessions() as db:
            db.add(ApiKey(name="shop", prefix="oidv_", key_hash=hashlib.sha256(b"shop").hexdigest()))
            db.commit()
        shop = {"Authorization": "Bearer shop"}
        case_id = client.post("/api/v1/cases", json={}, headers=shop).json()["case_id"]
        r = client.delete(f"/api/v1/cases/{case_id}", headers=shop)  # its objects cannot be deleted now
        assert r.status_code == 503 and r.json()["error"]["code"] == "storage_unavailable", r.text
        assert int(r.headers["Retry-After"]) > 0
        with svc.sessions() as db:  # the erasure was rolled back whole: the case is as it was
            case = db.get(Case, case_id)
            assert case is not None and case.state == "started" and case.wrapped_data_key is not None


def test_readyz_on_the_default_folder_store(sqlite_client: TestClient) -> None:
    r = sqlite_client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "blob_store": "ok"}


def test_s3_backend_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OPENIDV_S3_BUCKET"):
        make_settings(tmp_path, blob_backend="s3")
