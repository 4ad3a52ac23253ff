"""The applicant's pages: server-rendered HTML (Jinja2) plus the small capture script.

Flow: ``/`` -> ``POST /start`` (new case, token cookie) -> ``/eligibility`` -> ``/consent``
-> ``/capture`` (camera steps, driven by ``static/capture.js`` over the JSON API) ->
``/pending``; ``/status/<token>`` at any time; ``/video-call`` for the alternative.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from babel.dates import format_date, format_time
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from openidv.service import cases, handoff, i18n, integrator, messages, page_texts
from openidv.service.deps import CASE_COOKIE, DbDep, SvcDep
from openidv.service.errors import NotFoundError, ParamValue, ServiceError, UnprocessableError, fill
from openidv.service.i18n import N_
from openidv.service.lifecycle import OPEN_FOR_CAPTURE, PENDING, CaseState
from openidv.service.orm import Case
from openidv.service.throttle import Bucket

VIDEO_CALL_RATE_MESSAGE = N_("too many video-call requests from this address")
TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
)
router = APIRouter(include_in_schema=False)
STAFF_PREFIX = "/review"  # the review console stays in English: reviewers are staff
#: the applicant's form token (double submit): a cookie that another site's form cannot send (SameSite=Lax
#: withholds it from cross-site POSTs) and cannot read, repeated in a hidden field of the form
FORM_COOKIE = "openidv_form"
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)
FORM_EXPIRED = N_("this form has expired; reload the page and try again")


@pass_context
def _gettext(context: Context, message: str) -> str:
    return i18n.gettext(context.get("language", i18n.DEFAULT_LANGUAGE), message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.translations(context.get("language", i18n.DEFAULT_LANGUAGE)).ngettext(singular, plural, n)


TEMPLATES.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
#: ``tr(text)``: a text from Python (status line, error message) in the page's language, escaped as any
#: value (``_()`` marks its result safe and %-formats it, right for template literals only)
TEMPLATES.env.globals["tr"] = _gettext


@pass_context
def _when(context: Context, moment: datetime, style: str) -> str:
    """``moment`` (UTC) as the page's language writes a date (CLDR ``style``: full, long, medium) and 24 h time."""
    locale = context.get("language", i18n.DEFAULT_LANGUAGE).value
    return f"{format_date(moment, style, locale=locale)}, {format_time(moment, 'HH:mm', tzinfo=UTC, locale=locale)}"


TEMPLATES.env.filters["when"] = _when


def page_language(request: Request) -> i18n.Language:
    """The applicant's language: the switcher's cookie, else ``Accept-Language``; English in the console."""
    if request.url.path.startswith(STAFF_PREFIX):
        return i18n.DEFAULT_LANGUAGE
    chosen = i18n.parse_language(request.cookies.get(i18n.LANGUAGE_COOKIE))
    return chosen or i18n.negotiate(request.headers.get("accept-language"))


def applicant_text(
    request: Request, message: str, params: Mapping[str, ParamValue] | None = None, *, page: bool = False
) -> str:
    """``message`` with ``params`` filled in, in the applicant's language on a page or when the applicant's
    browser asks (case cookie); API keys and the console get it as it is (English)."""
    values = dict(params or {})
    if request.url.path.startswith(STAFF_PREFIX) or not (page or CASE_COOKIE in request.cookies):
        return fill(message, values) if values else message
    language = page_language(request)
    texts = {k: _translated_value(language, v) for k, v in values.items()}
    translated = i18n.gettext(language, message)
    return fill(translated, texts) if texts else translated


def _translated_value(language: i18n.Language, value: ParamValue) -> ParamValue:
    if isinstance(value, str):
        return i18n.gettext(language, value)
    if isinstance(value, tuple):
        return tuple(i18n.gettext(language, v) for v in value)
    return value


def _here(request: Request) -> str:
    """Where the switcher returns: this page, or for a page answering a form the page that sent it."""
    if request.method == "GET":
        return request.url.path
    referer = urlsplit(request.headers.get("referer", ""))
    return referer.path if referer.netloc == request.url.netloc and referer.path else "/"


def _form_token(request: Request) -> str:
    """This browser's form token: its cookie when well formed, else a new random one."""
    token = request.cookies.get(FORM_COOKIE, "")
    return token if FORM_TOKEN.fullmatch(token) else secrets.token_urlsafe(24)


def check_form_token(request: Request, supplied: str | None) -> None:
    """Refuse (403 ``csrf_failed``) a form whose hidden token is not this browser's form cookie."""
    expected = request.cookies.get(FORM_COOKIE)
    if not expected or not supplied or not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise ServiceError(FORM_EXPIRED, code="csrf_failed", status=403)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the request's language; applicant pages get the language switcher (a form
    carrying the browser's form token, whose cookie is set here when missing)."""
    staff = request.url.path.startswith(STAFF_PREFIX)
    token = None if staff else _form_token(request)
    context.setdefault("language", page_language(request))
    context.setdefault("languages", {} if staff else i18n.LANGUAGE_NAMES)
    context.setdefault("here", _here(request))
    context.setdefault("form_token", token)
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
    if token is not None and request.cookies.get(FORM_COOKIE) != token:
        response.set_cookie(
            FORM_COOKIE, token, max_age=365 * 86400, httponly=True, samesite="lax", secure=request.url.scheme == "https"
        )
    return response


def _safe_next(path: str | None) -> str:
    """A path on this site to go back to after switching language (never another origin)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


@router.post("/language")
def choose_language(
    request: Request,
    svc: SvcDep,
    db: DbDep,
    language: Annotated[str, Form()],
    next_path: Annotated[str | None, Form(alias="next")] = None,
    form_token: Annotated[str | None, Form()] = None,
) -> Response:
    """The switcher: remember the language in a cookie (and on the case, for its emails); back to the page.

    The form carries the browser's form token (:func:`check_form_token`): another site cannot switch it."""
    check_form_token(request, form_token)
    chosen = i18n.parse_language(language)
    if chosen is None:
        raise UnprocessableError(N_("this language is not available"), code="bad_language")
    token = request.cookies.get(CASE_COOKIE)
    if token:
        cases.set_language(db, token, chosen.value)
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE, chosen.value, max_age=365 * 86400, samesite="lax", secure=request.url.scheme == "https"
    )
    return response


def _token(request: Request) -> str:
    token = request.cookies.get(CASE_COOKIE)
    if not token:
        raise NotFoundError(
            N_("no verification is in progress in this browser; start one from the home page"), code="no_case"
        )
    return token


def _case(request: Request, svc: SvcDep, db: DbDep) -> tuple[Case, str]:
    token = _token(request)
    return cases.applicant_case(svc, db, token), token


#: set on the browser that opened a handoff link (the phone), so its pages do not offer another handoff
HANDOFF_DEVICE_COOKIE = "openidv_phone"


def _set_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        CASE_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _where(case: Case) -> str:
    """The page an applicant belongs on for the case's state."""
    state = CaseState(case.state)  # a member even before the row is reloaded
    if state is CaseState.STARTED:
        return "/eligibility" if not case.document_type else "/consent"
    if state in OPEN_FOR_CAPTURE:
        return "/capture"
    if state is CaseState.VIDEO_CALL_REQUESTED:
        return "/video-call"
    return "/pending" if state in PENDING else "/done"


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html")


@router.post("/start")
def start(request: Request, svc: SvcDep, db: DbDep) -> Response:
    svc.throttle.per_client(
        Bucket.START, svc.settings.rate_start, request, N_("too many verifications were started from this address")
    )
    _, token = cases.create_case(svc, db, channel="web", actor="applicant", language=page_language(request).value)
    response = RedirectResponse("/eligibility", status_code=303)
    _set_cookie(response, request, token, svc.settings.case_ttl_s + 30 * 86400)
    return response


@router.get("/resume/{token}")
def resume(token: str, request: Request, svc: SvcDep, db: DbDep) -> Response:
    """Entry for cases created through the API: the link the integrator gives the seller."""
    case = cases.applicant_case(svc, db, token)
    if case.language is None:  # an integrator's case: the applicant's browser tells the language
        case.language = page_language(request).value
    response = RedirectResponse(_where(case), status_code=303)
    _set_cookie(response, request, token, svc.settings.case_ttl_s + 30 * 86400)
    return response


@router.get("/eligibility", response_class=HTMLResponse)
def eligibility_page(request: Request, svc: SvcDep, db: DbDep) -> Response:
    case, _ = _case(request, svc, db)
    cases.ensure_not_expired(svc, db, case)
    if case.state != CaseState.STARTED or case.document_type:
        return RedirectResponse(_where(case), status_code=303)
    return render(request, "eligibility.html", document_types=cases.DOCUMENT_LABELS, answers={})


@router.post("/eligibility")
def eligibility_submit(
    request: Request,
    svc: SvcDep,
    db: DbDep,
    us_resident: Annotated[str, Form()],
    adult: Annotated[str, Form()],
    document_type: Annotated[str, Form()],
    method: Annotated[str, Form()],
    email: Annotated[str | None, Form()] = None,
) -> Response:
    case, _ = _case(request, svc, db)
    try:
        cases.set_eligibility(
            svc,
            db,
            case,
            us_resident=us_resident == "yes",
            adult=adult == "yes",
            document_type=document_type,
            biometric=method == "online",
            actor="applicant",
            email=(email or "").strip() or None,
        )
    except ServiceError as exc:
        if exc.code in ("not_us_resident", "under_18", "bad_document_type", "bad_email"):
            return render(
                request,
                "eligibility.html",
                422,
                document_types=cases.DOCUMENT_LABELS,
                error=applicant_text(request, exc.template, exc.params, page=True),
                code=exc.code,
                email=email,
                answers={"us_resident": us_resident, "adult": adult, "document_type": document_type, "method": method},
            )
        raise
    return RedirectResponse(_after_decline(case) or _where(case), status_code=303)


def _after_decline(case: Case) -> str | None:
    """``/return`` when the applicant chose the video call on an integrator's case with a return URL.

    Forms may only post to this origin (CSP ``form-action 'self'``, which Chromium also applies to
    the redirects that follow a form), so the way out is a page of our own that then navigates.
    """
    if case.state != CaseState.VIDEO_CALL_REQUESTED or not case.return_url:
        return None
    return "/return"


@router.get("/return", response_class=HTMLResponse)
def return_page(request: Request, svc: SvcDep, db: DbDep) -> Response:
    """Send the applicant back to the integrator's ``return_url`` (with case id and state), else where they belong."""
    case, _ = _case(request, svc, db)
    target = integrator.return_redirect(case)
    if target is None:
        return RedirectResponse(_where(case), status_code=303)
    host = urlsplit(target).hostname or target
    return render(request, "return.html", target=target, host=host, message=_seller_message(request, case))


@router.get("/consent", response_class=HTMLResponse)
def consent_page(request: Request, svc: SvcDep, db: DbDep) -> Response:
    case, _ = _case(request, svc, db)
    cases.ensure_not_expired(svc, db, case)
    if case.state != CaseState.STARTED or not case.document_type:
        return RedirectResponse(_where(case), status_code=303)
    return render(
        request,
        "consent.html",
        version=svc.settings.consent_version,
        retention_days=svc.settings.retention_days,
        document=cases.DOCUMENT_LABELS[case.document_type],
    )


@router.post("/consent")
def consent_submit(
    request: Request,
    svc: SvcDep,
    db: DbDep,
    version: Annotated[str, Form()],
    accepted: Annotated[str | None, Form()] = None,
) -> Response:
    case, _ = _case(request, svc, db)
    try:
        cases.set_consent(svc, db, case, accepted=accepted == "yes", version=version, actor="applicant")
    except ServiceError as exc:
        if exc.code == "no_consent":
            return render(
                request,
                "consent.html",
                422,
                version=svc.settings.consent_version,
                retention_days=svc.settings.retention_days,
                document=cases.DOCUMENT_LABELS[case.document_type or "passport"],
                error=applicant_text(request, exc.template, exc.params, page=True),
            )
        raise
    return RedirectResponse("/capture", status_code=303)


@router.get("/capture", response_class=HTMLResponse)
def capture_page(request: Request, svc: SvcDep, db: DbDep) -> Response:
    case, _ = _case(request, svc, db)
    cases.ensure_not_expired(svc, db, case)
    if case.state not in OPEN_FOR_CAPTURE:
        return RedirectResponse(_where(case), status_code=303)
    language = page_language(request)
    return render(
        request,
        "capture.html",
        case_id=case.id,
        steps=cases.progress(case, svc.settings.max_attempts),
        document=i18n.gettext(language, cases.DOCUMENT_LABELS[case.document_type or "passport"]),
        allow_upload=svc.settings.allow_file_upload,
        offer_handoff=request.cookies.get(HANDOFF_DEVICE_COOKIE) != "1",
        screen_light=svc.settings.liveness_screen_light,  # the face step warns of flashing colours
        texts=page_texts.translated(page_texts.CAPTURE_TEXTS, language),  # capture.js's wording
        server_texts=page_texts.server_texts(language),  # the API's verdicts and guidance
    )


def _seller_message(request: Request, case: Case) -> str:
    """The status line or the decision's message for the seller, in the page's language."""
    language = page_language(request)
    return messages.localized_seller_message(
        cases.seller_status(case)["message"],
        list(case.decision_reasons or []),
        case.resubmit_step,
        lambda text: i18n.gettext(language, text),
    )


def _status(request: Request, case: Case, status_token: str, case_token: str | None = None) -> HTMLResponse:
    """The seller's status page; ``case_token`` (from the cookie, never from a link) enables its actions."""
    return render(
        request,
        "status.html",
        status=cases.seller_status(case),
        message=_seller_message(request, case),
        status_token=status_token,
        case_token=case_token,
    )


@router.get("/pending", response_class=HTMLResponse)
def pending_page(request: Request, svc: SvcDep, db: DbDep) -> Response:
    case, token = _case(request, svc, db)
    if case.state in OPEN_FOR_CAPTURE or case.state == CaseState.STARTED:
        return RedirectResponse(_where(case), status_code=303)
    return _status(request, case, cases.status_token(token), token)


@router.get("/done", response_class=HTMLResponse)
def done_page(request: Request, svc: SvcDep, db: DbDep) -> Response:
    case, token = _case(request, svc, db)
    return _status(request, case, cases.status_token(token), token)


@router.get("/status/{token}", response_class=HTMLResponse)
def status_page(token: str, request: Request, db: DbDep) -> HTMLResponse:
    """Read only: the status token shows the state and the seller's message, and opens nothing else."""
    return _status(request, cases.case_by_status_token(db, token), token)


@router.get("/video-call", response_class=HTMLResponse)
def video_call_page(request: Request, svc: SvcDep, db: DbDep) -> Response:
    from openidv.service.review import booking_of, open_slots

    case, token = _case(request, svc, db)
    return render(
        request,
        "video_call.html",
        status=cases.seller_status(case),
        token=cases.status_token(token),
        slots=open_slots(svc, db),
        booking=booking_of(db, case),
        email=case.contact_email,
    )


@router.post("/video-call/book")
def video_call_book(request: Request, svc: SvcDep, db: DbDep, slot_id: Annotated[int, Form()]) -> Response:
    from openidv.service.review import book_slot

    case, _ = _case(request, svc, db)
    svc.throttle.per_client(Bucket.VIDEO_CALL, svc.settings.rate_video_call, request, VIDEO_CALL_RATE_MESSAGE)
    book_slot(svc, db, case, slot_id)
    return RedirectResponse("/video-call", status_code=303)


@router.post("/video-call")
def video_call_submit(
    request: Request, svc: SvcDep, db: DbDep, email: Annotated[str | None, Form()] = None
) -> Response:
    case, _ = _case(request, svc, db)
    svc.throttle.per_client(Bucket.VIDEO_CALL, svc.settings.rate_video_call, request, VIDEO_CALL_RATE_MESSAGE)
    address = (email or "").strip() or None
    cases.check_email(address)  # the same rule as the eligibility page's address
    if case.state == CaseState.STARTED and not case.document_type:
        case.eligibility = {"biometric": False, "at": svc.clock().isoformat()}
    if address:
        case.contact_email = address
    cases.request_video_call(svc, db, case, reason="requested", actor="applicant", email=address)
    return RedirectResponse(_after_decline(case) or "/video-call", status_code=303)


@router.post("/handoff", response_class=HTMLResponse)
def handoff_start(request: Request, svc: SvcDep, db: DbDep) -> Response:
    """Desktop: a single-use link and QR code that open this case on the phone; the page follows the case."""
    case, token = _case(request, svc, db)
    cases.ensure_not_expired(svc, db, case)
    if case.state not in OPEN_FOR_CAPTURE:
        return RedirectResponse(_where(case), status_code=303)
    url = svc.settings.public_url.rstrip("/") + handoff.PATH + handoff.create(svc, db, case, token)
    texts = page_texts.translated(page_texts.HANDOFF_TEXTS, page_language(request))
    return render(request, "handoff.html", url=url, qr=handoff.qr_svg(url), case_id=case.id, texts=texts)


@router.get(handoff.PATH + "{token}")
def handoff_open(token: str, request: Request, svc: SvcDep, db: DbDep) -> Response:
    """Phone: use the link once; the browser gets the case's cookie and goes on to the capture page.

    A page (not a redirect) goes on: the link is often opened from another app or site, and a
    SameSite=Strict cookie is sent only on a navigation that starts from this site.
    """
    try:
        case, case_token = handoff.redeem(svc, db, token)
    except handoff.HandoffUnusableError as exc:
        return render(request, "handoff_unusable.html", exc.status, reason=exc.reason.value)
    cases.record_event(db, case, "applicant", "handoff_used")
    response = render(request, "handoff_opened.html", target=_where(case))
    _set_cookie(response, request, case_token, svc.settings.case_ttl_s + 30 * 86400)
    # this browser is the phone: its capture page does not offer to continue on a phone
    response.set_cookie(
        HANDOFF_DEVICE_COOKIE,
        "1",
        max_age=svc.settings.case_ttl_s,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
