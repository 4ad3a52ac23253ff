"""The FastAPI application: wiring of settings, database, keys, blob store and routers."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from openidv.models import warm_models
from openidv.service import api, console, web
from openidv.service.blobstore import BlobBackend, BlobStore, BlobStoreUnavailableError
from openidv.service.crypto import CryptoError, load_key_ring
from openidv.service.db import make_engine, migrate, session_factory
from openidv.service.errors import ParamValue, ServiceError
from openidv.service.guards import BodyGuard, BodyRefusedError, refused_cause
from openidv.service.lifecycle import TransitionError
from openidv.service.notify import OutboxWorker
from openidv.service.personal import seal_plaintext_reports
from openidv.service.retention import sweep
from openidv.service.services import Services
from openidv.service.settings import BlobBackendKind, Environment, JobQueueKind, ServiceSettings

log = logging.getLogger(__name__)
#: routes whose body is a raw image (their own, larger limits)
UPLOAD_PATH = re.compile(r"^/api/v1/cases/[^/]+/(captures/[^/]+|liveness/frames)$")
STATIC = Path(__file__).parent / "static"
#: scripts only from this origin (the capture page's JSON island is data, not script); camera frames
#: are drawn from a MediaStream into a canvas and sent with fetch
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def prepare_data_dir(settings: ServiceSettings) -> None:
    """The data folder owner-only (0700) and, for the embedded SQLite, its database file 0600.

    SQLite creates its ``-wal`` and ``-shm`` files with the database file's mode, so they follow.
    An existing folder or file that others could read is tightened.
    """
    data_dir = settings.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    if not settings.database_url:
        database = data_dir / "openidv.db"
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        for path in data_dir.glob("openidv.db*"):
            os.chmod(path, 0o600)


def open_blob_store(settings: ServiceSettings) -> BlobBackend:
    """The configured blob store: ``<data_dir>/blobs`` (default) or the S3 bucket (boto3 imported only then)."""
    if settings.blob_backend is BlobBackendKind.S3:
        from openidv.service.s3store import S3BlobStore

        return S3BlobStore.from_settings(settings)
    return BlobStore(settings.data_dir / "blobs")


def readiness(svc: Services) -> dict[str, str]:
    """``ok`` or the reason for the database (``SELECT 1``) and the blob store (its ``check``)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    checks: dict[str, str] = {}
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:  # any driver error means not ready; the probe reports, never raises
        log.warning("readiness: database unavailable: %s", exc)
        checks["database"] = "unavailable"
    try:
        svc.blobs.check()
        checks["blob_store"] = "ok"
    except BlobStoreUnavailableError as exc:
        log.warning("readiness: %s", exc)
        checks["blob_store"] = "unavailable"
    return checks


def build_services(settings: ServiceSettings) -> Services:
    """Load the key ring (refused outside development without a key file), open the database, the blob store."""
    keys = load_key_ring(
        settings.key_file, settings.data_dir, development=settings.environment is Environment.DEVELOPMENT
    )
    prepare_data_dir(settings)
    engine = make_engine(settings.resolved_database_url())
    migrate(engine)
    svc = Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        keys=keys,
        blobs=open_blob_store(settings),
    )
    sealed = seal_plaintext_reports(svc)
    if sealed:
        log.info("sealed the personal fields of %d case(s) stored before sealed reports", sealed)
    return svc


def route_label(request: Request) -> str:
    """The matched route's template (``/api/v1/cases/{case_id}``), ``/static`` or ``unmatched``; never the path."""
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str):
        return template
    return "/static" if request.url.path.startswith("/static/") else "unmatched"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error(
    request: Request,
    status: int,
    code: str,
    message: str,
    retry_after_s: int | None = None,
    params: Mapping[str, ParamValue] | None = None,
) -> Response:
    """The error as JSON or a page; ``message`` may hold ``{name}`` fields filled from ``params``."""
    response: Response
    if _wants_json(request):
        # the applicant's own browser (its case cookie) reads the message in its language; API keys get English
        text = web.applicant_text(request, message, params)
        response = JSONResponse({"error": {"code": code, "message": text}}, status_code=status)
    else:
        text = web.applicant_text(request, message, params, page=True)
        response = web.render(request, "error.html", status, code=code, message=text, status=status)
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(max(1, retry_after_s))
    return response


def create_app(settings: ServiceSettings | None = None, services: Services | None = None) -> FastAPI:
    """The ASGI application: routers, middleware, error handlers and probes over one :class:`Services`."""
    settings = settings or (services.settings if services is not None else ServiceSettings())
    svc = services or build_services(settings)
    app = FastAPI(
        title="openidv",
        version="0.1.0",
        summary="Identity verification: documents, liveness, face match",
        lifespan=_lifespan(settings, svc),
        # the interactive docs load their scripts from a CDN: development only (/openapi.json stays)
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.services = svc
    app.state.settings = settings
    _add_middleware(app, settings, svc)
    app.include_router(api.router)
    app.include_router(web.router)
    app.include_router(console.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    _add_error_handlers(app)
    _add_probes(app, settings, svc)
    return app


def _lifespan(settings: ServiceSettings, svc: Services) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shutdown: model warm-up, the housekeeping thread and (in process) the outbox worker."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        if settings.warm_models:
            threading.Thread(target=warm_models, name="warm-models", daemon=True).start()
        in_process = settings.job_queue is JobQueueKind.INPROCESS
        name = "housekeeping" if in_process else "liveness-sweep"
        threading.Thread(target=_housekeeping, args=(svc, stop, in_process), name=name, daemon=True).start()
        worker = OutboxWorker(svc) if settings.outbox_worker and in_process else None
        if worker is not None:
            worker.start()
        yield
        stop.set()
        if worker is not None:
            worker.stop(5.0)

    return lifespan


def _housekeeping(svc: Services, stop: threading.Event, in_process: bool) -> None:
    """Every 300 s until ``stop``: retention (in process only: with a job queue the workers run it) and
    this process's abandoned liveness sessions (always: they live in this process's memory)."""
    while not stop.wait(300):
        try:
            if in_process:
                sweep(svc)
            svc.runtime.drop_expired(svc.clock().timestamp())
        except Exception:  # keep the loop alive; the next round retries
            log.exception("housekeeping failed")


def _add_middleware(app: FastAPI, settings: ServiceSettings, svc: Services) -> None:
    """Body limits, per-route latency metrics and the security headers."""

    def body_limit(path: str) -> int:
        """Image uploads take the upload limits (checked again per route); other bodies JSON / form ones."""
        if UPLOAD_PATH.match(path):
            return max(settings.max_upload_bytes, settings.liveness_max_frame_bytes)
        return settings.max_body_bytes

    def error_app(scope: dict[str, Any], status: int, code: str, message: str, params: dict[str, int]) -> Response:
        return _error(Request(scope), status, code, message, params=params)

    app.add_middleware(BodyGuard, limit_for=body_limit, body_timeout_s=settings.body_timeout_s, error=error_app)
    svc.metrics.watch_store(svc.sessions)

    @app.middleware("http")
    async def request_metrics(request: Request, call_next: Any) -> Response:
        """Latency per route template (the raw path can carry tokens)."""
        t0 = time.perf_counter()
        response: Response = await call_next(request)
        elapsed = time.perf_counter() - t0
        svc.metrics.observe_request(request.method, route_label(request), response.status_code, elapsed)
        return response

    app.middleware("http")(_security_headers)


async def _security_headers(request: Request, call_next: Any) -> Response:
    """Pages and API answers are not framed, sniffed, cached or leaked through the Referer."""
    response: Response = await call_next(request)
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "no-referrer")  # status links carry the case token
    h.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    if not request.url.path.startswith(("/static", "/docs", "/redoc", "/openapi.json")):
        h.setdefault("Cache-Control", "no-store")
        h.setdefault("Content-Security-Policy", CSP)
    if request.url.scheme == "https":
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as the JSON error body or the readable page (:func:`_error`)."""
    handlers: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
        ServiceError: _service_error,
        console.LoginRequiredError: _login_required,
        TransitionError: _transition_error,
        CryptoError: _crypto_error,
        BlobStoreUnavailableError: _blob_store_unavailable,
        RequestValidationError: _validation_error,
        BodyRefusedError: _body_refused,
        StarletteHTTPException: _http_error,
    }
    for exc_type, handler in handlers.items():
        app.add_exception_handler(exc_type, handler)


async def _service_error(request: Request, exc: ServiceError) -> Response:
    return _error(request, exc.status, exc.code, exc.template, exc.retry_after_s, exc.params)


async def _login_required(request: Request, exc: console.LoginRequiredError) -> Response:
    if _wants_json(request):
        return _error(request, 401, exc.code, exc.message)
    return RedirectResponse("/review/login", status_code=303)


async def _transition_error(request: Request, exc: TransitionError) -> Response:
    return _error(request, 409, "invalid_transition", str(exc))


async def _crypto_error(request: Request, exc: CryptoError) -> Response:
    log.error("crypto error: %s", exc)
    return _error(request, 500, "storage_error", "stored data could not be decrypted")


async def _blob_store_unavailable(request: Request, exc: BlobStoreUnavailableError) -> Response:
    log.error("blob store unavailable: %s", exc)  # the request's transaction is rolled back: nothing kept
    return _error(request, 503, "storage_unavailable", "image storage is unavailable; try again shortly", 10)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    parts = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors()]
    return _error(request, 422, "invalid_request", "; ".join(parts) or "invalid request")


async def _body_refused(request: Request, exc: BodyRefusedError) -> Response:
    return _error(request, exc.status, exc.code, exc.message, params=exc.params)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    refused = refused_cause(exc)  # FastAPI turns an error met while parsing a body into a 400
    if refused is not None:
        return _error(request, refused.status, refused.code, refused.message)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return _error(request, exc.status_code, code, str(exc.detail))


def _add_probes(app: FastAPI, settings: ServiceSettings, svc: Services) -> None:
    """``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics`` (when enabled) and the privacy page."""

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness probe: the process answers (nothing else is checked)."""
        return {"status": "ok"}

    if settings.metrics:

        @app.get("/metrics", include_in_schema=False)
        def metrics() -> Response:
            """Prometheus exposition text (see :mod:`openidv.service.metrics`)."""
            body, content_type = svc.metrics.render()
            return Response(body, media_type=content_type)

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """Readiness probe: 200 when the database and the blob store answer, else 503 naming which does not."""
        checks = readiness(svc)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503)

    @app.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
    def privacy(request: Request) -> HTMLResponse:
        return web.render(
            request, "privacy.html", retention_days=settings.retention_days, version=settings.consent_version
        )
