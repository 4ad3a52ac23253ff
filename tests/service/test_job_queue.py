"""The job queue (``OPENIDV_JOB_QUEUE=procrastinate``) on a real PostgreSQL server, with real worker processes.

Submit enqueues the analysis in its own transaction; ``python -m openidv.cli worker`` analyses
the case (and retries a failing one, then sends it to review as ``analysis_failed``); the
analysis decides once however often it runs; a worker killed with SIGKILL mid-job is replaced
and its case recovered through ``retry_stalled``. The workers' JSON logs carry no personal data.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from openidv.document.engine import DocumentConfig, SideAnalysis, analyse_side
from openidv.imaging import encode_jpeg
from openidv.service import cases, submission
from openidv.service.app import build_services, create_app
from openidv.service.db import make_engine, migrate
from openidv.service.deps import CASE_COOKIE
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Capture, Case, CaseEvent
from openidv.service.services import Services
from openidv.service.settings import ServiceSettings
from openidv.service.submission import ANALYSIS_FAILED, AnalysisOutcome
from openidv.synth.forgery import SyntheticDocument
from tests.service.conftest import Applicant, make_settings
from tests.service.pg import _free_port

POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]
ROOT = Path(__file__).resolve().parents[2]
EMAIL = "queue.seller@example.com"
#: the test workers' heartbeat, dead-worker limit and recovery period (seconds; production: 10, 30, 10)
#: lines that mediapipe's native code (TFLite, absl) writes straight to stderr when its face mesh loads
NATIVE_LOG = re.compile(r"^(INFO: Created TensorFlow Lite|WARNING: All log messages before absl|[IWE]\d{4} )")
FAST_WORKER = {"worker_heartbeat_s": 0.5, "worker_stalled_s": 3.0, "worker_recovery_s": 1}


def _settings(tmp_path: Path, database: str, **overrides: Any) -> ServiceSettings:
    return make_settings(tmp_path, database, job_queue="procrastinate", allow_file_upload=True, **overrides)


@pytest.fixture
def svc(tmp_path: Path, database: str) -> Iterator[Services]:
    services = build_services(_settings(tmp_path, database))
    yield services
    services.engine.dispose()


@pytest.fixture(scope="module")
def licence_sides(licence: SyntheticDocument) -> dict[str, SideAnalysis]:
    """The licence's two sides analysed once (what a capture request caches for the document report)."""
    assert licence.back is not None
    return {
        "document_front": analyse_side(licence.front, "front", DocumentConfig()),
        "document_back": analyse_side(licence.back, "back", DocumentConfig()),
    }


@pytest.fixture
def make_ready_case(
    svc: Services, licence: SyntheticDocument, licence_sides: dict[str, SideAnalysis], astronaut: np.ndarray
) -> Callable[[], tuple[str, str]]:
    """Makes cases ready to submit: both licence sides captured as a capture request keeps them (the
    encrypted photo, the accepted capture, the side analysis in the process cache, then the document
    report and the portrait once both are in), and a selfie from an accepted liveness step.
    Returns the case id and the applicant's token."""
    assert licence.back is not None
    photos = {"document_front": licence.front, "document_back": licence.back}

    def make() -> tuple[str, str]:
        with svc.sessions() as db:
            case, token = cases.create_case(svc, db, channel="web", actor="applicant")
            cases.set_eligibility(
                svc,
                db,
                case,
                us_resident=True,
                adult=True,
                document_type="drivers_license",
                biometric=True,
                actor="applicant",
                email=EMAIL,
            )
            cases.set_consent(svc, db, case, accepted=True, version=svc.settings.consent_version, actor="applicant")
            for step, photo in photos.items():
                blob = cases.store_blob(svc, db, case, step, "image/jpeg", photo)
                svc.runtime.sides.put(blob.id, licence_sides[step])
                _accept(svc, db, case, step, blob.id)
            cases.build_document_report(svc, db, case)
            selfie = cases.store_blob(svc, db, case, "selfie", "image/jpeg", encode_jpeg(astronaut, 92))
            _accept(svc, db, case, cases.LIVENESS, selfie.id)
            db.commit()
            return case.id, token

    return make


def _accept(svc: Services, db: Session, case: Case, step: str, blob_id: str) -> None:
    capture = Capture(case_id=case.id, step=step, attempt=1, accepted=True, reasons=[], result={}, blob_id=blob_id)
    capture.created_at = svc.clock()
    db.add(capture)
    case.captures.append(capture)


def submit(svc: Services, case_id: str) -> None:
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        assert submission.submit(svc, db, case, actor="applicant")["state"] == CaseState.SUBMITTED
        db.commit()


def jobs_of(svc: Services, case_id: str) -> list[dict[str, Any]]:
    with svc.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, status::text AS status, queue_name, task_name, attempts FROM procrastinate_jobs "
                "WHERE args->>'case_id' = :case_id ORDER BY id"
            ),
            {"case_id": case_id},
        )
        return [dict(r._mapping) for r in rows]


def state_of(svc: Services, case_id: str) -> str:
    with svc.sessions() as db:
        return str(db.scalar(select(Case.state).where(Case.id == case_id)))


def review_transitions(svc: Services, case_id: str) -> int:
    """Events that moved the case out of ``submitted`` (into review or a decision)."""
    with svc.sessions() as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(
                    CaseEvent.case_id == case_id,
                    CaseEvent.to_state.in_([CaseState.IN_REVIEW, CaseState.APPROVED, CaseState.REJECTED]),
                )
            )
            or 0
        )


def wait_for_state(svc: Services, case_id: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while (state := state_of(svc, case_id)) == CaseState.SUBMITTED and time.monotonic() < deadline:
        time.sleep(0.25)
    return state


def _environ(settings: ServiceSettings, **env: str) -> dict[str, str]:
    """This process's environment with ``settings`` as OPENIDV_* variables (JSON logs, fast worker timings)."""
    values = {
        "ENVIRONMENT": settings.environment.value,
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "JOB_QUEUE": "procrastinate",
        "WARM_MODELS": "false",
        "LOG_FORMAT": "json",
        "OUTBOX_POLL_S": "1",
        "CHALLENGE_SEED": str(settings.challenge_seed),
        "LIVENESS_FRAME_RATE": settings.liveness_frame_rate,
        "RATE_START": settings.rate_start,
        **{k.upper(): str(v) for k, v in FAST_WORKER.items()},
        **env,
    }
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENIDV_")}
    environ |= {f"OPENIDV_{k}": v for k, v in values.items()}
    environ["PYTHONPATH"] = str(ROOT / "src")
    return environ


@contextmanager
def openidv_process(
    settings: ServiceSettings, log_file: Path, *args: str, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m openidv.cli ARGS`` with ``settings`` (its log lines, stderr, appended to ``log_file``)."""
    with log_file.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "openidv.cli", *args],
            env=_environ(settings, **env),
            stdout=subprocess.DEVNULL,
            stderr=out,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def worker_process(settings: ServiceSettings, log_file: Path, **env: str) -> Any:
    return openidv_process(settings, log_file, "worker", **env)


def assert_logs_are_json_without_personal_data(log_file: Path, secrets: list[str]) -> None:
    lines = [line for line in log_file.read_text().splitlines() if line.strip() and not NATIVE_LOG.match(line)]
    assert lines, "nothing was logged"
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert {"ts", "level", "logger", "message"} <= record.keys()
    text_all = log_file.read_text().lower()
    for secret in secrets:
        assert secret.lower() not in text_all, f"the worker's log holds {secret!r}"


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_submit_enqueues_one_analysis_job_in_its_transaction_and_a_rolled_back_submit_none(
    svc: Services, make_ready_case: Callable[[], tuple[str, str]]
) -> None:
    kept, token = make_ready_case()
    # a web process in this mode: submit answers pending at once; no outbox thread even when enabled
    app = create_app(settings=svc.settings.model_copy(update={"outbox_worker": True}), services=svc)
    with TestClient(app) as client:
        threads = {t.name for t in threading.enumerate()}
        assert "outbox-worker" not in threads and "housekeeping" not in threads
        r = client.post(f"/api/v1/cases/{kept}/submit", headers={"X-Case-Token": token})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == CaseState.SUBMITTED and r.json()["pending"]
        jobs = jobs_of(svc, kept)
        assert [(j["status"], j["queue_name"], j["task_name"]) for j in jobs] == [
            ("todo", "analysis", "openidv.analyse_case")
        ]
        assert 'openidv_jobs{queue="analysis",status="queued"} 1.0' in client.get("/metrics").text
    assert state_of(svc, kept) == CaseState.SUBMITTED  # no analysis in the request

    dropped, _ = make_ready_case()
    with svc.sessions() as db:
        case = db.get(Case, dropped)
        assert case is not None
        submission.submit(svc, db, case, actor="applicant")
        assert jobs_of(svc, dropped) == []  # not visible before the submit commits
        db.rollback()
    assert jobs_of(svc, dropped) == []
    assert state_of(svc, dropped) == CaseState.CAPTURING


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_the_analysis_run_twice_at_once_decides_once(
    svc: Services, make_ready_case: Callable[[], tuple[str, str]]
) -> None:
    case_id, _ = make_ready_case()
    submit(svc, case_id)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(submission.run_analysis_job, svc, case_id, attempt=0) for _ in range(2)]
        outcomes = sorted(r.result(timeout=120) for r in runs)
    assert outcomes == [AnalysisOutcome.ANALYSED, AnalysisOutcome.NOT_SUBMITTED]
    assert submission.run_analysis_job(svc, case_id, attempt=0) is AnalysisOutcome.NOT_SUBMITTED
    assert state_of(svc, case_id) == CaseState.IN_REVIEW
    assert review_transitions(svc, case_id) == 1


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_a_worker_process_analyses_cases_and_sends_a_poison_case_to_review_after_two_attempts(
    svc: Services, make_ready_case: Callable[[], tuple[str, str]], licence: SyntheticDocument, tmp_path: Path
) -> None:
    good, token = make_ready_case()
    poison, _ = make_ready_case()
    with svc.sessions() as db:  # the poison case's selfie object no longer decrypts
        case = db.get(Case, poison)
        assert case is not None
        selfie = cases.blob_of(case, "selfie")
        assert selfie is not None
        svc.blobs.put(poison, selfie.id, b"\x00" * 64)
    submit(svc, good)
    submit(svc, poison)
    log_file = tmp_path / "worker.log"
    with worker_process(svc.settings, log_file) as worker:
        assert wait_for_state(svc, good, 60) == CaseState.IN_REVIEW
        assert wait_for_state(svc, poison, 30) == CaseState.IN_REVIEW
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0  # SIGTERM stops it cleanly
    assert review_transitions(svc, good) == 1 and review_transitions(svc, poison) == 1
    assert jobs_of(svc, good) == [] and jobs_of(svc, poison) == []  # done: deleted by the worker
    with svc.sessions() as db:
        events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == poison, CaseEvent.event == ANALYSIS_FAILED))
        assert [e.detail["attempts"] for e in events] == [2]
        case = db.get(Case, poison)
        assert case is not None and case.recommendation["reasons"][0]["code"] == ANALYSIS_FAILED
    person = licence.person
    secrets = [EMAIL, person.family_name, person.given_name, person.number, token, cases.status_token(token)]
    assert_logs_are_json_without_personal_data(log_file, secrets)


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_a_worker_killed_mid_job_is_replaced_and_its_case_recovered_with_one_decision(
    svc: Services, make_ready_case: Callable[[], tuple[str, str]], tmp_path: Path
) -> None:
    case_id, _ = make_ready_case()
    submit(svc, case_id)
    log_file = tmp_path / "worker.log"
    with worker_process(svc.settings, log_file, ANALYSIS_TEST_DELAY_S="60") as first:
        deadline = time.monotonic() + 30
        while [j["status"] for j in jobs_of(svc, case_id)] != ["doing"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [j["status"] for j in jobs_of(svc, case_id)] == ["doing"]
        time.sleep(0.5)  # inside the job, holding the case row
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    killed_at = time.monotonic()
    assert state_of(svc, case_id) == CaseState.SUBMITTED  # its transaction was rolled back
    with worker_process(svc.settings, log_file):
        state = wait_for_state(svc, case_id, 60)
        recovered_s = time.monotonic() - killed_at
    assert state == CaseState.IN_REVIEW, f"not recovered within 60 s ({recovered_s:.1f} s)"
    assert review_transitions(svc, case_id) == 1
    print(f"recovered {recovered_s:.1f} s after the kill")


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_processes_started_together_migrate_one_at_a_time(database: str) -> None:
    engines = [make_engine(database) for _ in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            for run in [pool.submit(migrate, engine) for engine in engines]:
                run.result(timeout=120)  # without the advisory lock, 2 of 3 fail on a duplicate type
        with engines[0].connect() as conn:
            assert conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_db_upgrade_applies_the_job_queue_revision(svc: Services, tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "openidv.cli", "db", "upgrade", "--json"],
        env=_environ(svc.settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"revision": "0006_job_queue"}


def test_the_job_queue_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="needs a PostgreSQL"):
        make_settings(tmp_path, job_queue="procrastinate")


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_a_full_flow_through_serve_and_a_worker_logs_json_without_personal_data_or_tokens(
    svc: Services, licence: SyntheticDocument, astronaut: np.ndarray, tmp_path: Path
) -> None:
    port = _free_port()
    log_file = tmp_path / "service.log"
    with (
        openidv_process(svc.settings, log_file, "serve", "--port", str(port)) as serve,
        worker_process(svc.settings, log_file),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
    ):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and serve.poll() is None:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        a = Applicant(client)  # type: ignore[arg-type]  # the same calls as a TestClient
        a.start("drivers_license")
        assert licence.back is not None
        assert a.capture("document_front", licence.front).json()["accepted"]
        assert a.capture("document_back", licence.back).json()["accepted"]
        assert a.liveness(astronaut)["accepted"]
        token = client.cookies[CASE_COOKIE]
        r = client.post(f"{a.api}/submit")
        assert r.status_code == 200 and r.json()["state"] == CaseState.SUBMITTED, r.text
        assert wait_for_state(svc, a.case_id, 60) == CaseState.IN_REVIEW
        client.get(f"/status/{cases.status_token(token)}")
    person = licence.person
    secrets = [
        "seller@example.com",
        person.family_name,
        person.given_name,
        person.number,
        token,
        cases.status_token(token),
    ]
    assert_logs_are_json_without_personal_data(log_file, secrets)
    assert "GET /status/[token] HTTP/1.1" in log_file.read_text()  # the access log has the request, masked
