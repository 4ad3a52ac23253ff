"""Service settings from ``OPENIDV_*`` environment variables (pydantic-settings).

Paths are resolved against the working directory. Sizes are bytes, durations seconds
unless the name says otherwise.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from openidv.imaging import DEFAULT_MAX_PIXELS
from openidv.service.throttle import parse_rate


class DecisionMode(StrEnum):
    MANUAL = "manual"  #: every case goes to a reviewer; the system's recommendation is recorded, not shown
    SHADOW = "shadow"  #: as manual, plus the agreement report
    AUTO = "auto"  #: confident decisions are applied at once; the grey zone goes to review


class BlobBackendKind(StrEnum):
    """Where encrypted images are kept."""

    FOLDER = "folder"  #: ``<data_dir>/blobs`` on this machine (the default; one host only)
    S3 = "s3"  #: an S3 bucket (``s3_*`` settings); shared by every web process and worker


class JobQueueKind(StrEnum):
    """Where post-submit analysis, outbox delivery and housekeeping run."""

    INPROCESS = "inprocess"  #: in the web process (analysis inside the submit request; threads): one process
    PROCRASTINATE = "procrastinate"  #: jobs in PostgreSQL (procrastinate), run by ``openidv worker`` processes


class LogFormat(StrEnum):
    TEXT = "text"  #: ``time level logger: message`` lines (the default)
    JSON = "json"  #: one JSON object a line (``ts``, ``level``, ``logger``, ``message``, job fields); no personal data


class Environment(StrEnum):
    """Where the service runs. Only ``development`` (which ``make run`` sets) may start without a key file."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENIDV_", extra="ignore")

    #: ``development`` allows a generated master key next to the data; anything else needs ``key_file``
    environment: Environment = Environment.PRODUCTION
    #: folder for the embedded database, encrypted blobs and the development key (created 0700)
    data_dir: Path = Path("var")
    #: SQLAlchemy URL; empty means SQLite in ``data_dir``. PostgreSQL: ``postgresql+psycopg://user:pw@host/db``
    database_url: str = ""
    #: blob store: ``folder`` (default) or ``s3`` (then ``s3_bucket`` is required)
    blob_backend: BlobBackendKind = BlobBackendKind.FOLDER
    #: S3 bucket for the encrypted images (it must exist); objects are ``<s3_prefix><case_id>/<blob_id>.bin``
    s3_bucket: str = ""
    #: key prefix inside the bucket (e.g. ``openidv/``), empty: the bucket's root
    s3_prefix: str = ""
    #: S3 API endpoint (``https://s3.example.net``; SeaweedFS, MinIO, Ceph); empty: AWS's endpoint for the region
    s3_endpoint_url: str = ""
    #: S3 region (signatures; AWS picks the endpoint from it)
    s3_region: str = "us-east-1"
    #: S3 credentials; both empty: boto3's own chain (AWS_* variables, ~/.aws, an instance role)
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    #: seconds to connect to / wait for the S3 endpoint per attempt
    s3_timeout_s: float = Field(10.0, gt=0)
    #: attempts per S3 call (boto3's standard retry mode: throttling, 5xx and connection errors are retried)
    s3_max_attempts: int = Field(3, ge=1)
    #: master key file (lines ``key_id:base64(32 bytes)``; the last line is the current key; make one with
    #: ``openidv keys generate FILE``). Required outside development; in development, empty means a key
    #: generated in ``data_dir`` with a loud warning.
    key_file: Path | None = None
    #: largest accepted upload (one image or liveness frame), bytes
    max_upload_bytes: int = Field(8 * 1024 * 1024, gt=0)
    #: largest accepted image, pixels (width x height); decompression bombs are refused before decoding
    max_image_pixels: int = Field(DEFAULT_MAX_PIXELS, gt=0)
    #: let applicants upload files instead of using the live camera (off: live capture only, enforced by the
    #: server: PNGs, JPEGs with Exif/XMP/Photoshop metadata and photos sent with an API key get 422)
    allow_file_upload: bool = False
    #: serve the interactive API docs (/docs, /redoc), whose scripts come from a CDN: development only
    api_docs: bool = False
    #: capture attempts per step before the case offers the video call
    max_attempts: int = Field(3, ge=1)
    #: a case not submitted within this many seconds expires
    case_ttl_s: int = Field(2 * 3600, gt=0)
    #: liveness session lifetime, seconds
    liveness_ttl_s: float = Field(120.0, gt=0)
    #: the liveness step starts by filling the screen with random colours that a live face reflects and a
    #: replayed or injected video does not (active illumination); off only where no screen lights the face
    liveness_screen_light: bool = True
    #: seed fixing the challenge order (tests only; liveness still runs in full). None: OS randomness
    challenge_seed: int | None = None
    #: images, the case's key and its personal fields are deleted this many days after the final decision
    retention_days: int = Field(30, ge=1)
    #: ... and this many days after the last change of a case still open (in review, escalated, waiting for
    #: a video call or a resubmission): it then expires and is purged
    open_case_retention_days: int = Field(30, ge=1)
    #: version of the biometric notice the applicant consents to
    consent_version: str = "2026-11-29"
    #: face-match operating point for the submit step
    face_operating_point: str = "1e-3"
    #: selfie gate, pixels between the eye centres: below it the face match refuses the selfie (face_too_small,
    #: the case goes to review) and the liveness page already tells the applicant to move closer
    face_selfie_min_iod_px: float = Field(30.0, gt=0)
    #: decision mode (see DecisionMode)
    decision_mode: DecisionMode = DecisionMode.MANUAL
    # --- request limits and rate limits
    #: largest JSON or form body, bytes (image uploads have their own limits above and below); larger: 413
    max_body_bytes: int = Field(64 * 1024, gt=0)
    #: a request's line and headers must arrive within this many seconds of the connection opening (or of
    #: the previous answer on it); slower: 408 and the connection is closed
    header_timeout_s: float = Field(10.0, gt=0)
    #: a request's body must arrive within this many seconds of its headers (8 MB at 1 Mbit/s: 64 s); slower: 408
    body_timeout_s: float = Field(90.0, gt=0)
    #: rate limits in the ``limits`` notation ("10/minute", "5 per 10 seconds"); past one: 429 + Retry-After.
    #: Verifications opened with ``POST /start``, per client address
    rate_start: str = "10/minute"
    #: cases created through the API, per API key
    rate_create_case: str = "120/minute"
    #: reviewer login attempts, per client address
    rate_login: str = "10/minute"
    #: failed reviewer logins per client address; past it the address waits until the oldest leaves the window
    rate_login_failures: str = "10 per 15 minutes"
    #: video-call requests and bookings, per client address
    rate_video_call: str = "5/hour"

    # --- liveness resource limits (frames are held in memory until the session finishes)
    #: largest liveness frame, bytes (the capture page sends 640 px JPEGs of ~30-80 kB); larger: 413
    liveness_max_frame_bytes: int = Field(400 * 1024, gt=0)
    #: largest liveness frame, pixels (width x height, read from the header before decoding); larger: 413
    liveness_max_frame_pixels: int = Field(1280 * 960, gt=0)
    #: liveness frames accepted per case (the capture page sends ~11 a second); faster: 429
    liveness_frame_rate: str = "15/second"
    #: frames accepted per liveness session; more: 429
    liveness_max_frames: int = Field(600, gt=0)
    #: frame bytes one session may hold (JPEGs stripped of padding, ~40 kB each at 640 x 480); more: 413
    liveness_session_bytes: int = Field(32 * 1024 * 1024, gt=0)
    #: memory all open liveness sessions share, bytes: each reserves ``liveness_session_bytes`` plus its
    #: face tracker and pinned frames (~40 MB) when it starts; one that does not fit gets 503 + Retry-After
    liveness_memory_budget: int = Field(512 * 1024 * 1024, gt=0)
    #: liveness frames kept (encrypted) for reviewers, besides the selfie
    keep_liveness_frames: int = Field(6, ge=0)
    #: load the models at start-up (in the background) so the first applicant does not wait
    warm_models: bool = True

    #: after a reviewer asks for a step again, the seller has this long to redo it, seconds
    resubmission_ttl_s: int = Field(7 * 86400, gt=0)

    # --- review console
    #: a submitted case should be decided within this many hours
    review_deadline_h: float = Field(72.0, gt=0)
    #: hide the system's recommendation from reviewers until they have decided (blind review: the
    #: agreement report then measures two independent judgements, not a reviewer anchored on the system)
    blind_review: bool = False
    #: reviewer login sessions last this long, seconds
    login_ttl_s: int = Field(8 * 3600, gt=0)
    #: failed logins in a row that lock an account, and for how long (seconds)
    lockout_failures: int = Field(5, ge=1)
    lockout_s: int = Field(15 * 60, gt=0)

    # --- notifications (outbox worker)
    #: SMTP server for the seller's decision emails; empty host: emails stay in the outbox as undeliverable
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    #: PEM file of the certificate authorities trusted for the SMTP server (a private CA); empty: the system's
    smtp_ca_file: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "verification@openidv.invalid"
    #: public address of the service, used in links in emails
    public_url: str = "http://127.0.0.1:8000"
    #: delivery attempts before a message is given up (status "dead")
    outbox_max_attempts: int = Field(8, ge=1)
    #: first retry delay, seconds; doubles each attempt (capped at one hour)
    outbox_backoff_s: float = Field(5.0, gt=0)
    #: how often the worker looks for due messages, seconds
    outbox_poll_s: float = Field(2.0, gt=0)
    #: development and tests only: webhooks may use http:// and reach loopback or private addresses
    webhook_development: bool = False
    #: run the outbox worker inside the service process (``job_queue=inprocess`` only: with the queue, the workers)
    outbox_worker: bool = True
    # --- job queue and workers (docs/deploy.md)
    #: ``inprocess`` (default: analysis at submit, outbox and housekeeping threads in the web process) or
    #: ``procrastinate`` (a PostgreSQL ``database_url`` is required: submit enqueues the analysis and
    #: ``openidv worker`` processes run it, the outbox and the retention sweep; web processes run none of them)
    job_queue: JobQueueKind = JobQueueKind.INPROCESS
    #: seconds between a worker's heartbeats in the queue's ``procrastinate_workers`` table
    worker_heartbeat_s: float = Field(10.0, gt=0)
    #: a worker whose last heartbeat is older than this many seconds is dead: its running jobs are retried
    worker_stalled_s: float = Field(30.0, gt=0)
    #: how often a worker looks for the jobs of dead workers, seconds (1-59)
    worker_recovery_s: int = Field(10, ge=1, le=59)
    #: tests only: the analysis job waits this many seconds after taking its case (to kill a worker mid-job)
    analysis_test_delay_s: float = Field(0.0, ge=0)
    #: log lines of ``serve`` and ``worker``: ``text`` or ``json`` (neither carries personal data or tokens)
    log_format: LogFormat = LogFormat.TEXT
    #: serve Prometheus metrics at /metrics (route templates, engine stage times, cases by state, outbox
    #: backlog; no personal data). Let only the scraper reach it (at the proxy)
    metrics: bool = True

    @field_validator(
        "rate_start", "rate_create_case", "rate_login", "rate_login_failures", "rate_video_call", "liveness_frame_rate"
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)  # ValueError names the text and the notation
        return value

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> ServiceSettings:
        """An SMTP login needs STARTTLS, except to a server on this machine."""
        if self.smtp_user and not self.smtp_starttls and self.smtp_host not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError("OPENIDV_SMTP_USER needs OPENIDV_SMTP_STARTTLS=true: the password would cross the network")
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> ServiceSettings:
        if self.blob_backend is BlobBackendKind.S3 and not self.s3_bucket:
            raise ValueError("OPENIDV_BLOB_BACKEND=s3 needs OPENIDV_S3_BUCKET")
        return self

    @model_validator(mode="after")
    def _queue_needs_postgresql(self) -> ServiceSettings:
        if self.job_queue is JobQueueKind.PROCRASTINATE and not self.database_url.startswith("postgresql"):
            raise ValueError("OPENIDV_JOB_QUEUE=procrastinate needs a PostgreSQL OPENIDV_DATABASE_URL")
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'openidv.db').resolve()}"
