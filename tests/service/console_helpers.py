"""Recorded cases and logged-in reviewers for the console tests."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from openidv.imaging import encode_jpeg
from openidv.service.auth import create_user
from openidv.service.cases import Services, create_case, set_reports, store_blob, transition
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Capture

PASSWORD = "correct horse battery staple"


def check(name: str, status: str = "pass", reason: str = "ok", score: float | None = 0.9) -> dict[str, Any]:
    return {"name": name, "status": status, "reason": reason, "score": score, "detail": ""}


def recorded_reports(*, mismatch: bool = False, outcome: str = "review") -> tuple[dict[str, Any], dict[str, Any]]:
    """Reports shaped like the engines' JSON (a licence, live, same person) and a recommendation."""
    consistency = check("consistency_barcode_printed")
    if mismatch:
        consistency = check("consistency_barcode_printed", "fail", "fields_mismatch", 0.0) | {
            "data": {"compared": ["birth_date"], "mismatches": {"birth_date": ["1988-03-22", "1989-03-22"]}}
        }
    document = {
        "type": "us_dl_id",
        "status": "fail" if mismatch else "pass",
        "all_fields": [
            {"name": "birth_date", "value": "1988-03-22", "source": "barcode"},
            {"name": "birth_date", "value": "1989-03-22" if mismatch else "1988-03-22", "source": "printed"},
            {"name": "family_name", "value": "RIVERA", "source": "barcode"},
        ],
        "checks": [check("barcode_read", reason="decoded"), consistency, check("document_not_expired")],
    }
    reports = {
        "document": document,
        "liveness": {"decision": "live", "score": 0.8, "checks": [check("planarity")]},
        "face_match": {"same_person": True, "score": 0.7, "operating_point": "1e-3", "reasons": [], "checks": []},
    }
    return reports, {"outcome": outcome, "reasons": [], "mode": "manual", "policy_version": "test"}


def seed_case(
    svc: Services,
    *,
    document_type: str = "drivers_license",
    mismatch: bool = False,
    outcome: str = "review",
    email: str | None = "seller@example.com",
    submitted_ago_h: float = 1.0,
    channel: str = "web",
) -> tuple[str, str]:
    """A case in ``in_review`` with recorded reports and real (encrypted) images; returns (id, token)."""
    with svc.sessions() as db:
        case, token = create_case(svc, db, channel=channel, actor="applicant")
        case.document_type = document_type
        case.contact_email = email
        case.consent_version, case.consent_at = svc.settings.consent_version, svc.clock()
        transition(svc, db, case, CaseState.CAPTURING, "applicant")
        rng = np.random.default_rng(len(case.id))
        for kind in ("document_front", "document_back", "portrait", "selfie", "liveness_frame"):
            blob = store_blob(
                svc, db, case, kind, "image/jpeg", encode_jpeg(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8))
            )
            if kind in ("document_front", "document_back"):
                case.captures.append(Capture(case_id=case.id, step=kind, attempt=1, accepted=True, blob_id=blob.id))
        case.captures.append(Capture(case_id=case.id, step="liveness", attempt=1, accepted=True))
        reports, case.recommendation = recorded_reports(mismatch=mismatch, outcome=outcome)
        set_reports(svc, case, reports)
        case.submitted_at = svc.clock() - timedelta(hours=submitted_ago_h)
        case.review_due_at = case.submitted_at + timedelta(hours=svc.settings.review_deadline_h)
        transition(svc, db, case, CaseState.SUBMITTED, "applicant")
        transition(svc, db, case, CaseState.IN_REVIEW, "system")
        db.commit()
        return case.id, token


def add_users(svc: Services) -> None:
    with svc.sessions() as db:
        for name, role in (("rita", "reviewer"), ("remy", "reviewer"), ("ada", "admin")):
            create_user(db, name, role, PASSWORD)
        db.commit()


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    r = client.post("/review/login", data={"name": name, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf(client)


def csrf(client: TestClient, path: str = "/review") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)
