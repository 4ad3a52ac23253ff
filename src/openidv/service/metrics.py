"""Prometheus metrics (``prometheus-client``), one registry per application, served at ``/metrics``.

- ``openidv_http_request_duration_seconds{method, route, status}``: a histogram per route
  *template* (``/api/v1/cases/{case_id}/liveness/frames``), never the raw path, which can carry
  case and status tokens; unmatched paths are ``unmatched``, static files ``/static``.
- ``openidv_engine_stage_seconds{stage}``: wall time of the engine calls made inside requests
  (one document side, one liveness frame, the liveness decision, the face match).
- ``openidv_cases{state}`` and ``openidv_outbox_messages{status}``: counted in the database
  at scrape time (two ``GROUP BY`` queries), so every process reports the shared totals.
- ``openidv_jobs{queue, status}``: the job queue's jobs (``OPENIDV_JOB_QUEUE=procrastinate``,
  from ``procrastinate_jobs``): ``queued``, ``running``, ``failed`` for every queue, and any other
  status present (``cancelled``, ``aborted``; successful jobs are deleted). Absent on SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from openidv.service.jobqueue import JobQueueName
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Case, OutboxMessage

#: request latency buckets, seconds (liveness frames ~0.05-0.15 s, document captures ~1-5 s)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: engine stage buckets, seconds
STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
OUTBOX_STATUSES = ("pending", "sent", "dead")
#: procrastinate's job statuses as the metric's ``status`` label (others keep their own name)
JOB_STATUS_LABELS = {"todo": "queued", "doing": "running", "failed": "failed"}


class EngineStage(StrEnum):
    DOCUMENT_SIDE = "document_side"  #: analyse_side of one document photo (capture or re-analysis)
    LIVENESS_FRAME = "liveness_frame"  #: add_frame of one liveness frame
    LIVENESS_FINISH = "liveness_finish"  #: the liveness decision over the session
    FACE_MATCH = "face_match"  #: selfie vs document portrait


def _counts(db: Session, column: InstrumentedAttribute[str]) -> dict[str, int]:
    """Rows per value of ``column`` (one ``GROUP BY``)."""
    return {value: int(n) for value, n in db.execute(select(column, func.count()).group_by(column))}


def job_counts(db: Session) -> dict[tuple[str, str], int] | None:
    """Jobs per (queue, status label) in ``procrastinate_jobs``; None where there is no such table (SQLite)."""
    if db.get_bind().dialect.name != "postgresql":
        return None
    if db.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is None:
        return None
    rows = db.execute(text("SELECT queue_name, status::text, count(*) FROM procrastinate_jobs GROUP BY 1, 2"))
    counts: dict[tuple[str, str], int] = {
        (queue.value, status): 0 for queue in JobQueueName for status in JOB_STATUS_LABELS.values()
    }
    for queue, status, n in rows:
        key = (str(queue), JOB_STATUS_LABELS.get(str(status), str(status)))
        counts[key] = counts.get(key, 0) + int(n)
    return counts


class StoreCollector(Collector):
    """Cases by state, outbox messages by status and queue jobs by status, read from the database when scraped."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.sessions() as db:
            by_state = _counts(db, Case.state)
            by_status = _counts(db, OutboxMessage.status)
            jobs = job_counts(db)
        cases = GaugeMetricFamily("openidv_cases", "Cases by state (database totals)", labels=["state"])
        for state in CaseState:
            cases.add_metric([state.value], by_state.get(state.value, 0))
        yield cases
        outbox = GaugeMetricFamily(
            "openidv_outbox_messages", "Outbox messages by status; pending is the backlog", labels=["status"]
        )
        for status in OUTBOX_STATUSES:
            outbox.add_metric([status], by_status.get(status, 0))
        yield outbox
        if jobs is not None:
            family = GaugeMetricFamily("openidv_jobs", "Job queue jobs by queue and status", labels=["queue", "status"])
            for (queue, status), n in sorted(jobs.items()):
                family.add_metric([queue, status], n)
            yield family


class Metrics:
    """The process's metrics: request and engine-stage histograms, and the database collector."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "openidv_http_request_duration_seconds",
            "Time to answer a request, by route template",
            ["method", "route", "status"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "openidv_engine_stage_seconds",
            "Wall time of an engine call inside a request",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )

    def watch_store(self, sessions: Callable[[], Session]) -> None:
        self.registry.register(StoreCollector(sessions))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).observe(seconds)

    @contextmanager
    def stage(self, stage: EngineStage) -> Iterator[None]:
        """Time the block as ``stage`` (also when it raises)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stages.labels(stage.value).observe(time.perf_counter() - t0)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
