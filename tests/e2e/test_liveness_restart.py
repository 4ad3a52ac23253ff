"""The capture page when its liveness session is lost (the web process that held it died).

The service answers the next frame 409 ``liveness_session_lost``; the page must say so and start
the face step again by itself, on the same attempt. Chromium's own test pattern is the camera:
the session only has to run, not to pass (``test_browser_flow`` passes it with a face).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from skimage import data
from sqlalchemy import select

from openidv.service.deps import CASE_COOKIE
from openidv.service.orm import Capture
from tests.e2e import camera
from tests.e2e.browser import CHROMIUM, launch
from tests.e2e.server import LiveServer, serve_service

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's browser (apt-get install chromium)"
    ),
]
TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve_service(tmp_path_factory.mktemp("service-data"), liveness_screen_light=False) as server:
        yield server


def _case_at_liveness(base: str) -> tuple[str, str]:
    """A case whose documents are accepted (through the pages and the API); returns (case id, token)."""
    with httpx.Client(base_url=base, timeout=120.0) as c:
        c.post("/start")
        answers = {"us_resident": "yes", "adult": "yes", "document_type": "drivers_license", "method": "online"}
        c.post("/eligibility", data=answers)
        version = c.get("/consent").text.split('name="version" value="', 1)[1].split('"', 1)[0]
        c.post("/consent", data={"version": version, "accepted": "yes"})
        case_id = c.get("/capture").text.split('"case_id": "', 1)[1].split('"', 1)[0]
        doc = camera.licence(data.astronaut(), 24, date.today())
        assert doc.back is not None
        api, jpeg = f"/api/v1/cases/{case_id}", {"Content-Type": "image/jpeg"}
        for step, image in (("document_front", doc.front), ("document_back", doc.back)):
            r = c.post(f"{api}/captures/{step}", content=image, headers=jpeg)
            assert r.json()["accepted"], r.text
        return case_id, str(c.cookies[CASE_COOKIE])


def _wait(page: sync_api.Page, condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` while the page runs (Playwright delivers its events inside its own calls)."""
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


def test_the_page_restarts_the_face_step_when_its_session_is_lost(service: LiveServer, tmp_path: Path) -> None:
    case_id, token = _case_at_liveness(service.base_url)
    starts: list[int] = []
    frames: list[int] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p, None)
        context = browser.new_context()
        context.add_cookies([{"name": CASE_COOKIE, "value": token, "url": service.base_url}])
        page = context.new_page()

        def seen(response: sync_api.Response) -> None:
            if response.url.endswith("/liveness/start"):
                starts.append(response.status)
            elif "/liveness/frames" in response.url:
                frames.append(response.status)

        page.on("response", seen)
        page.goto(service.base_url + "/capture")
        page.wait_for_selector("#face-start", state="visible", timeout=TIMEOUT_S * 1000)
        page.click("#face-start")
        _wait(page, lambda: len(frames) >= 3, "the first frames")
        service.app.state.services.runtime.end_liveness(case_id)  # as if its process had died
        _wait(page, lambda: 409 in frames, "a frame answered 409")
        page.wait_for_function(
            "() => document.getElementById('feedback').textContent.includes('interrupted')", timeout=TIMEOUT_S * 1000
        )
        _wait(page, lambda: len(starts) >= 2, "the page starting the face step again")
        _wait(page, lambda: frames[-1] == 200 and frames.count(200) > frames.index(409), "frames to the new session")
        browser.close()
    assert starts[:2] == [200, 200], starts
    with service.app.state.services.sessions() as db:
        attempts = db.scalars(select(Capture.attempt).where(Capture.case_id == case_id, Capture.step == "liveness"))
        assert list(attempts) == [1]  # the interrupted attempt was taken over, not counted again
