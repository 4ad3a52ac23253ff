"""The job queue's names and the web side of it: deferring a case's analysis in the submit transaction.

With ``OPENIDV_JOB_QUEUE=procrastinate`` the jobs live in PostgreSQL, in procrastinate's tables
(Alembic revision ``0006_job_queue``). A web process only inserts jobs: :func:`defer_analysis`
runs procrastinate's defer on the SQLAlchemy session's own connection, inside the request's
transaction, so the job exists exactly when the submit commits (a rolled-back submit leaves
none). The worker side (the tasks, periodic tasks and ``openidv worker``) is
:mod:`openidv.service.worker`.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from procrastinate import App


class JobQueueName(StrEnum):
    """The queues a worker listens to."""

    ANALYSIS = "analysis"  #: post-submit analysis of one case
    OUTBOX = "outbox"  #: decision emails and webhooks
    HOUSEKEEPING = "housekeeping"  #: retention sweep, stalled-job recovery


class TaskName(StrEnum):
    """Task names as stored in ``procrastinate_jobs.task_name``."""

    ANALYSE_CASE = "openidv.analyse_case"
    DELIVER_OUTBOX = "openidv.deliver_outbox"
    RETENTION_SWEEP = "openidv.retention_sweep"
    RETRY_STALLED = "openidv.retry_stalled"


def queue_conninfo(database_url: str) -> str:
    """The libpq URL of a SQLAlchemy ``postgresql+psycopg://`` URL (password kept)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


@cache
def _deferrer() -> App:
    """An App that only defers, always on a connection it is given (it never opens a pool of its own).

    procrastinate is imported here, so the embedded mode (``inprocess``) never loads it."""
    from procrastinate import App, SyncPsycopgConnector

    return App(connector=SyncPsycopgConnector())


def case_lock(case_id: str) -> str:
    """The procrastinate lock of a case's jobs: two analyses of one case never run at the same time."""
    return f"case:{case_id}"


def defer_analysis(db: Session, case_id: str) -> int:
    """Insert an ``analyse_case`` job in ``db``'s transaction (PostgreSQL); returns the job id."""
    connection = db.connection().connection.driver_connection
    deferrer = _deferrer().configure_task(
        TaskName.ANALYSE_CASE.value, queue=JobQueueName.ANALYSIS.value, lock=case_lock(case_id), connection=connection
    )
    return deferrer.defer(case_id=case_id)
