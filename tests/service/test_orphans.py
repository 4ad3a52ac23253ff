"""The retention sweep deletes orphaned blob objects (written, their row never committed) once old enough,
on the folder store and on S3 (SeaweedFS on loopback); objects with a row, and young ones, stay."""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from openidv.service import cases
from openidv.service.app import build_services
from openidv.service.orm import Case
from openidv.service.retention import sweep, sweep_orphaned_blobs
from openidv.service.services import Services
from tests.service.conftest import make_settings
from tests.service.seaweed import S3Server


def _case_with_blob_and_orphans(svc: Services) -> tuple[Case, str, tuple[str, str]]:
    """A committed case with one blob (object + row), and two objects without rows under its prefix."""
    with svc.sessions() as db:
        case, _ = cases.create_case(svc, db, channel="web", actor="applicant")
        kept = cases.store_blob(svc, db, case, "selfie", "image/jpeg", b"\xff\xd8\xff" + secrets.token_bytes(64))
        db.commit()
    orphans = (secrets.token_hex(16), secrets.token_hex(16))
    for blob_id in orphans:  # as a request that wrote its object and then failed before committing
        svc.blobs.put(case.id, blob_id, secrets.token_bytes(80))
    return case, kept.id, orphans


def _ids(svc: Services, case_id: str) -> set[str]:
    return {o.blob_id for o in svc.blobs.objects() if o.case_id == case_id}


def test_the_sweep_deletes_old_orphans_from_the_folder_store(tmp_path: Path) -> None:
    svc = build_services(make_settings(tmp_path))
    case, kept, (old, young) = _case_with_blob_and_orphans(svc)
    two_hours_ago = time.time() - 7200
    for blob_id in (kept, old):
        path = svc.settings.data_dir / "blobs" / case.id / f"{blob_id}.bin"
        os.utime(path, (two_hours_ago, two_hours_ago))
    assert sweep_orphaned_blobs(svc) == 1
    assert _ids(svc, case.id) == {kept, young}
    assert sweep_orphaned_blobs(svc, grace=timedelta(0)) == 1  # the young orphan, once old enough
    assert _ids(svc, case.id) == {kept}


def test_the_retention_round_includes_the_orphan_sweep(tmp_path: Path) -> None:
    svc = build_services(make_settings(tmp_path))
    case, kept, (old, young) = _case_with_blob_and_orphans(svc)
    two_hours_ago = time.time() - 7200
    path = svc.settings.data_dir / "blobs" / case.id / f"{old}.bin"
    os.utime(path, (two_hours_ago, two_hours_ago))
    assert sweep(svc) == {"expired": 0, "purged": 0, "orphans": 1}
    assert _ids(svc, case.id) == {kept, young}


def test_the_sweep_deletes_orphans_from_the_s3_store(s3: S3Server, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        blob_backend="s3",
        s3_bucket=s3.bucket,
        s3_endpoint_url=s3.endpoint_url,
        s3_access_key_id=s3.access_key,
        s3_secret_access_key=s3.secret_key,
        s3_prefix=f"{tmp_path.name}/",
    )
    svc = build_services(settings)
    case, kept, orphans = _case_with_blob_and_orphans(svc)
    assert _ids(svc, case.id) == {kept, *orphans}
    assert sweep_orphaned_blobs(svc) == 0  # written just now: within the grace period
    assert sweep_orphaned_blobs(svc, grace=timedelta(0)) == 2
    assert _ids(svc, case.id) == {kept}
