"""The job queue (``OPENIDV_JOB_QUEUE=procrastinate``) on a real PostgreSQL server, with real worker processes.

Submit enqueues the analysis in its own transaction; ``python -m openidv.cli worker`` analyses
the case (and retries a failing one, then sends it to review as ``analysis_failed``); the
analysis decides once however often it runs; a worker killed with SIGKILL mid-job is replaced
and its case recovered through ``retry_stalled``. The workers' JSON logs carry no personal data.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, text

from openidv.document.forgery import SyntheticDocument
from openidv.imaging import encode_jpeg
from openidv.service import cases, submission
from openidv.service.app import build_services
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Capture, Case, CaseEvent
from openidv.service.services import Services
from openidv.service.settings import ServiceSettings
from openidv.service.submission import ANALYSIS_FAILED, AnalysisOutcome
from tests.service.conftest import make_settings

pytestmark = pytest.mark.postgres
POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]
ROOT = Path(__file__).resolve().parents[2]
EMAIL = "queue.seller@example.com"
#: the test workers' heartbeat, dead-worker limit and recovery period (seconds; production: 10, 30, 10)
FAST_WORKER = {"worker_heartbeat_s": 0.5, "worker_stalled_s": 3.0, "worker_recovery_s": 1}


def _settings(tmp_path: Path, database: str, **overrides: Any) -> ServiceSettings:
    return make_settings(tmp_path, database, job_queue="procrastinate", allow_file_upload=True, **overrides)


@pytest.fixture
def svc(tmp_path: Path, database: str) -> Iterator[Services]:
    services = build_services(_settings(tmp_path, database))
    yield services
    services.engine.dispose()


def ready_case(svc: Services, licence: SyntheticDocument, selfie: np.ndarray) -> tuple[str, str]:
    """A case with both licence sides captured (the real capture use case: document report, portrait)
    and a selfie from an accepted liveness step; returns its id and applicant token."""
    assert licence.back is not None
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
        for step, photo in (("document_front", licence.front), ("document_back", licence.back)):
            verdict = cases.add_capture(svc, db, case, step, photo, "image/jpeg", actor="applicant")
            assert verdict["accepted"], verdict
        blob = cases.store_blob(svc, db, case, "selfie", "image/jpeg", encode_jpeg(selfie, 92))
        capture = Capture(
            case_id=case.id, step=cases.LIVENESS, attempt=1, accepted=True, reasons=[], result={}, blob_id=blob.id
        )
        capture.created_at = svc.clock()
        db.add(capture)
        db.commit()
        return case.id, token


def submit(svc: Services, case_id: str, *, commit: bool = True) -> None:
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        assert submission.submit(svc, db, case, actor="applicant")["state"] == CaseState.SUBMITTED
        if commit:
            db.commit()
        else:
            db.rollback()


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


@contextmanager
def worker_process(settings: ServiceSettings, log_file: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m openidv.cli worker`` with ``settings`` as OPENIDV_* variables (JSON logs to ``log_file``)."""
    values = {
        "ENVIRONMENT": settings.environment.value,
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "JOB_QUEUE": "procrastinate",
        "WARM_MODELS": "false",
        "LOG_FORMAT": "json",
        "OUTBOX_POLL_S": "1",
        **{k.upper(): str(v) for k, v in FAST_WORKER.items()},
        **env,
    }
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENIDV_")}
    environ |= {f"OPENIDV_{k}": v for k, v in values.items()}
    environ["PYTHONPATH"] = str(ROOT / "src")
    with log_file.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "openidv.cli", "worker"],
            env=environ,
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


def assert_logs_are_json_without_personal_data(log_file: Path, secrets: list[str]) -> None:
    lines = [line for line in log_file.read_text().splitlines() if line.strip()]
    assert lines, "the worker logged nothing"
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert {"ts", "level", "logger", "message"} <= record.keys()
    text_all = log_file.read_text().lower()
    for secret in secrets:
        assert secret.lower() not in text_all, f"the worker's log holds {secret!r}"


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_submit_enqueues_one_analysis_job_in_its_transaction_and_a_rolled_back_submit_none(
    svc: Services, licence: SyntheticDocument, astronaut: np.ndarray
) -> None:
    kept, _ = ready_case(svc, licence, astronaut)
    with svc.sessions() as db:
        case = db.get(Case, kept)
        assert case is not None
        submission.submit(svc, db, case, actor="applicant")
        assert jobs_of(svc, kept) == []  # not visible before the submit commits
        db.commit()
    jobs = jobs_of(svc, kept)
    assert [(j["status"], j["queue_name"], j["task_name"]) for j in jobs] == [
        ("todo", "analysis", "openidv.analyse_case")
    ]
    assert state_of(svc, kept) == CaseState.SUBMITTED  # the seller sees pending; no analysis in the request
    svc.metrics.watch_store(svc.sessions)  # as create_app does
    body, _ = svc.metrics.render()
    assert 'openidv_jobs{queue="analysis",status="queued"} 1.0' in body.decode()

    dropped, _ = ready_case(svc, licence, astronaut)
    submit(svc, dropped, commit=False)
    assert jobs_of(svc, dropped) == []
    assert state_of(svc, dropped) == CaseState.CAPTURING


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_the_analysis_run_twice_at_once_decides_once(
    svc: Services, licence: SyntheticDocument, astronaut: np.ndarray
) -> None:
    case_id, _ = ready_case(svc, licence, astronaut)
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
    svc: Services, licence: SyntheticDocument, astronaut: np.ndarray, tmp_path: Path
) -> None:
    good, token = ready_case(svc, licence, astronaut)
    poison, _ = ready_case(svc, licence, astronaut)
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
    svc: Services, licence: SyntheticDocument, astronaut: np.ndarray, tmp_path: Path
) -> None:
    case_id, _ = ready_case(svc, licence, astronaut)
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
