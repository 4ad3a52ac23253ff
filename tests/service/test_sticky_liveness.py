"""A liveness session lives in the web process that started it; elsewhere it is lost, with a clear 409.

Two services sharing one database and one blob store stand for two web processes behind the
load balancer (``tests/scale/`` runs real processes behind HAProxy and kills one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from openidv.service.app import create_app
from openidv.service.live_sessions import LOST_SESSION_RESTARTS
from openidv.service.orm import CaseEvent
from openidv.synth.forgery import SyntheticDocument
from tests.service.conftest import Applicant, make_settings


def _at_liveness(client: TestClient, licence: SyntheticDocument) -> Applicant:
    a = Applicant(client)
    a.start("drivers_license")
    assert licence.back is not None
    for step, image in (("document_front", licence.front), ("document_back", licence.back)):
        assert a.capture(step, image).json()["accepted"], step
    return a


def _frame(client: TestClient, api: str, image: bytes) -> tuple[int, dict[str, object]]:
    r = client.post(f"{api}/liveness/frames", params={"ts": 1.0}, content=image, headers={"Content-Type": "image/jpeg"})
    return r.status_code, r.json()


def _liveness_attempts(client: TestClient, api: str) -> int:
    steps = client.get(api).json()["steps"]
    return int(next(s for s in steps if s["step"] == "liveness")["attempts"])


def test_a_frame_reaching_another_process_gets_409_session_lost_and_the_restart_there_works(
    tmp_path: Path, database: str, licence: SyntheticDocument, astronaut: np.ndarray
) -> None:
    settings = make_settings(tmp_path, database)  # one database, one blob folder, one key: two processes
    app_a, app_b = create_app(settings), create_app(settings)
    with TestClient(app_a) as one, TestClient(app_b) as other:
        a = _at_liveness(one, licence)
        other.cookies.set("openidv_case", str(one.cookies.get("openidv_case")))
        assert one.post(f"{a.api}/liveness/start").status_code == 200
        status, body = _frame(other, a.api, licence.front)
        assert status == 409 and body["error"]["code"] == "liveness_session_lost", body  # type: ignore[index]
        assert "interrupted" in body["error"]["message"]  # type: ignore[index]
        finish = other.post(f"{a.api}/liveness/finish")
        assert finish.status_code == 409 and finish.json()["error"]["code"] == "liveness_session_lost"
        # the applicant redoes only the liveness step, on the process the case now reaches
        assert Applicant(other, a.case_id).liveness(astronaut)["accepted"]
        assert _liveness_attempts(other, a.api) == 1  # the interrupted attempt was taken over, not counted twice
        r = other.post(f"{a.api}/submit")
        assert r.status_code == 200 and r.json()["state"] == "in_review", r.text
        with app_a.state.services.sessions() as db:
            events = db.scalars(select(CaseEvent.event).where(CaseEvent.case_id == a.case_id)).all()
        assert events.count("liveness_started") == 1 and events.count("liveness_restarted") == 1
    for app in (app_a, app_b):
        app.state.services.engine.dispose()


def test_a_frame_before_any_start_is_not_a_lost_session(sqlite_client: TestClient, licence: SyntheticDocument) -> None:
    a = _at_liveness(sqlite_client, licence)
    status, body = _frame(sqlite_client, a.api, licence.front)
    assert status == 409 and body["error"]["code"] == "no_liveness_session"  # type: ignore[index]


def test_restarts_after_lost_sessions_take_over_an_attempt_only_a_few_times(
    sqlite_client: TestClient, licence: SyntheticDocument
) -> None:
    """Losing sessions cannot become a way round the attempt limit."""
    a = _at_liveness(sqlite_client, licence)
    runtime = sqlite_client.app.state.services.runtime  # type: ignore[attr-defined]
    attempts = []
    for _ in range(LOST_SESSION_RESTARTS + 2):
        r = sqlite_client.post(f"{a.api}/liveness/start")
        assert r.status_code == 200, r.text
        attempts.append(r.json()["attempt"])
        runtime.end_liveness(a.case_id)  # the process that held it died
        assert _frame(sqlite_client, a.api, licence.front)[1]["error"]["code"] == "liveness_session_lost"  # type: ignore[index]
    assert attempts == [1] * (LOST_SESSION_RESTARTS + 1) + [2]
