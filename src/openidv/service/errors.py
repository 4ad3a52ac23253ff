"""Errors of the service layer; each carries the HTTP status and a stable code."""

from __future__ import annotations

from collections.abc import Mapping

#: a value of an error message: text (translated on the applicant's pages), a number, or a list of texts
#: (each translated, then joined with ", ")
ParamValue = str | int | tuple[str, ...]


def fill(message: str, params: Mapping[str, ParamValue]) -> str:
    """``message`` with its ``{name}`` fields filled from ``params`` (lists joined with ", ")."""
    return message.format(**{k: ", ".join(v) if isinstance(v, tuple) else v for k, v in params.items()})


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after_s: int | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> None:
        """``message`` may hold ``{name}`` fields filled from ``params``; the applicant's pages translate the
        unfilled message and the text values (``template``, ``params``) before filling them in."""
        filled = fill(message, params) if params else message
        super().__init__(filled)
        self.message = filled
        self.template = message
        self.params: dict[str, ParamValue] = dict(params or {})
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        #: seconds after which the client may try again (sent as ``Retry-After``)
        self.retry_after_s = retry_after_s


class NotFoundError(ServiceError):
    status = 404
    code = "not_found"


class UnauthorizedError(ServiceError):
    status = 401
    code = "unauthorized"


class ConflictError(ServiceError):
    """The request does not fit the case's current state (out-of-order step, finished case)."""

    status = 409
    code = "conflict"


class GoneError(ServiceError):
    status = 410
    code = "expired"


class PayloadTooLargeError(ServiceError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaError(ServiceError):
    status = 415
    code = "unsupported_media_type"


class UnprocessableError(ServiceError):
    status = 422
    code = "unprocessable"


class TooManyRequestsError(ServiceError):
    """A rate limit was reached; ``retry_after_s`` says when to try again."""

    status = 429
    code = "too_many_requests"


class ServiceBusyError(ServiceError):
    """A shared resource (the liveness memory budget) is full for now."""

    status = 503
    code = "busy"
