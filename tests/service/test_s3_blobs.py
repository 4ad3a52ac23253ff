"""The S3 blob store against a real S3 server (SeaweedFS ``weed mini`` on loopback), and ``/readyz``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openidv.document.forgery import SyntheticDocument
from openidv.service.app import create_app
from openidv.service.blobstore import BlobStoreUnavailableError
from openidv.service.cases import read_blob
from openidv.service.orm import Case
from openidv.service.s3store import S3BlobStore
from openidv.service.shredding import erase
from tests.service.conftest import Applicant, make_settings
from tests.service.seaweed import S3Server, SeaweedUnavailableError, seaweed_server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    try:
        with seaweed_server() as server:
            yield server
    except SeaweedUnavailableError as exc:
        pytest.skip(f"S3 tests skipped: SeaweedFS could not start: {exc}")


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


def test_a_case_through_s3_is_stored_encrypted_read_back_and_purged(
    s3: S3Server, tmp_path: Path, licence: SyntheticDocument
) -> None:
    settings = make_settings(tmp_path, **_s3_settings(tmp_path, s3))
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/readyz").json() == {"status": "ready", "checks": {"database": "ok", "blob_store": "ok"}}
        a = Applicant(client)
        a.start("drivers_license")
        assert licence.back is not None
        for step, photo in (("document_front", licence.front), ("document_back", licence.back)):
            r = a.capture(step, photo)
            assert r.status_code == 200 and r.json()["accepted"], r.json()
        svc = app.state.services
        prefix = f"{settings.s3_prefix}{a.case_id}/"
        with svc.sessions() as db:
            case = db.get(Case, a.case_id)
            assert case is not None
            rows = {b.id: b for b in case.blobs}
            assert {b.kind for b in rows.values()} >= {"document_front", "document_back", "portrait"}
            assert _keys(s3, prefix) == {f"{prefix}{blob_id}.bin" for blob_id in rows}
            for blob_id, row in rows.items():
                stored = s3.client().get_object(Bucket=s3.bucket, Key=f"{prefix}{blob_id}.bin")["Body"].read()
                assert len(stored) == row.size and not stored.startswith((b"\xff\xd8\xff", b"\x89PNG"))
                assert licence.front[2000:2064] not in stored
                plain = read_blob(svc, case, row)  # decrypts with the case key, checks the associated data
                assert plain.startswith((b"\xff\xd8\xff", b"\x89PNG"))
            assert read_blob(svc, case, rows[case.captures[0].blob_id]) == licence.front  # type: ignore[index]
            erase(svc, db, case, actor="system", reason="test")
            db.commit()
        assert _keys(s3, prefix) == set()
        assert not (tmp_path / "var" / "blobs").exists() or not any((tmp_path / "var" / "blobs").iterdir())
    app.state.services.engine.dispose()


def test_readyz_reports_an_unusable_blob_store_while_healthz_stays_ok(s3: S3Server, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, **_s3_settings(tmp_path, s3, s3_bucket="no-such-bucket")))
    with TestClient(app) as client:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "checks": {"database": "ok", "blob_store": "unavailable"}}
        assert client.get("/healthz").status_code == 200


def test_readyz_on_the_default_folder_store(sqlite_client: TestClient) -> None:
    r = sqlite_client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "blob_store": "ok"}


def test_s3_backend_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OPENIDV_S3_BUCKET"):
        make_settings(tmp_path, blob_backend="s3")
