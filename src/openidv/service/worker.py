"""``openidv worker``: the procrastinate worker that runs the analysis, outbox and housekeeping jobs.

With ``OPENIDV_JOB_QUEUE=procrastinate`` this is the only place those run (web processes only
defer analyses, :mod:`openidv.service.jobqueue`). A worker listens to the queues ``analysis``,
``outbox`` and ``housekeeping`` and runs, besides the deferred ``analyse_case`` jobs, three
periodic tasks (each tick deferred once, whatever the number of workers, and skipped while the
task's previous job still waits in the queue: its queueing lock):

==========================  ====================================  =================================
task                        when                                  does
==========================  ====================================  =================================
``openidv.deliver_outbox``  every ``outbox_poll_s`` (1-59 s)      :func:`notify.deliver_due`
``openidv.retention_sweep`` every 5 minutes                       ``expire_stale``, ``purge_due``,
                                                                  ``sweep_orphaned_blobs``
``openidv.retry_stalled``   every ``worker_recovery_s``           jobs of workers silent for
                                                                  ``worker_stalled_s`` are retried
==========================  ====================================  =================================

Every worker writes a heartbeat each ``worker_heartbeat_s``. A worker killed mid-job (SIGKILL,
a lost machine) leaves its job ``doing``; PostgreSQL rolls back its transaction (the case stays
``submitted``) and :func:`retry_stalled` puts the job back in the queue. SIGTERM (or SIGINT)
stops a worker cleanly: it takes no new job and waits for the running ones.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy

from openidv.models import warm_models
from openidv.service import notify, retention
from openidv.service.jobqueue import JobQueueName, TaskName, queue_conninfo
from openidv.service.services import Services
from openidv.service.submission import ANALYSIS_ATTEMPTS, run_analysis_job

log = logging.getLogger(__name__)

#: seconds before a failed analysis is tried again
ANALYSIS_RETRY_WAIT_S = 2
#: periodic tasks whose every run is not logged (only their failures are)
ROUTINE_TASKS = frozenset({TaskName.DELIVER_OUTBOX.value, TaskName.RETRY_STALLED.value})
#: the models of the face match, loaded when a worker starts (``OPENIDV_WARM_MODELS``) so its first analysis
#: does not wait for them
ANALYSIS_MODELS = ("retinaface", "dlib_shape5", "dlib_resnet")
#: the retention sweep's schedule (cron)
RETENTION_CRON = "*/5 * * * *"


def _every_seconds(seconds: float) -> str:
    """A six-field (seconds) cron line firing every ``seconds`` (rounded, 1-59)."""
    return f"* * * * * */{min(59, max(1, round(seconds)))}"


def build_worker_app(svc: Services) -> App:
    """The procrastinate App of a worker process: its connector, tasks and periodic tasks over ``svc``."""
    app = App(connector=PsycopgConnector(conninfo=queue_conninfo(svc.settings.resolved_database_url())))

    @app.task(
        name=TaskName.ANALYSE_CASE.value,
        queue=JobQueueName.ANALYSIS.value,
        pass_context=True,
        retry=RetryStrategy(max_attempts=ANALYSIS_ATTEMPTS - 1, wait=ANALYSIS_RETRY_WAIT_S),
    )
    def analyse_case(context: JobContext, case_id: str) -> str:
        attempt = context.job.attempts
        return run_analysis_job(svc, case_id, attempt=attempt).value

    @app.periodic(cron=_every_seconds(svc.settings.outbox_poll_s))
    @app.task(
        name=TaskName.DELIVER_OUTBOX.value, queue=JobQueueName.OUTBOX.value, queueing_lock=TaskName.DELIVER_OUTBOX.value
    )
    def deliver_outbox(timestamp: int) -> int:
        return notify.deliver_due(svc)

    @app.periodic(cron=RETENTION_CRON)
    @app.task(
        name=TaskName.RETENTION_SWEEP.value,
        queue=JobQueueName.HOUSEKEEPING.value,
        queueing_lock=TaskName.RETENTION_SWEEP.value,
    )
    def retention_sweep(timestamp: int) -> dict[str, int]:
        return retention.sweep(svc)

    @app.periodic(cron=_every_seconds(svc.settings.worker_recovery_s))
    @app.task(
        name=TaskName.RETRY_STALLED.value,
        queue=JobQueueName.HOUSEKEEPING.value,
        queueing_lock=TaskName.RETRY_STALLED.value,
    )
    async def retry_stalled(timestamp: int) -> int:
        stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=svc.settings.worker_stalled_s))
        for job in stalled:
            log.warning("job %s (%s) of a dead worker is retried", job.id, job.task_name)
            await app.job_manager.retry_job(job)
        return len(stalled)

    return app


def worker_options(svc: Services, concurrency: int) -> dict[str, Any]:
    """procrastinate's worker options from the settings (see :meth:`procrastinate.App.run_worker`)."""
    return {
        "queues": [q.value for q in JobQueueName],
        "concurrency": concurrency,
        "name": "openidv-worker",
        "update_heartbeat_interval": svc.settings.worker_heartbeat_s,
        "stalled_worker_timeout": svc.settings.worker_stalled_s,
        "delete_jobs": "successful",  # failed and aborted jobs stay for the metrics and the operator
        "install_signal_handlers": True,  # SIGTERM / SIGINT: finish the running jobs, then stop
    }


def run_worker(svc: Services, *, concurrency: int = 1) -> None:
    """Run the worker until SIGTERM or SIGINT (blocks)."""
    app = build_worker_app(svc)
    if svc.settings.warm_models:
        threading.Thread(target=warm_models, args=(ANALYSIS_MODELS,), name="warm-models", daemon=True).start()
    log.info("worker started: queues %s, concurrency %d", ", ".join(q.value for q in JobQueueName), concurrency)
    app.run_worker(**worker_options(svc, concurrency))
    log.info("worker stopped")
