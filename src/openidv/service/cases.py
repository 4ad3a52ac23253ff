"""The service layer: what an applicant (or an integrator on their behalf) can do to a case.

Every function takes the :class:`Services` container and an open database session, does
one use case, and leaves committing to the caller (one transaction per request). Errors
are :class:`openidv.service.errors.ServiceError` subclasses that carry the HTTP status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from datetime import UTC, date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from openidv.document.capture import capture_verdict
from openidv.document.engine import DocumentConfig, SideAnalysis, analyse_side, build_report
from openidv.imaging import encode_jpeg, image_size, jpeg_metadata
from openidv.liveness.frame import FrameConfig
from openidv.liveness.session import (
    INSTRUCTIONS,
    LivenessSession,
    SessionConfig,
    add_frame,
    evidence_frames,
    finish,
    start_session,
)
from openidv.service import crypto, live_sessions, messages, reuse
from openidv.service.db import as_utc
from openidv.service.errors import (
    ConflictError,
    GoneError,
    NotFoundError,
    PayloadTooLargeError,
    ServiceBusyError,
    ServiceError,
    TooManyRequestsError,
    UnprocessableError,
    UnsupportedMediaError,
)
from openidv.service.i18n import N_
from openidv.service.lifecycle import FINAL, OPEN_FOR_CAPTURE, PENDING, CaseState
from openidv.service.messages import DOCUMENT_LABELS as DOCUMENT_LABELS
from openidv.service.messages import SELLER_STATUS as SELLER_STATUS
from openidv.service.messages import STEP_LABELS as STEP_LABELS
from openidv.service.metrics import EngineStage
from openidv.service.orm import Blob, Capture, Case, CaseEvent, VideoCallRequest, new_id
from openidv.service.personal import data_key as data_key
from openidv.service.personal import full_reports as full_reports
from openidv.service.personal import set_reports as set_reports
from openidv.service.runtime import SESSION_OVERHEAD_BYTES, LiveEntry, MemoryBudgetError
from openidv.service.services import Services as Services
from openidv.service.throttle import Bucket, parse_rate
from openidv.service.transitions import TOKEN_RENEWING as TOKEN_RENEWING
from openidv.service.transitions import record_event as record_event
from openidv.service.transitions import retention_deadline as retention_deadline
from openidv.service.transitions import transition as transition

log = logging.getLogger(__name__)

DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    "drivers_license": ("document_front", "document_back"),
    "id_card": ("document_front", "document_back"),
    "passport": ("passport_page",),
    "passport_card": ("document_front", "document_back"),
}
LIVENESS = "liveness"
#: the screen-light check's advice when the face answered the colours too faintly to judge (a bright room)
BRIGHT_LIGHT_ADVICE = "move_away_from_bright_light"
_MEDIA = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


# --------------------------------------------------------------------------- tokens, lookup


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def status_token(token: str) -> str:
    """The read-only status token of the case whose (capture) token is ``token``.

    ``base64url(HMAC-SHA256(token, "openidv:status"))``: the page that holds the case token can
    show the status link again, and the status token does not lead back to the case token.
    """
    mac = hmac.new(token.encode(), b"openidv:status", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def case_by_token(db: Session, token: str) -> Case:
    case = db.scalar(select(Case).where(Case.token_hash == token_hash(token))) if token else None
    if case is None:
        raise NotFoundError(N_("no such verification (the link may be wrong or expired)"))
    return case


def set_language(db: Session, token: str, language: str) -> None:
    """Remember the applicant's chosen language on the case of ``token`` (for its emails), if any."""
    case = db.scalar(select(Case).where(Case.token_hash == token_hash(token)))
    if case is not None:
        case.language = language


def case_by_status_token(db: Session, token: str) -> Case:
    """The case a status link opens (read only: it gives no other access)."""
    case = db.scalar(select(Case).where(Case.status_token_hash == token_hash(token))) if token else None
    if case is None:
        raise NotFoundError(N_("no such verification (the link may be wrong or expired)"))
    return case


def applicant_case(svc: Services, db: Session, token: str) -> Case:
    """The case of an applicant's (capture) token, while the token lives.

    The token expires with the case: at ``expires_at`` (the case TTL after creation, renewed when
    a reviewer asks for a step again, when the case is rejected and when a video call is
    requested, so the seller can act on it). Past it the token opens nothing (410
    ``token_expired``); the read-only status link still shows the outcome.
    """
    case = case_by_token(db, token)
    if svc.clock() >= as_utc(case.expires_at):
        ensure_not_expired(svc, db, case)  # an open case is recorded as expired (and refused)
        raise GoneError(N_("this link has expired; your status link still shows the outcome"), code="token_expired")
    return case


def case_by_id(db: Session, case_id: str, *, channel: str | None = None) -> Case:
    case = db.get(Case, case_id)
    if case is None or (channel is not None and case.channel != channel):
        raise NotFoundError("no such case")
    return case


# --------------------------------------------------------------------------- life cycle


def create_case(
    svc: Services,
    db: Session,
    *,
    channel: str,
    actor: str,
    external_ref: str | None = None,
    return_url: str | None = None,
    language: str | None = None,
) -> tuple[Case, str]:
    """A new case in ``started`` with its own data key; returns the case and its bearer token.

    ``language`` (an ``i18n.Language`` code) is the applicant's, remembered for the emails.

    ``return_url`` must already be checked against the API key's allow-list (:mod:`.integrator`).
    """
    token = secrets.token_urlsafe(32)
    case_id = new_id()
    wrapped = svc.keys.wrap(crypto.new_data_key(), case_id)
    now = svc.clock()
    case = Case(
        id=case_id,
        token_hash=token_hash(token),
        status_token_hash=token_hash(status_token(token)),
        state=CaseState.STARTED,
        channel=channel,
        external_ref=external_ref,
        return_url=return_url,
        language=language,
        key_id=wrapped.key_id,
        wrapped_data_key=wrapped.wrapped,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=svc.settings.case_ttl_s),
        purge_after=retention_deadline(svc, CaseState.STARTED),
        eligibility={},
        reports={},
        recommendation={},
        decision_reasons=[],
    )
    db.add(case)
    detail = {"return_url": return_url} if return_url else {}
    db.add(CaseEvent(case_id=case_id, at=now, actor=actor, to_state=case.state, event="created", detail=detail))
    return case, token


def ensure_not_expired(svc: Services, db: Session, case: Case) -> None:
    """Expire a case left unsubmitted past its deadline (recorded), then refuse with 410."""
    if case.state == CaseState.EXPIRED:
        raise GoneError(N_("this verification has expired; please start a new one"))
    if (case.state == CaseState.STARTED or case.state in OPEN_FOR_CAPTURE) and svc.clock() >= as_utc(case.expires_at):
        transition(svc, db, case, CaseState.EXPIRED, "system", reason="not submitted in time")
        db.commit()  # the expiry stands even though this request fails
        svc.runtime.end_liveness(case.id)
        raise GoneError(N_("this verification has expired; please start a new one"))


def check_email(email: str | None) -> None:
    """Refuse (422 ``bad_email``) an address that cannot be one: no '@', spaces or control
    characters (header injection), over 320 characters. None or empty: no address."""
    if email and (
        "@" not in email or len(email) > 320 or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in email)
    ):
        raise UnprocessableError(N_("that email address does not look right"), code="bad_email")


def set_eligibility(
    svc: Services,
    db: Session,
    case: Case,
    *,
    us_resident: bool,
    adult: bool,
    document_type: str,
    biometric: bool,
    actor: str,
    email: str | None = None,
) -> None:
    """Record the eligibility answers. Declining the biometric flow requests a video call."""
    ensure_not_expired(svc, db, case)
    if case.state != CaseState.STARTED:
        raise ConflictError(N_("eligibility was already recorded for this case"), code="out_of_order")
    # refuse before recording anything: a refused applicant must not be able to go on to consent
    if document_type not in DOCUMENT_TYPES:
        raise UnprocessableError(f"document_type must be one of {sorted(DOCUMENT_TYPES)}", code="bad_document_type")
    check_email(email)
    if not us_resident:
        raise UnprocessableError(
            N_("online verification is available to US residents only; you can ask for a video call instead"),
            code="not_us_resident",
        )
    if not adult:
        raise UnprocessableError(N_("sellers must be 18 or older"), code="under_18")
    case.eligibility = {
        "us_resident": us_resident,
        "adult": adult,
        "document_type": document_type,
        "biometric": biometric,
        "at": svc.clock().isoformat(),
    }
    case.document_type = document_type
    if email:
        case.contact_email = email
    if not biometric:
        request_video_call(svc, db, case, reason="declined_biometrics", actor=actor)
    record_event(db, case, actor, "eligibility", **case.eligibility)


def set_consent(svc: Services, db: Session, case: Case, *, accepted: bool, version: str, actor: str) -> None:
    """Record the applicant's consent; only the applicant (case token or cookie) can give it."""
    if actor != "applicant":
        raise ServiceError(
            "consent is given by the applicant in their own browser, not through an API key",
            code="applicant_only",
            status=403,
        )
    ensure_not_expired(svc, db, case)
    if case.state != CaseState.STARTED or not case.document_type:
        raise ConflictError(N_("answer the eligibility questions first"), code="out_of_order")
    if version != svc.settings.consent_version:
        raise ConflictError(
            N_("the notice has changed; please read the current version"), code="consent_version_changed"
        )
    if not accepted:
        raise UnprocessableError(
            N_("the biometric check needs your consent; you can ask for a video call instead"), code="no_consent"
        )
    case.consent_version = version
    case.consent_at = svc.clock()
    transition(svc, db, case, CaseState.CAPTURING, actor, consent_version=version)


def request_video_call(
    svc: Services, db: Session, case: Case, *, reason: str, actor: str, email: str | None = None
) -> None:
    check_email(email)
    if case.state == CaseState.VIDEO_CALL_REQUESTED:
        return
    transition(svc, db, case, CaseState.VIDEO_CALL_REQUESTED, actor, reason=reason)
    db.add(VideoCallRequest(case_id=case.id, reason=reason, contact_email=email))
    svc.runtime.end_liveness(case.id)


# --------------------------------------------------------------------------- steps


def steps_for(case: Case) -> tuple[str, ...]:
    if not case.document_type:
        return ()
    return (*DOCUMENT_TYPES[case.document_type], LIVENESS)


def _attempts(case: Case, step: str) -> list[Capture]:
    """This step's capture attempts that still count (not superseded by a resubmission request)."""
    return [c for c in case.captures if c.step == step and not c.superseded]


def accepted_capture(case: Case, step: str) -> Capture | None:
    return next((c for c in reversed(_attempts(case, step)) if c.accepted), None)


def next_step(case: Case) -> str | None:
    """The first step without an accepted capture (None when all are done)."""
    return next((s for s in steps_for(case) if accepted_capture(case, s) is None), None)


def progress(case: Case, max_attempts: int) -> list[dict[str, Any]]:
    return [
        {
            "step": s,
            "label": STEP_LABELS[s],
            "done": accepted_capture(case, s) is not None,
            "attempts": len(_attempts(case, s)),
            "attempts_left": max(0, max_attempts - len(_attempts(case, s))),
        }
        for s in steps_for(case)
    ]


def require_open(svc: Services, db: Session, case: Case, refusal: str = N_("this verification is {state}")) -> None:
    """Refuse (409, ``refusal`` naming the state) a case that no longer takes captures; a case past its
    deadline expires first (410)."""
    ensure_not_expired(svc, db, case)
    if case.state not in OPEN_FOR_CAPTURE:
        state = messages.STATE_WORDS.get(CaseState(case.state), case.state.replace("_", " "))
        raise ConflictError(refusal, code="not_capturing", params={"state": state})


def _require_step(svc: Services, db: Session, case: Case, step: str, *, resuming: bool = False) -> None:
    """Refuse a step out of order or without attempts left (``resuming``: a lost attempt is taken over)."""
    require_open(svc, db, case, N_("this verification is {state}; it takes no more photos"))
    if case.state == CaseState.RESUBMISSION_REQUESTED:
        transition(svc, db, case, CaseState.CAPTURING, "applicant", step=case.resubmit_step)
    steps = steps_for(case)
    if step not in steps:
        raise NotFoundError(
            N_("step '{step}' is not part of this verification (steps: {steps})"),
            code="unknown_step",
            params={"step": step, "steps": ", ".join(steps)},
        )
    for earlier in steps[: steps.index(step)]:
        if accepted_capture(case, earlier) is None:
            raise ConflictError(
                N_("complete '{step}' first"), code="out_of_order", params={"step": STEP_LABELS[earlier]}
            )
    if not resuming and len(_attempts(case, step)) >= svc.settings.max_attempts:
        raise ConflictError(
            N_("no attempts left for '{step}'; you can ask for a video call instead"),
            code="attempts_exhausted",
            params={"step": STEP_LABELS[step]},
        )


def sniff_media_type(data: bytes, declared: str | None) -> str:
    """The image type from its signature; refuse anything else or a mismatching declaration."""
    media = next((m for sig, m in _MEDIA.items() if data.startswith(sig)), None)
    if media is None:
        raise UnsupportedMediaError(N_("only JPEG or PNG images are accepted"))
    if declared and declared.split(";")[0].strip().lower() not in (media, "application/octet-stream"):
        raise UnsupportedMediaError(
            N_("the content is {media} but was declared as {declared}"), params={"media": media, "declared": declared}
        )
    return media


def require_live_capture(data: bytes, actor: str) -> None:
    """Refuse (422 ``live_capture_required``) what is not a frame of the capture page's camera.

    The page encodes camera frames as JPEG in the browser (canvas), which writes no camera
    or editor metadata. A PNG, a JPEG with Exif, XMP or Photoshop segments (what phones,
    scanners and editors write), or any photo sent with an API key is a file. A client that
    re-encodes a file the way the page does passes: this enforces the setting, it does not
    detect injected images (the document and liveness checks look for those).
    """
    if actor != "applicant":
        raise UnprocessableError(
            N_("document photos come from the applicant's live capture"), code="live_capture_required"
        )
    found = jpeg_metadata(data)
    if found is None or found:
        raise UnprocessableError(
            N_("this looks like a PNG file; take the photo with the camera on the capture page")
            if found is None
            else N_("this looks like a file ({metadata} metadata); take the photo with the camera on the capture page"),
            code="live_capture_required",
            params={} if found is None else {"metadata": ", ".join(found)},
        )


# --------------------------------------------------------------------------- blobs


def store_blob(svc: Services, db: Session, case: Case, kind: str, media_type: str, plaintext: bytes) -> Blob:
    blob = Blob(id=new_id(), case_id=case.id, kind=kind, media_type=media_type, created_at=svc.clock(), size=0)
    ct = crypto.encrypt(data_key(svc, case), plaintext, crypto.blob_aad(case.id, kind, blob.id))
    blob.size = len(ct)
    svc.blobs.put(case.id, blob.id, ct)
    db.add(blob)
    return blob


def read_blob(svc: Services, case: Case, blob: Blob) -> bytes:
    if blob.deleted_at is not None:
        raise GoneError("this image was deleted under the retention schedule", code="image_deleted")
    ct = svc.blobs.get(case.id, blob.id)
    return crypto.decrypt(data_key(svc, case), ct, crypto.blob_aad(case.id, blob.kind, blob.id))


def blob_of(case: Case, kind: str) -> Blob | None:
    return next((b for b in reversed(case.blobs) if b.kind == kind and b.deleted_at is None), None)


# --------------------------------------------------------------------------- document captures


def add_capture(
    svc: Services, db: Session, case: Case, step: str, data: bytes, declared_type: str | None, *, actor: str
) -> dict[str, Any]:
    """Check one document photo as it arrives; keep it (encrypted) when accepted.

    Raises 413/415/422 for unusable uploads (nothing is counted or kept); otherwise the
    attempt is recorded and the verdict returned (``accepted`` or a retake with reasons).
    """
    if step == LIVENESS:
        raise ConflictError(N_("the face step uses the liveness endpoints"), code="wrong_endpoint")
    _require_step(svc, db, case, step)
    media = sniff_media_type(data, declared_type)
    if not svc.settings.allow_file_upload:
        require_live_capture(data, actor)
    role = "back" if step == "document_back" else "front"
    with svc.metrics.stage(EngineStage.DOCUMENT_SIDE):
        side = analyse_side(data, role, DocumentConfig(max_pixels=svc.settings.max_image_pixels))
    if side.error is not None:
        message = messages.PHOTO_ERRORS.get(side.error.code, messages.UNUSABLE_PHOTO)
        raise UnprocessableError(message, code=side.error.code)
    verdict = capture_verdict(side, step, case.document_type or "")
    attempt = len(_attempts(case, step)) + 1
    blob_id = None
    if verdict.accepted:
        blob = store_blob(svc, db, case, step, media, data)
        blob_id = blob.id
        svc.runtime.sides.put(blob.id, side)
    capture = Capture(
        case_id=case.id,
        step=step,
        attempt=attempt,
        accepted=verdict.accepted,
        reasons=verdict.reasons,
        result=verdict.to_dict(),
        blob_id=blob_id,
        created_at=svc.clock(),
    )
    db.add(capture)
    case.captures.append(capture)
    record_event(
        db, case, actor, "capture", step=step, attempt=attempt, accepted=verdict.accepted, reasons=verdict.reasons
    )
    out = verdict.to_dict() | {"attempt": attempt, "attempts_left": svc.settings.max_attempts - attempt}
    if verdict.accepted and all(accepted_capture(case, s) for s in DOCUMENT_TYPES[case.document_type or ""]):
        t = time.perf_counter()
        build_document_report(svc, db, case)
        out["document_report_ms"] = round((time.perf_counter() - t) * 1000.0, 1)
    out["next_step"] = next_step(case)
    return out


def _side_for(svc: Services, case: Case, step: str) -> SideAnalysis:
    capture = accepted_capture(case, step)
    assert capture is not None and capture.blob_id is not None
    cached = svc.runtime.sides.get(capture.blob_id)
    if cached is not None:
        return cached
    blob = next(b for b in case.blobs if b.id == capture.blob_id)
    role = "back" if step == "document_back" else "front"
    photo = read_blob(svc, case, blob)
    with svc.metrics.stage(EngineStage.DOCUMENT_SIDE):
        side = analyse_side(photo, role, DocumentConfig(max_pixels=svc.settings.max_image_pixels))
    svc.runtime.sides.put(blob.id, side)
    return side


def build_document_report(svc: Services, db: Session, case: Case) -> dict[str, Any]:
    """Combine the accepted sides into the document report; keep the portrait crop (encrypted)."""
    sides = [_side_for(svc, case, s) for s in DOCUMENT_TYPES[case.document_type or ""]]
    today: date = svc.clock().astimezone(UTC).date()
    report = build_report(sides, today=today, config=DocumentConfig(max_pixels=svc.settings.max_image_pixels))
    document = report.to_dict()
    set_reports(svc, case, {**full_reports(svc, case), "document": document})
    reuse.record(svc, db, case, document)
    if report.portrait is not None:
        store_blob(svc, db, case, "portrait", "image/jpeg", encode_jpeg(report.portrait, 92))
    return document


# --------------------------------------------------------------------------- liveness


def liveness_start(svc: Services, db: Session, case: Case, *, actor: str) -> dict[str, Any]:
    """Start the liveness step; after a lost session (its process died) the restart takes over that attempt."""
    lost = live_sessions.resumable(svc.runtime, case)
    _require_step(svc, db, case, LIVENESS, resuming=lost is not None)
    rng = None
    if svc.settings.challenge_seed is not None:
        rng = np.random.default_rng([svc.settings.challenge_seed, len(_attempts(case, LIVENESS))])
    # the frames' "move closer" guidance also holds the selfie gate of the face match at submit
    config = SessionConfig(frame=FrameConfig(min_interocular_px=svc.settings.face_selfie_min_iod_px))
    session = start_session(
        now=time.time(),
        rng=rng,
        ttl_s=svc.settings.liveness_ttl_s,
        screen_light=svc.settings.liveness_screen_light,
        config=config,
    )
    _register_session(svc, case, session)
    challenges = [s.challenge.value for s in session.steps]
    if lost is not None:
        attempt = lost.attempt
        restarts = live_sessions.count_restart(lost)
        record_event(db, case, actor, "liveness_restarted", attempt=attempt, restarts=restarts, challenges=challenges)
    else:
        attempt = len(_attempts(case, LIVENESS)) + 1
        reasons = [live_sessions.IN_PROGRESS]
        capture = Capture(
            case_id=case.id, step=LIVENESS, attempt=attempt, accepted=False, reasons=reasons, created_at=svc.clock()
        )
        db.add(capture)
        case.captures.append(capture)
        record_event(db, case, actor, "liveness_started", attempt=attempt, challenges=challenges)
    return {
        "session_id": session.session_id,
        "nonce": session.nonce,
        "challenges": challenges,
        "instructions": {s.challenge.value: INSTRUCTIONS[s.challenge] for s in session.steps},
        "window_s": session.steps[0].window_s if session.steps else 0.0,
        "expires_in_s": svc.settings.liveness_ttl_s,
        "attempt": attempt,
        "attempts_left": svc.settings.max_attempts - attempt,
    }


def _register_session(svc: Services, case: Case, session: LivenessSession) -> None:
    """Hold the session's share of the liveness memory budget, or refuse it (503 + Retry-After)."""
    now = time.time()
    svc.runtime.drop_expired(now, grace_s=10.0)
    try:
        svc.runtime.start_liveness(
            case.id,
            session,
            reserve=svc.settings.liveness_session_bytes + SESSION_OVERHEAD_BYTES,
            budget=svc.settings.liveness_memory_budget,
        )
    except MemoryBudgetError as exc:
        session.close()
        log.warning("liveness start refused: %s", exc)
        raise ServiceBusyError(
            N_("the face check is busy with other applicants; please try again in a minute"),
            code="liveness_busy",
            retry_after_s=exc.retry_after_s,
        ) from exc


def _admit_frame(svc: Services, case: Case, entry: LiveEntry, data: bytes) -> None:
    """Refuse a frame over the rate (429), the session's frame count (429), the pixel budget or the
    session's memory share (413); counts the frames let through."""
    cfg = svc.settings
    svc.throttle.hit(
        Bucket.LIVENESS_FRAME, parse_rate(cfg.liveness_frame_rate), case.id, N_("frames are sent too fast")
    )
    if entry.frames_received >= cfg.liveness_max_frames:
        raise TooManyRequestsError(
            N_("a face check takes at most {count} frames; finish it or start again"),
            code="too_many_frames",
            params={"count": cfg.liveness_max_frames},
        )
    size = image_size(data)
    if size is not None and size[0] * size[1] > cfg.liveness_max_frame_pixels:
        raise PayloadTooLargeError(
            N_("the frame is {width}x{height} pixels; send at most {limit} pixels"),
            code="frame_too_large",
            params={"width": size[0], "height": size[1], "limit": cfg.liveness_max_frame_pixels},
        )
    if entry.session.stored_bytes + len(data) > cfg.liveness_session_bytes:
        raise PayloadTooLargeError(
            N_("this face check has received too much image data; finish it or start again"),
            code="session_data_limit",
        )
    entry.frames_received += 1


def _live_entry(svc: Services, case: Case) -> LiveEntry:
    entry = svc.runtime.liveness(case.id)
    if entry is None:
        raise live_sessions.missing_session_error(svc.runtime, case)
    return entry


def liveness_frame(
    svc: Services, db: Session, case: Case, data: bytes, declared: str | None, client_ts: float
) -> dict[str, Any]:
    require_open(svc, db, case)
    sniff_media_type(data, declared)
    entry = _live_entry(svc, case)
    with entry.lock:
        _admit_frame(svc, case, entry, data)
        with svc.metrics.stage(EngineStage.LIVENESS_FRAME):
            p = add_frame(entry.session, data, client_ts, now=time.time())
    return {
        "current": None if p.current is None else p.current.value,
        "instruction": "" if p.current is None else INSTRUCTIONS[p.current],
        "step_index": p.step_index,
        "met": p.met,
        "completed": [c.value for c in p.completed],
        "guidance": p.guidance,
        "expired": p.expired,
        "failed_reason": p.failed_reason,
        "screen_colour": p.screen_colour,
        "done": p.current is None and not p.expired and len(p.completed) == len(entry.session.steps),
    }


def liveness_finish(svc: Services, db: Session, case: Case, *, actor: str) -> dict[str, Any]:
    """Decide liveness, keep the selfie and a few evidence frames (encrypted).

    The applicant is told only whether to go on or try again, never the checks' details.
    """
    require_open(svc, db, case)
    entry = _live_entry(svc, case)
    with entry.lock:
        frames = evidence_frames(entry.session, svc.settings.keep_liveness_frames)
        with svc.metrics.stage(EngineStage.LIVENESS_FINISH):
            report = finish(entry.session, now=time.time())
    svc.runtime.end_liveness(case.id)
    capture = next(c for c in reversed(case.captures) if c.step == LIVENESS)
    usable = report.selfie is not None and any(
        c.name == "challenges_completed" and c.status.value == "pass" for c in report.checks
    )
    # the face answered the screen's colours too faintly to tell: a bright room (daylight, a window
    # behind the screen) drowns the screen's light; the applicant can fix that, so ask them to
    too_bright = any(c.data.get("advice") == BRIGHT_LIGHT_ADVICE for c in report.checks)
    attempts_left = svc.settings.max_attempts - len(_attempts(case, LIVENESS))
    if usable and too_bright and attempts_left > 0:
        usable = False
    capture.accepted = usable
    capture.reasons = [] if usable else [c.reason for c in report.checks if c.status.value != "pass"][:5]
    capture.result = {"n_frames": report.n_frames, "timings_ms": report.to_dict()["timings_ms"]}
    if usable:
        assert report.selfie is not None
        selfie = store_blob(svc, db, case, "selfie", "image/jpeg", encode_jpeg(report.selfie, 92))
        capture.blob_id = selfie.id
        for _, _, frame in frames:
            raw = frame if isinstance(frame, bytes) else encode_jpeg(frame, 85)
            store_blob(svc, db, case, "liveness_frame", "image/jpeg", raw)
        set_reports(svc, case, {**full_reports(svc, case), "liveness": report.to_dict()})
    record_event(db, case, actor, "liveness_finished", accepted=usable, decision=report.decision.value)
    message = messages.LIVENESS_TOO_BRIGHT if too_bright else messages.LIVENESS_RETRY
    return {
        "accepted": usable,
        "retry": not usable and attempts_left > 0,
        "attempts_left": attempts_left,
        "message": "" if usable else message,
        "next_step": next_step(case),
    }


# --------------------------------------------------------------------------- status


def seller_status(case: Case) -> dict[str, Any]:
    """What the seller (or the integrator) may see: never scores, checks or reviewer notes."""
    state = CaseState(case.state)  # a member even before the row is reloaded
    status, text = SELLER_STATUS[state]
    return {
        "case_id": case.id,
        "state": state.value,
        "status": status,
        "message": case.seller_message if state in FINAL and case.seller_message else text,
        "pending": state in PENDING,
        "document_type": case.document_type,
        "resubmit_step": case.resubmit_step,
        "submitted_at": case.submitted_at.isoformat() if case.submitted_at else None,
        "decided_at": case.decided_at.isoformat() if case.decided_at else None,
    }
