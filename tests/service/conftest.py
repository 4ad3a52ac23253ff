"""Service fixtures: the app on SQLite (a temporary folder) and on a real PostgreSQL server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from openidv.service.app import create_app
from openidv.service.settings import ServiceSettings
from openidv.synth.forgery import SyntheticDocument, generate
from tests.service.pg import PostgresUnavailableError, postgres_server
from tests.service.seaweed import S3Server, SeaweedUnavailableError, seaweed_server

SEED = 5  #: challenge seed for the service under test (fixes the order; liveness still runs in full)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailableError as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""
        return
    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_url")
    name = f"t_{tmp_path.name.lower().replace('-', '_')[:40]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield base.rsplit("/", 1)[0] + "/" + name


def make_settings(tmp_path: Path, database_url: str = "", **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "environment": "development",
        "data_dir": tmp_path / "var",
        "database_url": database_url,
        "warm_models": False,
        "challenge_seed": SEED,
        "outbox_worker": False,
        # the tests send generated frames faster than a camera and open many cases from one address
        # (tests/service/test_limits.py checks each limit)
        "liveness_frame_rate": "1000/second",
        "rate_start": "1000/minute",
        "rate_login": "1000/minute",
        "rate_login_failures": "1000/minute",
        "rate_video_call": "1000/minute",
        "webhook_development": True,  # the webhook receivers of the tests listen on 127.0.0.1 over http
    }
    values.update(overrides)
    return ServiceSettings(**values)


@pytest.fixture
def client(tmp_path: Path, database: str) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path, database))
    with TestClient(app) as c:
        yield c
    app.state.services.engine.dispose()


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def licence(astronaut_portrait: np.ndarray) -> SyntheticDocument:
    """A genuine generated US licence (front + back photos) with the astronaut's portrait."""
    return generate("genuine", np.random.default_rng(21), [astronaut_portrait], date.today(), kind="us_dl")


@dataclass
class Applicant:
    """Drives the applicant's side of a case through the pages and the JSON API."""

    client: TestClient
    case_id: str = ""

    @property
    def api(self) -> str:
        return f"/api/v1/cases/{self.case_id}"

    def start(self, document_type: str = "drivers_license") -> None:
        c = self.client
        assert c.post("/start", follow_redirects=False).status_code == 303
        r = c.post(
            "/eligibility",
            data={
                "us_resident": "yes",
                "adult": "yes",
                "document_type": document_type,
                "method": "online",
                "email": "seller@example.com",
            },
            follow_redirects=False,
        )
        assert r.headers["location"] == "/consent", r.text
        version = re.search(r'name="version" value="([^"]+)"', c.get("/consent").text)
        assert version is not None
        r = c.post("/consent", data={"version": version.group(1), "accepted": "yes"}, follow_redirects=False)
        assert r.headers["location"] == "/capture"
        found = re.search(r'"case_id": "([0-9a-f]{32})"', c.get("/capture").text)
        assert found is not None
        self.case_id = found.group(1)

    def capture(self, step: str, data: bytes, content_type: str = "image/jpeg") -> Any:
        return self.client.post(f"{self.api}/captures/{step}", content=data, headers={"Content-Type": content_type})

    def liveness(
        self, photo: np.ndarray, seed: int = 2, *, lit: bool = True, screen_adds: float = 0.08
    ) -> dict[str, Any]:
        """A live person doing the issued challenges, closed loop: each frame is made under the screen
        colour the previous answer asked for (an ordinary room: the screen adds 8 % to the face's light).
        ``lit=False``: the same footage ignoring the colours, as a recorded or injected video would;
        ``screen_adds``: the screen's light on the face over the room's (0.01: a room in daylight)."""
        from openidv.imaging import encode_jpeg
        from openidv.liveness.types import Challenge
        from openidv.synth import liveness as synth

        start = self.client.post(f"{self.api}/liveness/start")
        assert start.status_code == 200, start.text
        room = synth.LightSetup(strength=screen_adds, d_face=0.3, d_background=1.5, lag=0, awb_tau_s=0.8)
        scene = synth.live_scene(
            photo, [Challenge(c) for c in start.json()["challenges"]], np.random.default_rng(seed), light=room
        )
        colour: str | None = None
        for i, ts in enumerate(scene.timestamps):
            r = self.client.post(
                f"{self.api}/liveness/frames",
                params={"ts": ts},
                content=encode_jpeg(scene.shoot(i, colour if lit else None), 85),
                headers={"Content-Type": "image/jpeg"},
            )
            assert r.status_code == 200, r.text
            colour = r.json()["screen_colour"]
            if r.json()["done"]:
                break
        finish = self.client.post(f"{self.api}/liveness/finish")
        assert finish.status_code == 200, finish.text
        return dict(finish.json())


@contextmanager
def overridden_settings(client: TestClient, **overrides: Any) -> Iterator[None]:
    """The running service's settings with ``overrides`` for the duration of the block."""
    svc = client.app.state.services  # type: ignore[attr-defined]
    before = svc.settings
    svc.settings = before.model_copy(update=overrides)
    try:
        yield
    finally:
        svc.settings = before


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    """A SeaweedFS S3 server for a test module (skipped, saying why, when it cannot start)."""
    try:
        with seaweed_server() as server:
            yield server
    except SeaweedUnavailableError as exc:
        pytest.skip(f"S3 tests skipped: SeaweedFS could not start: {exc}")
