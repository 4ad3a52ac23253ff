"""FastAPI dependencies: the services container, a database session per request, callers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from openidv.service.cases import Services, applicant_case, case_by_id
from openidv.service.errors import NotFoundError, PayloadTooLargeError, UnauthorizedError
from openidv.service.i18n import N_
from openidv.service.orm import ApiKey, Case

CASE_COOKIE = "openidv_case"


def get_services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def get_db(svc: Annotated[Services, Depends(get_services)]) -> Iterator[Session]:
    """One session and one transaction per request: committed on success, rolled back on error."""
    with svc.sessions() as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


SvcDep = Annotated[Services, Depends(get_services)]
#: scope="function": the transaction commits before the response is sent, so the client's next
#: request always sees it (the default "request" scope would commit after sending).
DbDep = Annotated[Session, Depends(get_db, scope="function")]


@dataclass(frozen=True)
class Caller:
    """Who is calling: an applicant holding a case token, or an integrator holding an API key."""

    actor: str  #: "applicant" or "api:<key name>"
    channel: str | None  #: the API key's channel, None for an applicant
    token: str | None


def api_key_name(db: Session, raw: str) -> str | None:
    digest = hashlib.sha256(raw.encode()).hexdigest()
    key = db.scalar(select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)))
    return None if key is None else key.name


def get_caller(
    request: Request,
    db: DbDep,
    authorization: Annotated[str | None, Header()] = None,
    x_case_token: Annotated[str | None, Header()] = None,
) -> Caller:
    if authorization:
        scheme, _, raw = authorization.partition(" ")
        name = api_key_name(db, raw.strip()) if scheme.lower() == "bearer" and raw else None
        if name is None:
            raise UnauthorizedError("invalid API key", code="invalid_api_key")
        return Caller(actor=f"api:{name}", channel=f"api:{name}", token=None)
    token = x_case_token or request.cookies.get(CASE_COOKIE)
    if token:
        return Caller(actor="applicant", channel=None, token=token)
    raise UnauthorizedError("send an API key (Authorization: Bearer ...) or the case token", code="no_credentials")


CallerDep = Annotated[Caller, Depends(get_caller)]


def case_for(svc: Services, db: Session, caller: Caller, case_id: str) -> Case:
    """The case, if this caller may act on it; otherwise 404 (existence is not revealed).

    An applicant's token opens its case only while it lives (410 ``token_expired`` after).
    """
    if caller.token is not None:
        case = applicant_case(svc, db, caller.token)
        if case.id != case_id:
            raise NotFoundError(N_("no such case"))
        return case
    return case_by_id(db, case_id, channel=caller.channel)


def human_size(n: int) -> str:
    """``n`` bytes as a short text: "400 kB", "8 MB" (binary units)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    return f"{n / 1024:.3g} kB" if n >= 1024 else f"{n} bytes"


#: the refusal of a body over its limit, by what the route takes
BODY_LIMITS: dict[str, str] = {
    "uploads": N_("uploads are limited to {size}"),
    "frames": N_("frames are limited to {size}"),
}


async def read_body(request: Request, limit: int, what: str = "uploads") -> bytes:
    """The request body, refusing (413) anything over ``limit`` bytes before reading it all."""
    message = BODY_LIMITS.get(what, BODY_LIMITS["uploads"])
    params = {"size": human_size(limit)}
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(message, params=params)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(message, params=params)
        chunks.append(chunk)
    return b"".join(chunks)
