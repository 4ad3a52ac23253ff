"""The JSON API for integrators (and for the capture page's JavaScript): ``/api/v1``.

Authentication: ``Authorization: Bearer <API key>`` for server-to-server calls (a key
sees only the cases it created), or the case token (``X-Case-Token`` header or the
applicant's cookie) for the one case it belongs to. Errors are
``{"error": {"code": ..., "message": ...}}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from openidv.service import cases, integrator, submission
from openidv.service.deps import Caller, CallerDep, DbDep, SvcDep, case_for, read_body
from openidv.service.errors import UnauthorizedError
from openidv.service.orm import Case
from openidv.service.schemas import (
    CaptureResult,
    CaseCreated,
    CaseErased,
    CaseStatus,
    Consent,
    ConsentAnswer,
    CreateCase,
    Eligibility,
    EligibilityAnswer,
    LivenessFinished,
    LivenessProgress,
    LivenessStarted,
    SellerStatus,
    Submitted,
    VideoCall,
)
from openidv.service.services import Services
from openidv.service.shredding import erase
from openidv.service.throttle import Bucket, parse_rate

router = APIRouter(prefix="/api/v1", tags=["cases"])
#: OpenAPI description of the raw image bodies (JPEG or PNG bytes, not multipart)
_IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in ("image/jpeg", "image/png")},
        "required": True,
    }
}


def _status(case: Case) -> dict[str, Any]:
    """The seller's status plus the integrator's reference and the return address."""
    return cases.seller_status(case) | {"reference": case.external_ref, "return_to": integrator.return_redirect(case)}


async def _upload(
    request: Request, caller: Caller, svc: Services, db: Session, case_id: str, limit: int, what: str = "uploads"
) -> tuple[bytes, Case]:
    """The raw body, refused (413) past ``limit`` bytes, and the case it is for (database work off
    the event loop)."""
    data = await read_body(request, limit, what)
    return data, await run_in_threadpool(case_for, svc, db, caller, case_id)


@router.post("/cases", response_model=CaseCreated, status_code=201)
def create_case(body: CreateCase, caller: CallerDep, svc: SvcDep, db: DbDep, request: Request) -> CaseCreated:
    """Create a verification case (API key required)."""
    if caller.channel is None:
        raise UnauthorizedError("creating a case needs an API key", code="api_key_required")
    rate = parse_rate(svc.settings.rate_create_case)
    svc.throttle.hit(Bucket.CREATE_CASE, rate, caller.channel, "too many cases created with this API key")
    return_url = integrator.checked_return_url(db, caller.channel, body.return_url)
    case, token = cases.create_case(
        svc, db, channel=caller.channel, actor=caller.actor, external_ref=body.reference, return_url=return_url
    )
    base = svc.settings.public_url.rstrip("/")  # never the Host header: a client chooses that
    return CaseCreated(
        case_id=case.id,
        token=token,
        applicant_url=f"{base}/resume/{token}",
        status_url=f"{base}/status/{cases.status_token(token)}",
        reference=case.external_ref,
    )


@router.get("/cases/{case_id}", response_model=CaseStatus)
def get_case(case_id: str, caller: CallerDep, svc: SvcDep, db: DbDep) -> dict[str, Any]:
    """The case's status as the seller may see it, plus its steps."""
    case = case_for(svc, db, caller, case_id)
    svc_steps = cases.progress(case, svc.settings.max_attempts)
    return _status(case) | {"steps": svc_steps, "next_step": cases.next_step(case)}


@router.post("/cases/{case_id}/eligibility", response_model=EligibilityAnswer)
def eligibility(case_id: str, body: Eligibility, caller: CallerDep, svc: SvcDep, db: DbDep) -> dict[str, Any]:
    case = case_for(svc, db, caller, case_id)
    cases.set_eligibility(svc, db, case, **body.model_dump(), actor=caller.actor)
    return cases.seller_status(case) | {"consent_version": svc.settings.consent_version}


@router.post("/cases/{case_id}/consent", response_model=ConsentAnswer)
def consent(case_id: str, body: Consent, caller: CallerDep, svc: SvcDep, db: DbDep) -> dict[str, Any]:
    case = case_for(svc, db, caller, case_id)
    cases.set_consent(svc, db, case, accepted=body.accepted, version=body.version, actor=caller.actor)
    return cases.seller_status(case) | {"next_step": cases.next_step(case)}


@router.post(
    "/cases/{case_id}/captures/{step}",
    openapi_extra=_IMAGE_BODY,
    response_model=CaptureResult,
    response_model_exclude_unset=True,  # document_report_ms only once the document report was built
)
async def capture(
    case_id: str,
    step: str,
    request: Request,
    caller: CallerDep,
    svc: SvcDep,
    db: DbDep,
    content_type: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Upload one document photo (raw JPEG/PNG body). Returns accepted, or a retake with reasons."""
    data, case = await _upload(request, caller, svc, db, case_id, svc.settings.max_upload_bytes)
    return await run_in_threadpool(cases.add_capture, svc, db, case, step, data, content_type, actor=caller.actor)


@router.post("/cases/{case_id}/liveness/start", response_model=LivenessStarted)
def liveness_start(case_id: str, caller: CallerDep, svc: SvcDep, db: DbDep) -> dict[str, Any]:
    """Start a liveness session: the random challenges, in order, to show one at a time."""
    case = case_for(svc, db, caller, case_id)
    return cases.liveness_start(svc, db, case, actor=caller.actor)


@router.post(
    "/cases/{case_id}/liveness/frames",
    openapi_extra=_IMAGE_BODY,
    response_model=LivenessProgress,
)
async def liveness_frame(
    case_id: str,
    request: Request,
    caller: CallerDep,
    svc: SvcDep,
    db: DbDep,
    ts: Annotated[float, Query(description="client capture time, seconds")],
    content_type: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """One camera frame (raw JPEG body); returns the challenge to show now and guidance.

    While ``current`` is ``screen_light`` the answer carries ``screen_colour`` ("#rrggbb"): fill the
    screen with it, wait for the display to show it (a repaint and ~120 ms), then capture the next frame.
    """
    data, case = await _upload(request, caller, svc, db, case_id, svc.settings.liveness_max_frame_bytes, "frames")
    return await run_in_threadpool(cases.liveness_frame, svc, db, case, data, content_type, ts)


@router.post("/cases/{case_id}/liveness/finish", response_model=LivenessFinished)
def liveness_finish(case_id: str, caller: CallerDep, svc: SvcDep, db: DbDep) -> dict[str, Any]:
    case = case_for(svc, db, caller, case_id)
    return cases.liveness_finish(svc, db, case, actor=caller.actor)


@router.post("/cases/{case_id}/submit", response_model=Submitted)
def submit(case_id: str, caller: CallerDep, svc: SvcDep, db: DbDep, request: Request) -> dict[str, Any]:
    """Submit: face match and recommendation; the case becomes pending. ``return_to``: where to send the applicant."""
    case = case_for(svc, db, caller, case_id)
    out = submission.submit(svc, db, case, actor=caller.actor)
    return _status(case) | out


@router.post("/cases/{case_id}/video-call", response_model=SellerStatus)
def video_call(
    case_id: str, body: VideoCall, caller: CallerDep, svc: SvcDep, db: DbDep, request: Request
) -> dict[str, Any]:
    """Ask for an in-person video call instead of (or after failing) the biometric flow."""
    case = case_for(svc, db, caller, case_id)
    svc.throttle.per_client(
        Bucket.VIDEO_CALL, svc.settings.rate_video_call, request, "too many video-call requests from this address"
    )
    email = (body.email or "").strip() or None
    cases.request_video_call(svc, db, case, reason="requested", actor=caller.actor, email=email)
    return _status(case)


@router.delete("/cases/{case_id}", response_model=CaseErased)
def erase_case(
    case_id: str,
    caller: CallerDep,
    svc: SvcDep,
    db: DbDep,
    reason: Annotated[str, Query(max_length=200, description="why (kept in the audit record)")] = "",
) -> CaseErased:
    """Erase the case now, in any state: its images, data key and personal fields (API key required).

    A minimal audit record stays (who, when, the state it was in). Erasing it again changes nothing.
    """
    if caller.channel is None:
        raise UnauthorizedError("erasing a case needs the API key that created it", code="api_key_required")
    case = case_for(svc, db, caller, case_id)
    return CaseErased.model_validate(erase(svc, db, case, actor=caller.actor, reason=reason))
