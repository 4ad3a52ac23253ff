"""Replays the attacks of issue 19 items 3-8 on whatever ``openidv`` is importable; prints what happened.

Not a test (pytest does not collect it): the tests are in ``test_privacy.py`` and ``test_console.py``.
It shows the same attacks on two trees, before and after the change::

    git archive da82148 src | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old/src python tests/service/replay_privacy_attacks.py   # before
    PYTHONPATH=src python tests/service/replay_privacy_attacks.py            # after
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from openidv.service.app import create_app
from openidv.service.auth import create_user
from openidv.service.cases import create_case, store_blob, transition
from openidv.service.crypto import CryptoError
from openidv.service.lifecycle import CaseState
from openidv.service.orm import ApiKey, Case
from openidv.service.retention import purge_due
from openidv.service.settings import ServiceSettings

PASSWORD = "correct horse battery staple"


def _login(app: Any, name: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    client.post("/review/login", data={"name": name, "password": PASSWORD})
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/review").text)
    assert found is not None
    return client, found.group(1)


def _tokens(app: Any, c: TestClient, out: dict[str, object]) -> str:
    created = c.post("/api/v1/cases", json={}, headers={"Authorization": "Bearer shop"}).json()
    status = created["status_url"].rsplit("/", 1)[1]
    out["7 the status link's token is the case token"] = status == created["token"]
    holder = TestClient(app)
    holder.cookies.set("openidv_case", status)
    r = holder.post("/video-call", data={"email": "evil@example.com"}, follow_redirects=False)
    out["7 the status token asks for a video call and changes the email (HTTP)"] = r.status_code
    return str(created["case_id"])


def _retention(svc: Any, out: dict[str, object]) -> None:
    with svc.sessions() as db:
        case, _ = create_case(svc, db, channel="web", actor="applicant")
        store_blob(svc, db, case, "selfie", "image/jpeg", b"\xff\xd8\xff image")
        for state in (CaseState.CAPTURING, CaseState.SUBMITTED, CaseState.IN_REVIEW):
            transition(svc, db, case, state, "system")
        db.commit()
        out["4 a case in review has a purge date"] = case.purge_after is not None
        transition(svc, db, case, CaseState.APPROVED, "system")
        db.commit()
        case_id = case.id
    real = svc.clock
    svc.clock = lambda: real() + timedelta(days=svc.settings.retention_days + 1)
    purge_due(svc)
    svc.clock = real
    with svc.sessions() as db:
        out["3 the wrapped data key survives the purge"] = db.get(Case, case_id).wrapped_data_key is not None


def _video_call(app: Any, svc: Any, out: dict[str, object]) -> None:
    admin, token = _login(app, "ada")
    start = (svc.clock() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r = admin.post("/review/slots", data={"csrf_token": token, "starts_at": start, "duration_min": "1000000"})
    out["8 a slot of 1,000,000 minutes (HTTP)"] = r.history[0].status_code if r.history else r.status_code
    admin.post("/review/slots", data={"csrf_token": token, "starts_at": start, "duration_min": "15"})
    seller = TestClient(app)
    seller.post("/start")
    answers = {"us_resident": "yes", "adult": "yes", "document_type": "passport", "method": "video_call"}
    seller.post("/eligibility", data=answers)
    slot = re.findall(r'name="slot_id" value="(\d+)"', seller.get("/video-call").text)[-1]
    seller.post("/video-call/book", data={"slot_id": slot})
    rita, token = _login(app, "rita")
    outcome = {"csrf_token": token, "outcome": "not_verified", "note": "INTERNAL NOTE"}
    r = rita.post(f"/review/slots/{slot}/outcome", data=outcome, follow_redirects=False)
    out["8 an unclaimed reviewer records not_verified 2 days before the slot (HTTP)"] = r.status_code
    out["8 the internal note on the seller's page"] = "INTERNAL NOTE" in seller.get("/done").text


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    os.umask(0o022)
    app = create_app(
        ServiceSettings(data_dir=tmp / "var", warm_models=False, outbox_worker=False, environment="development")
    )  # type: ignore[call-arg]
    out: dict[str, object] = {}
    with TestClient(app) as c:
        svc = app.state.services
        with svc.sessions() as db:
            db.add(ApiKey(name="shop", prefix="oidv_", key_hash=hashlib.sha256(b"shop").hexdigest()))
            create_user(db, "rita", "reviewer", PASSWORD)
            create_user(db, "ada", "admin", PASSWORD)
            db.commit()
        case_id = _tokens(app, c, out)
        _retention(svc, out)
        r = c.delete(f"/api/v1/cases/{case_id}", headers={"Authorization": "Bearer shop"})
        out["5 DELETE /api/v1/cases/{id} (HTTP)"] = r.status_code
        _video_call(app, svc, out)
    out["6 data folder mode"] = oct((tmp / "var").stat().st_mode & 0o777)
    out["6 database mode"] = oct((tmp / "var" / "openidv.db").stat().st_mode & 0o777)
    try:
        create_app(ServiceSettings(data_dir=tmp / "prod", warm_models=False, outbox_worker=False))
        out["6 outside development without OPENIDV_KEY_FILE"] = "starts"
    except CryptoError as exc:  # the old tree starts; the new one refuses with KeyFileRequiredError
        out["6 outside development without OPENIDV_KEY_FILE"] = f"refused ({type(exc).__name__})"
    for key, value in out.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
