"""Guards below the routes: body size limits and body deadlines (ASGI middleware), and a
uvicorn protocol that drops connections whose request headers arrive too slowly.

A slow client must not hold the service's memory or connections: the headers of a request
must arrive within ``header_timeout_s`` of the connection opening (or of the previous
response), its body within ``body_timeout_s`` of the headers, and a body may not exceed
the limit of its route, checked from ``Content-Length`` before reading and again while
reading. Refusals are 413 / 408 in the service's error format.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import h11
from starlette.responses import Response
from uvicorn.protocols.http.h11_impl import H11Protocol

from openidv.service.i18n import N_

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: the error answer: (scope, status, code, message) -> the response that sends it
ErrorApp = Callable[[Scope, int, str, str, dict[str, int]], Response]
TOO_LARGE = N_("request bodies here are limited to {limit} bytes")
TOO_SLOW = N_("the request body arrived too slowly")


class BodyRefusedError(Exception):
    """A body over its limit (413) or too slow (408); the app turns it into its error answer."""

    def __init__(self, status: int, code: str, message: str, params: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.params: dict[str, int] = dict(params or {})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyGuard:
    """ASGI middleware: answer 413 at once to a declared length over ``limit_for(path)`` bytes;
    while the body is read, raise :class:`BodyRefusedError` past the limit (413) or past
    ``body_timeout_s`` (408)."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int], body_timeout_s: float, error: ErrorApp):
        self.app, self.limit_for, self.body_timeout_s, self.error = app, limit_for, body_timeout_s, error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        too_large = {"limit": limit}
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self.error(scope, 413, "payload_too_large", TOO_LARGE, too_large)(scope, receive, send)  # type: ignore[arg-type]
            return
        deadline = time.monotonic() + self.body_timeout_s
        received, complete = 0, False

        async def guarded_receive() -> Message:
            nonlocal received, complete
            if complete:  # waiting for a disconnect, not for the body: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise BodyRefusedError(408, "request_timeout", TOO_SLOW) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    raise BodyRefusedError(413, "payload_too_large", TOO_LARGE, too_large)
            return message

        await self.app(scope, guarded_receive, send)


def refused_cause(exc: BaseException) -> BodyRefusedError | None:
    """The body refusal behind ``exc`` (FastAPI wraps errors met while parsing a body in a 400)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BodyRefusedError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


_TIMEOUT_BODY = json.dumps(
    {"error": {"code": "request_timeout", "message": "the request headers arrived too slowly"}}
).encode()


def slow_header_protocol(header_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing (after a 408) connections whose request line and headers are
    not complete ``header_timeout_s`` after the connection opened or the last response ended."""

    class SlowHeaderProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            head = (
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                + f"content-length: {len(_TIMEOUT_BODY)}\r\n\r\n".encode()
            )
            self.transport.write(head + _TIMEOUT_BODY)
            self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # the headers are complete: the body has its own deadline

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return SlowHeaderProtocol
