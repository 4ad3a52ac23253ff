"""Access logs without credentials: the path segment after ``/status/`` and ``/resume/`` is masked.

Those links carry a case's tokens (the read-only status token, the applicant's capture
token). Uvicorn's access log writes the request line; :class:`MaskTokens` rewrites it
before any handler sees it. API keys, case-token headers and cookies are never logged.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

#: path prefixes whose next segment is a credential
TOKEN_PATHS = ("status", "resume")
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


def uvicorn_log_config() -> dict[str, Any]:
    """Uvicorn's default logging configuration with :class:`MaskTokens` on its access and error logs."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_tokens"] = {"()": MaskTokens}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("mask_tokens")
    return config
