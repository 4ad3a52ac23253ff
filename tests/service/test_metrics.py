"""``/metrics``: Prometheus text with latency per route template, engine stage times, cases and outbox."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from openidv.service.app import create_app
from openidv.service.metrics import EngineStage, Metrics
from openidv.service.orm import OutboxMessage
from openidv.synth.forgery import SyntheticDocument
from tests.service.conftest import Applicant, make_settings


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_use_route_templates_and_count_cases_outbox_and_engine_stages(
    sqlite_client: TestClient, licence: SyntheticDocument
) -> None:
    client = sqlite_client
    token = secrets.token_urlsafe(16)
    assert client.get(f"/status/{token}").status_code == 404
    assert client.get(f"/no/such/{token}").status_code == 404
    a = Applicant(client)
    a.start("drivers_license")
    assert a.capture("document_front", licence.front).json()["accepted"]
    svc = client.app.state.services  # type: ignore[attr-defined]
    with svc.sessions() as db:
        db.add(OutboxMessage(channel="email", case_id=a.case_id, recipient="seller@example.com", payload={}))
        db.commit()

    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert token not in r.text and a.case_id not in r.text  # no path, token or case id in any label
    samples = _samples(r.text)
    latency = "openidv_http_request_duration_seconds_count"
    assert samples[(latency, (("method", "GET"), ("route", "/status/{token}"), ("status", "404")))] == 1
    assert samples[(latency, (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    capture = (("method", "POST"), ("route", "/api/v1/cases/{case_id}/captures/{step}"), ("status", "200"))
    assert samples[(latency, capture)] == 1
    assert samples[("openidv_engine_stage_seconds_count", (("stage", "document_side"),))] == 1
    assert samples[("openidv_engine_stage_seconds_sum", (("stage", "document_side"),))] > 0
    assert samples[("openidv_cases", (("state", "capturing"),))] == 1
    assert samples[("openidv_cases", (("state", "approved"),))] == 0
    assert samples[("openidv_outbox_messages", (("status", "pending"),))] == 1


def test_stage_timer_records_also_when_the_engine_raises() -> None:
    metrics = Metrics()
    try:
        with metrics.stage(EngineStage.FACE_MATCH):
            raise ValueError("engine failure")
    except ValueError:
        pass
    samples = _samples(metrics.render()[0].decode())
    assert samples[("openidv_engine_stage_seconds_count", (("stage", "face_match"),))] == 1


def test_metrics_can_be_switched_off(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, metrics=False))) as client:
        assert client.get("/metrics").status_code == 404
