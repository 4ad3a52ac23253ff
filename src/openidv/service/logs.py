"""Logs without credentials or personal data, as text or JSON lines (``OPENIDV_LOG_FORMAT``).

The path segment after ``/status/``, ``/resume/`` and ``/h/`` is masked: those links carry a
case's tokens (the read-only status token, the applicant's capture token, a handoff token).
Uvicorn's access log writes the request line; :class:`MaskTokens` rewrites it before any
handler sees it. API keys, case-token headers and cookies are never logged; the service's own
messages name cases by id, never by a name, an email address or a document field.

``json``: one object a line, ``{"ts", "level", "logger", "message"}`` plus, for the job
queue's records, ``action``, ``job_id``, ``task`` and ``queue`` (:class:`JsonFormatter`).
"""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from openidv.service.settings import LogFormat

#: path prefixes whose next segment is a credential
TOKEN_PATHS = ("status", "resume", "h")
MASK = "[token]"
_TOKEN_SEGMENT = re.compile(r"/(" + "|".join(TOKEN_PATHS) + r")/[^/?#\s\"]+")


def mask_tokens(text: str) -> str:
    """``text`` with every ``/status/<token>`` and ``/resume/<token>`` written ``/status/[token]``."""
    return _TOKEN_SEGMENT.sub(lambda m: f"/{m.group(1)}/{MASK}", text)


class MaskTokens(logging.Filter):
    """Masks tokens in a record's message and string arguments (uvicorn passes the path as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_tokens(a) if isinstance(a, str) else a for a in record.args)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message (tokens masked), job fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_tokens(record.getMessage()),
        }
        job = getattr(record, "job", None)  # procrastinate's records carry the job as a dict
        if isinstance(job, dict):
            out |= {"job_id": job.get("id"), "task": job.get("task_name"), "queue": job.get("queue")}
        action = getattr(record, "action", None)
        if isinstance(action, str):
            out["action"] = action
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__
            out["traceback"] = mask_tokens(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


class QuietRoutineJobs(logging.Filter):
    """Drops the info records of routine periodic jobs (deferred, started, succeeded every few seconds);
    their failures, and every record of other jobs, pass."""

    ROUTINE_ACTIONS = frozenset({"periodic_task_deferred", "start_job", "job_success", "loaded_job_info"})

    def __init__(self, task_names: frozenset[str]) -> None:
        super().__init__()
        self.task_names = task_names

    def filter(self, record: logging.LogRecord) -> bool:
        job = getattr(record, "job", None)
        task = job.get("task_name") if isinstance(job, dict) else None
        return not (task in self.task_names and getattr(record, "action", None) in self.ROUTINE_ACTIONS)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(log_format: LogFormat, level: str = "info", quiet_tasks: frozenset[str] = frozenset()) -> None:
    """The root logger writes to stderr in ``log_format``, tokens masked, routine ``quiet_tasks`` left out."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(MaskTokens())
    if quiet_tasks:
        handler.addFilter(QuietRoutineJobs(quiet_tasks))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def uvicorn_log_config(log_format: LogFormat = LogFormat.TEXT) -> dict[str, Any]:
    """Uvicorn's default logging configuration with :class:`MaskTokens` on its access and error logs
    (and :class:`JsonFormatter` for both, on stderr, with ``json``)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_tokens"] = {"()": MaskTokens}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("mask_tokens")
    if log_format is LogFormat.JSON:
        config["formatters"] = {name: {"()": JsonFormatter} for name in config["formatters"]}
        for handler in config["handlers"].values():
            handler["stream"] = "ext://sys.stderr"  # every JSON line on one stream (the access log too)
    return config
