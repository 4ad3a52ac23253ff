"""The liveness screen-light step in real Chromium: the page paints the colours the server issues,
one per frame, and a camera that plays a recorded video (Chromium's fake camera is exactly a video
injected as a camera) does not reflect them, so the case goes to the reviewer as not live.

The service runs with ``liveness_screen_light`` on (the product's default); the documents are
uploaded through the API with the seller's cookie (the document steps are covered by
``test_browser_flow``), the face step runs in the browser.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from openidv.liveness.session import INSTRUCTIONS, start_session
from openidv.liveness.types import Challenge
from openidv.service.settings import DecisionMode
from tests.e2e import camera
from tests.e2e.browser import CHROMIUM, launch
from tests.e2e.server import LiveServer, serve_service
from tests.e2e.test_browser_flow import (
    DOCUMENT_SEED,
    FACE_SEED,
    LEAD_S,
    STEP_TIMEOUT_MS,
    TAIL_S,
    VIEWPORT,
    Recorder,
    _answer,
    _attempts,
    _case_and_captures,
    _run_face_check,
    _wait_button,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's browser (apt-get install chromium)"
    ),
]

CHALLENGE_SEED = 13


@pytest.fixture(scope="module")
def light_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve_service(
        tmp_path_factory.mktemp("service-data"),
        challenge_seed=CHALLENGE_SEED,
        decision_mode=DecisionMode.MANUAL,
        liveness_screen_light=True,
    ) as server:
        yield server


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_page_paints_the_issued_colours_and_a_replayed_video_fails_the_screen_light(
    light_service: LiveServer, tmp_path: Path
) -> None:
    base = light_service.base_url
    rec = Recorder(tmp_path)
    photo = data.astronaut()
    # what the service will issue for the first attempt, drawn the way it draws them
    issued = start_session(now=0.0, rng=np.random.default_rng([CHALLENGE_SEED, 0]), screen_light=True)
    challenges = [s.challenge for s in issued.steps]
    assert challenges[0] is Challenge.SCREEN_LIGHT
    face_file = tmp_path / "face.y4m"
    doc = camera.licence(photo, DOCUMENT_SEED, date.today())
    assert doc.back is not None
    pool = ThreadPoolExecutor(max_workers=1)
    footage = pool.submit(
        lambda: camera.write_y4m(
            face_file,
            camera.face_footage(photo, challenges, np.random.default_rng(FACE_SEED), lead_s=LEAD_S, tail_s=TAIL_S),
            camera.FACE_FPS,
        )
    )
    pool.shutdown(wait=False)

    with sync_api.sync_playwright() as p:
        try:
            footage.result(timeout=STEP_TIMEOUT_MS / 1000)
            browser = launch(p, face_file)
            context = browser.new_context(viewport=VIEWPORT)
            page = rec.new_page(context)
            page.goto(base + "/")
            page.click("#start")
            page.wait_for_url("**/eligibility")
            _answer(page, us_resident="yes", adult="yes", document_type="drivers_license", method="online")
            page.wait_for_url("**/consent")
            page.check("#accept")
            page.click("#agree")
            page.wait_for_url("**/capture")
            case_id = str(page.evaluate("() => JSON.parse(document.getElementById('flow').textContent).case_id"))
            for step, jpeg in (("document_front", doc.front), ("document_back", doc.back)):
                r = page.request.post(
                    f"{base}/api/v1/cases/{case_id}/captures/{step}",
                    data=jpeg,
                    headers={"Content-Type": "image/jpeg"},
                )
                assert r.ok and r.json()["accepted"], (step, r.status, r.text())
            page.reload()
            _wait_button(page, "face-start")
            # people with photosensitivity are warned, and offered the video call, before it starts
            warning = page.locator("#light-warning")
            assert warning.is_visible() and page.locator("#light-warning #light-video-call").is_visible()
            outcome, instructions = _run_face_check(page, rec)
            painted = [str(c) for c in page.evaluate("() => window.__screenColours")]
            painted_at = [float(t) for t in page.evaluate("() => window.__screenColourAt")]
            assert outcome == "done", (
                f"liveness: {outcome}; attempts: {_attempts(light_service, case_id, 'liveness')}; "
                f"instructions: {instructions}; {rec.where()}"
            )
            assert any(t.lower().startswith(INSTRUCTIONS[Challenge.SCREEN_LIGHT]) for t in instructions), instructions
            # the page painted exactly the issued colours, in order, and put the page back afterwards
            assert painted == [_rgb(c) for c in issued.light_colours], (painted, issued.light_colours)
            assert page.locator("#screen-light").is_hidden()
            # at most two colour changes a second (WCAG 2.3.1 allows three flashes); 10 ms for timer jitter
            held_ms = [round(b - a) for a, b in itertools.pairwise(painted_at)]
            assert min(held_ms) >= 490, f"colours held {held_ms} ms"
            assert warning.is_hidden()
            _wait_button(page, "submit")
            page.click("#submit")
            page.wait_for_url("**/pending", timeout=STEP_TIMEOUT_MS)
            browser.close()
        except BaseException:
            rec.on_failure()
            raise

    case, _ = _case_and_captures(light_service, case_id)
    live = case.reports["liveness"]
    checks = {c["name"]: c for c in live["checks"]}
    light = next(c for name, c in checks.items() if name.startswith("screen_light"))
    # a recorded face does not light up with the page: the one failing check is the screen light
    assert light["status"] == "fail", light
    assert live["decision"] == "not_live", live["checks"]
    failing = sorted(name for name, c in checks.items() if c["status"] == "fail")
    assert failing == [light["name"]], failing
    assert case.recommendation.get("outcome") != "approve", case.recommendation
    print(f"\nscreen light: {light}\nrecommendation: {case.recommendation}\ncolours held (ms): {held_ms}")
