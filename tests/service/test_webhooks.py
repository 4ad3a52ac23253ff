"""Webhook egress: public https addresses only, checked at registration and when connecting;
the delivery log keeps status and size, never the receiver's body (issue 19 item 10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from openidv.service import notify
from openidv.service.app import build_services
from openidv.service.cases import Services
from openidv.service.errors import UnprocessableError
from openidv.service.orm import ApiKey, Delivery, OutboxMessage
from tests.service.conftest import make_settings
from tests.service.test_notify import T0, Receiver, _api_key, _decide, _deliveries

INTERNAL = [
    "https://127.0.0.1/hook",
    "https://localhost:8443/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://172.16.5.4/hook",
    "https://100.64.0.1/hook",  # shared (carrier-grade NAT)
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # loopback written as IPv4-mapped IPv6
    "https://0.0.0.0/hook",
]


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Services]:
    s = build_services(make_settings(tmp_path, webhook_development=False, outbox_backoff_s=5.0))
    yield s
    s.engine.dispose()


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_at_registration(production: Services, url: str) -> None:
    with pytest.raises(UnprocessableError) as refused:
        _api_key(production, "market", url)
    assert refused.value.code == "bad_webhook_url" and "not a public address" in refused.value.message


def test_https_is_required_outside_development(production: Services) -> None:
    with pytest.raises(UnprocessableError, match="https"):
        _api_key(production, "market", "http://93.184.216.34/hook")
    assert _api_key(production, "market", "https://93.184.216.34/hook") is not None  # a public address


def test_the_address_is_checked_again_when_connecting(production: Services, receiver: Receiver) -> None:
    assert _api_key(production, "market", "https://93.184.216.34/hook") is not None
    with production.sessions() as db:  # the registered name now points inside (as DNS rebinding would)
        key = db.scalar(select(ApiKey).where(ApiKey.name == "market"))
        assert key is not None
        key.webhook_url = receiver.url.replace("http://", "https://")
        db.commit()
    _, (mid,) = _decide(production, channel="api:market", email_to=None)
    assert notify.deliver_due(production, now=T0) == 0
    (attempt,) = _deliveries(production, mid)
    assert not attempt.ok and attempt.detail.startswith("refused") and "127.0.0.1" in attempt.detail
    assert receiver.requests == []  # nothing was sent inside


def test_the_delivery_log_keeps_status_and_size_not_the_body(tmp_path: Path, receiver: Receiver) -> None:
    svc = build_services(make_settings(tmp_path, webhook_development=True, outbox_backoff_s=5.0))
    assert _api_key(svc, "market", receiver.url) is not None
    receiver.statuses = [500]
    _, (mid,) = _decide(svc, channel="api:market", email_to=None)
    assert notify.deliver_due(svc, now=T0) == 0
    (attempt,) = _deliveries(svc, mid)
    assert attempt.detail == "HTTP 500, 18 bytes"
    with svc.sessions() as db:
        stored = repr([(d.detail,) for d in db.scalars(select(Delivery))])
        stored += repr([(m.last_error, m.payload) for m in db.scalars(select(OutboxMessage))])
    assert "temporarily broken" not in stored  # the receiver's answer text is neither stored nor shown
    svc.engine.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
