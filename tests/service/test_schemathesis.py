"""Schemathesis against /openapi.json: generated requests to every API operation never get a 5xx.

Bounded for ``make test``: 25 examples per operation (~300 requests, well under a minute on
2 cores). Requests carry a valid API key, so they reach the handlers behind authentication.
"""

from __future__ import annotations

import hashlib

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from openidv.service.app import create_app
from openidv.service.orm import ApiKey
from tests.service.conftest import make_settings

API_KEY = "oidv_schemathesis_key"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    app = create_app(make_settings(tmp_path_factory.mktemp("schemathesis")))
    with TestClient(app):  # runs the start-up once
        pass
    with app.state.services.sessions() as db:
        db.add(ApiKey(name="fuzz", prefix=API_KEY[:9], key_hash=hashlib.sha256(API_KEY.encode()).hexdigest()))
        db.commit()
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_api_never_answers_with_a_server_error(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8, [op.label for op in operations]
    auth = {"Authorization": f"Bearer {API_KEY}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=auth, checks=[not_a_server_error])

        no_server_error()
