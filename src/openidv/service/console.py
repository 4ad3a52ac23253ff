"""The reviewers' console: ``/review/...`` pages (login, queue, case, actions, video calls, audit).

Every route here needs a reviewer login (cookie ``openidv_review``); state-changing forms
carry the session's CSRF token. Applicants' cookies and API keys open nothing here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from openidv.document.codes import is_review_signal
from openidv.service import auth, cases, reuse, review
from openidv.service.deps import DbDep, SvcDep
from openidv.service.enums import Role
from openidv.service.errors import NotFoundError, ServiceError, UnauthorizedError
from openidv.service.lifecycle import CaseState
from openidv.service.orm import AuditEntry, Case, LoginSession, User, VideoSlot
from openidv.service.throttle import Bucket, client_address, parse_rate
from openidv.service.web import render

router = APIRouter(prefix="/review", include_in_schema=False)


class LoginRequiredError(ServiceError):
    status = 401
    code = "login_required"


def reviewer_session(request: Request, svc: SvcDep, db: DbDep) -> LoginSession:
    session = auth.session_for(db, request.cookies.get(auth.REVIEW_COOKIE), svc.clock())
    if session is None:
        raise LoginRequiredError("please log in as a reviewer")
    return session


SessionDep = Annotated[LoginSession, Depends(reviewer_session)]


def admin_session(session: SessionDep) -> LoginSession:
    """The logged-in reviewer's session when the account is an admin; 403 ``forbidden`` otherwise."""
    review.require_admin(session.user)
    return session


#: the session of an admin: every admin-only page and form takes it instead of ``SessionDep``
AdminDep = Annotated[LoginSession, Depends(admin_session)]


def _page(
    request: Request, template: str, session: LoginSession, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return render(request, template, status_code, user=session.user, csrf=session.csrf_token, **context)


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- login


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "review/login.html")


@router.post("/login")
def login_submit(
    request: Request,
    svc: SvcDep,
    db: DbDep,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    failures, address = parse_rate(svc.settings.rate_login_failures), client_address(request)
    try:
        svc.throttle.per_client(Bucket.LOGIN, svc.settings.rate_login, request, "too many login attempts")
        svc.throttle.check(Bucket.LOGIN_FAILURE, failures, address, "too many failed logins from this address")
        try:
            token, _ = auth.login(db, svc.settings, name.strip(), password, svc.clock())
        except UnauthorizedError:
            svc.throttle.count(Bucket.LOGIN_FAILURE, failures, address)
            raise
    except ServiceError as exc:
        page = render(request, "review/login.html", exc.status, error=exc.message, name=name)
        if exc.retry_after_s is not None:
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    response = _back("/review")
    response.set_cookie(
        auth.REVIEW_COOKIE,
        token,
        max_age=svc.settings.login_ttl_s,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/review",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, db: DbDep, csrf_token: Annotated[str, Form()]) -> Response:
    auth.check_csrf(session, csrf_token)
    auth.logout(db, request.cookies.get(auth.REVIEW_COOKIE, ""))
    response = _back("/review/login")
    response.delete_cookie(auth.REVIEW_COOKIE, path="/review")
    return response


# --------------------------------------------------------------------------- queue and case


@router.get("", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    svc: SvcDep,
    db: DbDep,
    document_type: str | None = None,
    recommendation: str | None = None,
    failed_check: str | None = None,
) -> HTMLResponse:
    blind = svc.settings.blind_review  # no filtering by what the reviewer must not see
    filters = review.QueueFilters(
        document_type or None, None if blind else recommendation or None, failed_check or None
    )
    rows = review.queue(db, session.user, filters, svc.clock())
    return _page(
        request,
        "review/queue.html",
        session,
        rows=rows,
        filters=filters,
        document_types=cases.DOCUMENT_LABELS,
        deadline_h=svc.settings.review_deadline_h,
        mode=svc.settings.decision_mode.value,
        blind=blind,
    )


def _fields_table(document: dict[str, Any]) -> tuple[list[dict[str, Any]], set[str]]:
    """Rows ``{name, barcode, mrz, printed}`` and the names that disagree between sources."""
    rows: dict[str, dict[str, Any]] = {}
    for f in document.get("all_fields", []):
        rows.setdefault(f["name"], {"name": f["name"]})[f["source"]] = f["value"]
    mismatched: set[str] = set()
    for c in document.get("checks", []):
        if c["name"].startswith("consistency_"):
            mismatched |= set(((c.get("data") or {}).get("mismatches") or {}).keys())
    if "name" in mismatched:
        mismatched |= {"family_name", "given_names", "full_name"}
    return list(rows.values()), mismatched


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: str, request: Request, session: SessionDep, svc: SvcDep, db: DbDep) -> HTMLResponse:
    case = review.get_case(db, case_id)
    auth.audit(db, session.user.name, "view_case", case.id)
    reports = cases.full_reports(svc, case)  # the fields are decrypted for the reviewer
    document = reports.get("document") or {}
    fields, mismatched = _fields_table(document)
    images = {
        kind: [b for b in case.blobs if b.kind == kind and b.deleted_at is None]
        for kind in ("portrait", "selfie", "document_front", "document_back", "passport_page", "liveness_frame")
    }
    return _page(
        request,
        "review/case.html",
        session,
        case=case,
        images=images,
        fields=fields,
        mismatched=mismatched,
        reports=reports,
        recommendation=case.recommendation or {},
        reject_reasons=review.REJECT_REASONS,
        review_signal=is_review_signal,
        steps=cases.steps_for(case),
        step_labels=cases.STEP_LABELS,
        seller=cases.seller_status(case),
        booking=review.booking_of(db, case),
        reused_by=[u for u in reuse.earlier_uses(svc, db, case, document) if not u.same_applicant],
        blind=svc.settings.blind_review and case.state == CaseState.IN_REVIEW,
        reviewers=[u.name for u in db.scalars(select(User).where(User.disabled.is_(False)).order_by(User.name))]
        if session.user.role == Role.ADMIN
        else [],
    )


@router.get("/cases/{case_id}/images/{blob_id}")
def case_image(case_id: str, blob_id: str, session: SessionDep, svc: SvcDep, db: DbDep) -> Response:
    case = review.get_case(db, case_id)
    data, media = review.view_image(svc, db, case, blob_id, session.user)
    return Response(data, media_type=media, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/cases/{case_id}/claim")
def claim(case_id: str, session: SessionDep, svc: SvcDep, db: DbDep, csrf_token: Annotated[str, Form()]) -> Response:
    auth.check_csrf(session, csrf_token)
    review.claim(svc, db, review.get_case(db, case_id), session.user)
    return _back(f"/review/cases/{case_id}")


@router.post("/cases/{case_id}/assign")
def assign(
    case_id: str,
    session: SessionDep,
    svc: SvcDep,
    db: DbDep,
    csrf_token: Annotated[str, Form()],
    reviewer: Annotated[str, Form()],
) -> Response:
    auth.check_csrf(session, csrf_token)
    review.assign(svc, db, review.get_case(db, case_id), session.user, reviewer)
    return _back(f"/review/cases/{case_id}")


@router.post("/cases/{case_id}/release")
def release(case_id: str, session: SessionDep, svc: SvcDep, db: DbDep, csrf_token: Annotated[str, Form()]) -> Response:
    auth.check_csrf(session, csrf_token)
    review.release(svc, db, review.get_case(db, case_id), session.user)
    return _back("/review")


@router.post("/cases/{case_id}/erase")
def erase(
    case_id: str,
    session: AdminDep,
    svc: SvcDep,
    db: DbDep,
    csrf_token: Annotated[str, Form()],
    confirm: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Erase a case on request (admins only; the form must repeat the case id to confirm)."""
    from openidv.service.shredding import erase as erase_case

    auth.check_csrf(session, csrf_token)
    case = review.get_case(db, case_id)
    if confirm.strip() != case.id:
        raise ServiceError("type the case id to confirm the erasure", code="confirm_required", status=422)
    erase_case(svc, db, case, actor=f"reviewer:{session.user.name}", reason=reason.strip())
    return _back(f"/review/cases/{case_id}")


@router.post("/cases/{case_id}/decide")
async def decide(case_id: str, request: Request, session: SessionDep, svc: SvcDep, db: DbDep) -> Response:
    form = await request.form()
    auth.check_csrf(session, str(form.get("csrf_token") or ""))
    review.decide(
        svc,
        db,
        review.get_case(db, case_id),
        session.user,
        action=str(form.get("action") or ""),
        reason_codes=[str(r) for r in form.getlist("reason")],
        internal_note=str(form.get("internal_note") or "").strip(),
        seller_message=str(form.get("seller_message") or "").strip(),
        resubmit_step=str(form.get("resubmit_step") or "") or None,
    )
    return _back("/review")


# --------------------------------------------------------------------------- video calls


@router.get("/video-calls", response_class=HTMLResponse)
def video_calls(request: Request, session: SessionDep, svc: SvcDep, db: DbDep) -> HTMLResponse:
    slots = db.scalars(select(VideoSlot).order_by(VideoSlot.starts_at)).all()
    booked = [s.case_id for s in slots if s.case_id]
    holders = {c.id: c.assigned_to for c in db.scalars(select(Case).where(Case.id.in_(booked)))} if booked else {}
    return _page(request, "review/video_calls.html", session, slots=slots, holders=holders, now=svc.clock())


@router.post("/slots")
def publish_slot(
    session: SessionDep,
    svc: SvcDep,
    db: DbDep,
    csrf_token: Annotated[str, Form()],
    starts_at: Annotated[str, Form()],
    duration_min: Annotated[int, Form()] = 15,
) -> Response:
    auth.check_csrf(session, csrf_token)
    try:
        when = datetime.fromisoformat(starts_at)
    except ValueError as exc:
        raise ServiceError("give the start as YYYY-MM-DDTHH:MM (UTC)", code="bad_time", status=422) from exc
    review.publish_slot(svc, db, session.user, when if when.tzinfo else when.replace(tzinfo=UTC), duration_min)
    return _back("/review/video-calls")


@router.post("/slots/{slot_id}/outcome")
def call_outcome(
    slot_id: int,
    session: SessionDep,
    svc: SvcDep,
    db: DbDep,
    csrf_token: Annotated[str, Form()],
    outcome: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    seller_message: Annotated[str, Form()] = "",
) -> Response:
    auth.check_csrf(session, csrf_token)
    slot = db.get(VideoSlot, slot_id)
    if slot is None:
        raise NotFoundError("no such slot")
    review.record_call_outcome(svc, db, slot, session.user, outcome, note.strip(), seller_message.strip())
    return _back("/review/video-calls")


# --------------------------------------------------------------------------- agreement report


def _agreement(svc: SvcDep, db: DbDep) -> Any:
    from openidv.decision.agreement import summarize
    from openidv.service.reports import load_recorded_cases

    recorded, excluded = load_recorded_cases(db)
    return summarize(recorded, excluded, current=svc.policy)


@router.get("/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, session: SessionDep, svc: SvcDep, db: DbDep) -> HTMLResponse:
    summary = _agreement(svc, db)
    auth.audit(db, session.user.name, "view_agreement_report")
    return _page(request, "review/agreement.html", session, s=summary.to_dict(), mode=svc.settings.decision_mode.value)


@router.get("/agreement.png")
def agreement_chart(session: SessionDep, svc: SvcDep, db: DbDep) -> Response:
    from openidv.decision.agreement import chart_png

    summary = _agreement(svc, db)
    return Response(
        chart_png(summary.report, summary.sweep), media_type="image/png", headers={"Cache-Control": "no-store"}
    )


# --------------------------------------------------------------------------- admin


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: AdminDep, db: DbDep, case_id: str | None = None) -> HTMLResponse:
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(300)
    if case_id:
        q = q.where(AuditEntry.case_id == case_id)
    return _page(request, "review/audit.html", session, entries=db.scalars(q).all(), case_id=case_id)


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, session: AdminDep, db: DbDep, status: str | None = None) -> HTMLResponse:
    from openidv.service.notify import outbox_counts
    from openidv.service.orm import Delivery, OutboxMessage

    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
    if status:
        q = q.where(OutboxMessage.status == status)
    messages = db.scalars(q).all()
    attempts: dict[int, list[Delivery]] = {m.id: [] for m in messages}
    for d in db.scalars(select(Delivery).where(Delivery.message_id.in_(attempts)).order_by(Delivery.id)):
        attempts[d.message_id].append(d)  # one query for the page, oldest first per message
    return _page(
        request,
        "review/notifications.html",
        session,
        messages=messages,
        attempts=attempts,
        counts=outbox_counts(db),
        status=status,
    )


@router.post("/notifications/{message_id}/requeue")
def requeue_notification(
    message_id: int, session: AdminDep, svc: SvcDep, db: DbDep, csrf_token: Annotated[str, Form()]
) -> Response:
    from openidv.service.notify import NotifyError, requeue
    from openidv.service.orm import OutboxMessage

    auth.check_csrf(session, csrf_token)
    message = db.get(OutboxMessage, message_id)
    if message is None:
        raise NotFoundError("no such message")
    try:
        requeue(svc, db, message)
    except NotifyError as exc:
        raise ServiceError(str(exc), code="not_dead", status=409) from exc
    auth.audit(db, session.user.name, "requeue_notification", message.case_id, message=message.id)
    return _back("/review/notifications")


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, session: AdminDep, db: DbDep) -> HTMLResponse:
    return _page(request, "review/users.html", session, users=db.scalars(select(User).order_by(User.name)).all())
