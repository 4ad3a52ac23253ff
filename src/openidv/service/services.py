"""The container of everything the use cases need, built once per process.

:func:`openidv.service.app.create_app` builds one :class:`Services`; every use case in
``cases``, ``review``, ``notify`` and the adapters takes it as its first argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from openidv.decision.policy import DEFAULT_POLICY, PolicyConfig
from openidv.service import crypto
from openidv.service.blobstore import BlobBackend
from openidv.service.metrics import Metrics
from openidv.service.orm import utcnow
from openidv.service.runtime import Runtime
from openidv.service.settings import ServiceSettings
from openidv.service.throttle import Throttle


@dataclass
class Services:
    """Everything the use cases need, built once per process by :func:`openidv.service.app.create_app`."""

    settings: ServiceSettings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: crypto.KeyRing
    blobs: BlobBackend
    runtime: Runtime = field(default_factory=Runtime)
    throttle: Throttle = field(default_factory=Throttle)
    metrics: Metrics = field(default_factory=Metrics)
    policy: PolicyConfig = DEFAULT_POLICY
    clock: Callable[[], datetime] = utcnow  #: now, timezone-aware UTC
