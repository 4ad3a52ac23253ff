"""Rate limits of the service, with the ``limits`` library (moving windows, in process memory).

The service runs as one process (see :mod:`openidv.service.runtime`), so in-memory counters
see every request; a restart forgets them. Limits are written as ``limits`` strings
(``"10/minute"``, ``"5 per 10 seconds"``) in the settings and parsed once.
"""

from __future__ import annotations

import math
import time
from enum import StrEnum
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

from openidv.service.errors import TooManyRequestsError
from openidv.service.i18n import N_


class Bucket(StrEnum):
    """What a counter counts; a key (case id, client address, API key name) selects the counter."""

    LIVENESS_FRAME = "liveness_frame"  #: frames per case
    START = "start"  #: applicant cases opened per client address
    CREATE_CASE = "create_case"  #: API cases created per API key
    LOGIN = "login"  #: reviewer login attempts per client address
    LOGIN_FAILURE = "login_failure"  #: failed reviewer logins per client address
    VIDEO_CALL = "video_call"  #: video-call requests and bookings per client address


@lru_cache(maxsize=64)
def parse_rate(text: str) -> RateLimitItem:
    """A ``limits`` rate string (``"10/minute"``); ValueError with the text when it does not parse."""
    try:
        return parse(text)
    except ValueError as exc:
        raise ValueError(f"not a rate limit: {text!r} (write e.g. '10/minute' or '5 per 10 seconds')") from exc


def client_address(request: Request) -> str:
    """The peer's IP address (the service is reached directly; behind a proxy this is the proxy's)."""
    return request.client.host if request.client is not None else "unknown"


#: a refusal's reason (itself a marked message) and the seconds to wait
RETRY_IN = N_("{reason}; try again in {wait} s")


class Throttle:
    """Moving-window counters; :meth:`hit` raises 429 with ``Retry-After`` past the limit."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, bucket: Bucket, rate: RateLimitItem, key: str, message: str) -> None:
        """Count one request for ``key``; past ``rate`` raise :class:`TooManyRequestsError`."""
        if self._limiter.hit(rate, bucket.value, key):
            return
        stats = self._limiter.get_window_stats(rate, bucket.value, key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequestsError(RETRY_IN, retry_after_s=wait, params={"reason": message, "wait": wait})

    def check(self, bucket: Bucket, rate: RateLimitItem, key: str, message: str) -> None:
        """Raise :class:`TooManyRequestsError` when ``key`` has used up ``rate``, without counting."""
        if self._limiter.test(rate, bucket.value, key):
            return
        stats = self._limiter.get_window_stats(rate, bucket.value, key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequestsError(RETRY_IN, retry_after_s=wait, params={"reason": message, "wait": wait})

    def count(self, bucket: Bucket, rate: RateLimitItem, key: str) -> None:
        """Count one event for ``key`` (checked later with :meth:`check`)."""
        self._limiter.hit(rate, bucket.value, key)

    def per_client(self, bucket: Bucket, rate: str, request: Request, message: str) -> None:
        """:meth:`hit` for the client's address, with a rate in the ``limits`` notation."""
        self.hit(bucket, parse_rate(rate), client_address(request), message)

    def clear(self, bucket: Bucket, rate: RateLimitItem, key: str) -> None:
        """Forget ``key``'s count (a successful login resets its failures)."""
        self._limiter.clear(rate, bucket.value, key)
