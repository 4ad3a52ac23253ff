"""Issue 5 end to end: a seller walks the web flow in real headless Chromium with a fake camera.

The camera steps and the submit are activated from the keyboard (Enter on the focused button).
The service runs in-process (uvicorn in a thread, SQLite in a temporary folder) with
every check on: document analysis, liveness and face matching run as for a real seller.
The test-specific settings: ``challenge_seed`` fixes the order of the liveness challenges
so that the camera footage can be made beforehand, and the screen-light step is off: a
camera file cannot reflect the page's colours (it is the video injection that step stops;
``test_screen_light`` shows that).

Chromium plays one Y4M file in a loop as its camera, so each camera step gets its own
browser launch with its own file (front of the licence, back, face), the case cookie
carried across with ``storage_state``; the capture page resumes at the first unfinished
step. Screenshots of every step are written to the test's ``tmp_path`` (kept by pytest
under its base temp folder; ``--basetemp DIR`` puts them somewhere known).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from skimage import data
from sqlalchemy import select

from openidv.liveness.session import INSTRUCTIONS, start_session
from openidv.liveness.types import Challenge
from openidv.service import cases
from openidv.service.deps import CASE_COOKIE
from openidv.service.orm import Capture, Case, VideoCallRequest
from openidv.service.settings import DecisionMode
from tests.e2e import camera
from tests.e2e.browser import CHROMIUM, RECORDER, launch
from tests.e2e.server import LiveServer, serve_service

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, StorageState, ViewportSize

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's browser (apt-get install chromium)"
    ),
]

CHALLENGE_SEED = 9  #: service setting; the first liveness attempt draws from default_rng([9, 0])
DOCUMENT_SEED = 24  #: the generated licence (person, layout, camera)
FACE_SEED = 5  #: the face footage (placement, sway, noise)
LEAD_S = 2.0  #: neutral footage before the first action: the camera starts when the page opens it
TAIL_S = 2.5  #: and after the last one, so that the file does not loop during the session
STEP_TIMEOUT_MS = 120_000
UI_TIMEOUT_MS = 30_000
VIEWPORT: ViewportSize = {"width": 900, "height": 1100}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve_service(
        tmp_path_factory.mktemp("service-data"),
        challenge_seed=CHALLENGE_SEED,
        decision_mode=DecisionMode.MANUAL,
        allow_file_upload=False,
        liveness_screen_light=False,
    ) as server:
        yield server


class Recorder:
    """Numbered screenshots, and what the browser logged, for assertion messages."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.n = 0
        self.log: list[str] = []
        self.page: Page | None = None

    def new_page(self, context: BrowserContext) -> Page:
        """A page of ``context`` with the recorder script and logging attached."""
        context.add_init_script(RECORDER)
        page = context.new_page()
        page.on("console", lambda m: self.log.append(f"console.{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.log.append(f"page error: {e}"))
        page.on("response", lambda r: self.log.append(f"HTTP {r.status} {r.request.method} {r.url}"))
        self.page = page
        return page

    def shot(self, page: Page, name: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def on_failure(self) -> None:
        """Screenshot the current page (if any) and print the browser log (pytest shows it on failure)."""
        if self.page is not None and not self.page.is_closed():
            try:
                print(f"failure screenshot: {self.shot(self.page, 'failure')} at {self.page.url}")
            except sync_api.Error as exc:  # the browser may be gone; keep the original failure
                print(f"no failure screenshot: {exc}")
        print("browser log (last 40):", *self.log[-40:], sep="\n  ")

    def where(self) -> str:
        return f"screenshots in {self.folder}"


def _case_and_captures(server: LiveServer, case_id: str) -> tuple[Case, list[Capture]]:
    with server.app.state.services.sessions() as db:
        case = db.scalars(select(Case).where(Case.id == case_id)).one()
        captures = list(db.scalars(select(Capture).where(Capture.case_id == case_id).order_by(Capture.id)))
        db.expunge_all()
    return case, captures


def _attempts(server: LiveServer, case_id: str, step: str) -> list[tuple[bool, list[Any]]]:
    _, captures = _case_and_captures(server, case_id)
    return [(c.accepted, c.reasons) for c in captures if c.step == step]


_STEP_OUTCOME = """(step) => {
    const li = document.querySelector(`#steps li[data-step="${step}"]`);
    const fb = document.getElementById("feedback");
    if (li && li.dataset.done === "true") return "done";
    if (fb.classList.contains("bad") && fb.textContent.trim()) return "refused: " + fb.textContent.trim();
    return "";
}"""


def _wait_step(page: Page, step: str) -> str:
    """'done' when the step list marks ``step`` done, else the refusal the page shows."""
    return str(page.wait_for_function(_STEP_OUTCOME, arg=step, timeout=STEP_TIMEOUT_MS).json_value())


def _wait_button(page: Page, button_id: str) -> None:
    """Wait until ``#button_id`` is shown and enabled (the camera is open, or the step is ready)."""
    page.wait_for_function(
        "(id) => { const b = document.getElementById(id); return !!b && !b.hidden && !b.disabled; }",
        arg=button_id,
        timeout=UI_TIMEOUT_MS,
    )
    assert page.locator(f"#{button_id}").is_visible(), f"#{button_id} is not hidden but cannot be seen"


def _press(page: Page, button_id: str) -> None:
    """Activate a capture control the way a keyboard user does: focus it, press Enter (Tab reaching
    each control is ``test_accessibility``'s part)."""
    page.focus(f"#{button_id}")
    page.keyboard.press("Enter")


def _only_visible_button(page: Page, button_id: str) -> None:
    """The seller sees one action button at a time."""
    visible = [b for b in ("shoot", "face-start", "submit") if page.locator(f"#{b}").is_visible()]
    assert visible == [button_id], f"visible buttons: {visible}"


def _open_capture(browser: Browser, state: StorageState, base: str, rec: Recorder) -> tuple[BrowserContext, Page]:
    """A fresh browser's page on /capture, with the seller's cookie."""
    context = browser.new_context(storage_state=state, viewport=VIEWPORT)  # type: ignore[arg-type]
    page = rec.new_page(context)
    page.goto(base + "/capture")
    return context, page


def _shoot_document(page: Page, step: str, server: LiveServer, case_id: str, rec: Recorder) -> None:
    page.wait_for_function("(s) => document.body.dataset.step === s", arg=step, timeout=UI_TIMEOUT_MS)
    _wait_button(page, "shoot")
    _only_visible_button(page, "shoot")
    assert page.get_attribute("#guide", "class") == "guide card"
    size = page.evaluate(
        "() => [document.getElementById('video').videoWidth, document.getElementById('video').videoHeight]"
    )
    assert size == [1280, 960], f"the camera delivers {size}; the file is 1280x960"
    rec.shot(page, f"{step}-framed")
    _press(page, "shoot")
    outcome = _wait_step(page, step)
    rec.shot(page, f"{step}-{'accepted' if outcome == 'done' else 'refused'}")
    assert outcome == "done", (
        f"{step}: {outcome}; attempts (accepted, reasons): {_attempts(server, case_id, step)}; {rec.where()}"
    )


def _run_face_check(page: Page, rec: Recorder) -> tuple[str, list[str]]:
    """Run the face check; returns the outcome and the instructions the page showed, in order."""
    _press(page, "face-start")
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    seen: set[str] = set()
    outcome = ""
    while not outcome and time.monotonic() < deadline:
        text = str(page.text_content("#instruction") or "").split(" · ")[0]
        if text not in seen and len(seen) < 8:  # a screenshot of each new instruction
            seen.add(text)
            rec.shot(page, f"face-{len(seen)}")
        page.wait_for_timeout(200)
        outcome = str(page.evaluate(_STEP_OUTCOME, "liveness"))
    rec.shot(page, "face-" + ("accepted" if outcome == "done" else "refused"))
    return outcome or "timed out", [str(t) for t in page.evaluate("() => window.__instructions")]


def _write_face_file(path: Path, photo: np.ndarray, challenges: list[Challenge]) -> int:
    footage = camera.face_footage(photo, challenges, np.random.default_rng(FACE_SEED), lead_s=LEAD_S, tail_s=TAIL_S)
    return camera.write_y4m(path, footage, camera.FACE_FPS)


def test_seller_walks_the_whole_flow_in_chromium(service: LiveServer, tmp_path: Path) -> None:
    t_start = time.perf_counter()
    base = service.base_url
    rec = Recorder(tmp_path)
    photo = data.astronaut()

    # camera content: the licence (front, back), and the seller's face doing the challenges the
    # service will draw for the first attempt (computed the way the service draws them); the face
    # footage is rendered in the background while the document steps run
    doc = camera.licence(photo, DOCUMENT_SEED, date.today())
    assert doc.back is not None
    front_file, back_file, face_file = tmp_path / "front.y4m", tmp_path / "back.y4m", tmp_path / "face.y4m"
    camera.write_document(front_file, doc.front)
    camera.write_document(back_file, doc.back)
    challenges = [s.challenge for s in start_session(now=0.0, rng=np.random.default_rng([CHALLENGE_SEED, 0])).steps]
    pool = ThreadPoolExecutor(max_workers=1)
    face_job = pool.submit(_write_face_file, face_file, photo, challenges)
    pool.shutdown(wait=False)

    with sync_api.sync_playwright() as p:
        try:
            # the forms, then the front of the licence
            browser = launch(p, front_file)
            context = browser.new_context(viewport=VIEWPORT)
            page = rec.new_page(context)
            page.goto(base + "/")
            rec.shot(page, "home")
            page.click("#start")
            page.wait_for_url("**/eligibility")
            for name, value in (
                ("us_resident", "yes"),
                ("adult", "yes"),
                ("document_type", "drivers_license"),
                ("method", "online"),
            ):
                page.check(f"input[name={name}][value={value}]")
            page.fill("#email", "seller@example.com")
            rec.shot(page, "eligibility")
            page.click("#continue")
            page.wait_for_url("**/consent")
            page.check("#accept")
            rec.shot(page, "consent")
            page.click("#agree")
            page.wait_for_url("**/capture")
            case_id = str(page.evaluate("() => JSON.parse(document.getElementById('flow').textContent).case_id"))
            _shoot_document(page, "document_front", service, case_id, rec)
            state = context.storage_state()
            browser.close()

            # the back, in a new browser whose camera shows the back
            browser = launch(p, back_file)
            context, page = _open_capture(browser, state, base, rec)
            _shoot_document(page, "document_back", service, case_id, rec)
            state = context.storage_state()
            browser.close()

            # the face check, started as soon as the button appears (the footage is already playing)
            t_wait = time.perf_counter()
            n_face = face_job.result(timeout=STEP_TIMEOUT_MS / 1000)
            t_wait = time.perf_counter() - t_wait
            browser = launch(p, face_file)
            context, page = _open_capture(browser, state, base, rec)
            _wait_button(page, "face-start")
            _only_visible_button(page, "face-start")
            assert page.get_attribute("#guide", "class") == "guide face"
            transform = page.evaluate("() => document.getElementById('video').style.transform")
            assert transform == "scaleX(-1)", "the selfie preview should be mirrored"
            t_face = time.perf_counter()
            outcome, instructions = _run_face_check(page, rec)
            t_face = time.perf_counter() - t_face
            lag_s = float(page.evaluate("() => (window.__challengesAt - window.__cameraAt) / 1000"))
            shown = page.evaluate("() => document.body.dataset.challenges")
            assert shown == ",".join(c.value for c in challenges), f"the page got {shown}, expected {challenges}"
            assert outcome == "done", (
                f"liveness: {outcome}; attempts (accepted, reasons): {_attempts(service, case_id, 'liveness')}; "
                f"instructions shown: {instructions}; {rec.where()}"
            )
            # every challenge was shown to the seller, in the issued order
            lowered = [t.lower() for t in instructions]
            at = [next((i for i, t in enumerate(lowered) if t.startswith(INSTRUCTIONS[c])), -1) for c in challenges]
            assert -1 not in at and at == sorted(at), f"instructions shown: {instructions}"

            # submit -> pending
            _wait_button(page, "submit")
            _only_visible_button(page, "submit")
            rec.shot(page, "ready-to-submit")
            _press(page, "submit")
            page.wait_for_url("**/pending", timeout=STEP_TIMEOUT_MS)
            heading = page.locator("h1#status-heading")
            assert heading.get_attribute("data-status") == "pending"
            assert heading.inner_text().strip() == "Pending verification"
            rec.shot(page, "pending")
            browser.close()
        except BaseException:
            rec.on_failure()
            raise

    case, captures = _case_and_captures(service, case_id)
    assert case.state == "in_review"
    assert {"document", "liveness", "face_match"} <= set(case.reports), sorted(case.reports)
    # a genuine licence, a live face and the same person, captured cleanly: nothing for a reviewer to look at
    assert case.recommendation.get("outcome") == "approve", case.recommendation.get("reasons")
    face_match = case.reports["face_match"]
    assert face_match["same_person"] is True, face_match
    assert case.reports["liveness"]["decision"] == "live", case.reports["liveness"]["checks"]
    assert [(c.step, c.accepted) for c in captures] == [
        ("document_front", True),
        ("document_back", True),
        ("liveness", True),
    ]
    replay = next(c for c in case.reports["liveness"]["checks"] if c["name"] == "injection_replay")
    print(
        f"\n{case.reports['liveness']['n_frames']} liveness frames at {replay.get('data', {}).get('fps', 0):.1f} fps; "
        f"waited {t_wait:.1f} s for the face footage ({n_face} frames), face step {t_face:.1f} s, "
        f"challenges issued {lag_s:.2f} s after the camera opened (lead-in {LEAD_S} s), "
        f"total {time.perf_counter() - t_start:.1f} s; document {case.reports['document'].get('status')}, "
        f"liveness {case.reports['liveness']['decision']}, face distance {face_match.get('distance')}, "
        f"recommendation {case.recommendation.get('outcome')} {case.recommendation.get('reasons')}"
    )


def _case_token(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == CASE_COOKIE)


def _answer(page: Page, email: str = "seller@example.com", **answers: str) -> None:
    """Tick the eligibility page's ``answers`` (input name -> value), give ``email`` and continue."""
    for name, value in answers.items():
        page.check(f"input[name={name}][value={value}]")
    page.fill("#email", email)
    page.click("#continue")


def test_eligibility_refuses_non_residents_and_video_call_needs_no_camera(service: LiveServer, tmp_path: Path) -> None:
    rec = Recorder(tmp_path)
    base = service.base_url
    with sync_api.sync_playwright() as p:
        browser = launch(p, None)
        try:
            # a seller living abroad is refused with a readable reason, and offered the video call
            context = browser.new_context(viewport=VIEWPORT)
            page = rec.new_page(context)
            page.goto(base + "/")
            page.click("#start")
            page.wait_for_url("**/eligibility")
            _answer(page, us_resident="no", adult="yes", document_type="drivers_license", method="online")
            error = page.locator("p.error[role=alert]")
            error.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
            rec.shot(page, "refused-non-resident")
            assert error.get_attribute("data-code") == "not_us_resident"
            assert "US residents only" in error.inner_text()
            assert page.url.endswith("/eligibility")
            page.click("#video-call")
            page.wait_for_url("**/video-call")
            assert page.locator("#video-call-heading").inner_text() == "Verify in a video call"
            assert "We have your request" in page.inner_text("main")
            rec.shot(page, "video-call-after-refusal")
            assert page.evaluate("() => window.__cameraCalls") == 0
            assert page.locator("video").count() == 0
            tokens = [_case_token(context)]
            context.close()

            # a US resident who prefers a person: straight to the video-call page, no camera
            context = browser.new_context(viewport=VIEWPORT)
            page = rec.new_page(context)
            page.goto(base + "/")
            page.click("#start")
            page.wait_for_url("**/eligibility")
            _answer(page, us_resident="yes", adult="yes", document_type="passport", method="video_call")
            page.wait_for_url("**/video-call")
            rec.shot(page, "video-call-chosen")
            assert "We have your request" in page.inner_text("main")
            assert page.evaluate("() => window.__cameraCalls") == 0
            assert page.locator("video").count() == 0
            # the status page says pending, without a camera either
            page.click("a[href^='/status/']")
            assert page.locator("h1#status-heading").get_attribute("data-status") == "pending"
            assert page.evaluate("() => window.__cameraCalls") == 0
            tokens.append(_case_token(context))
            context.close()
        except BaseException:
            rec.on_failure()
            raise
        finally:
            browser.close()

    with service.app.state.services.sessions() as db:
        requests = []
        for token in tokens:
            case = cases.case_by_token(db, token)
            call = db.scalars(select(VideoCallRequest).where(VideoCallRequest.case_id == case.id)).one()
            requests.append((case.state, call.reason))
    assert requests == [("video_call_requested", "requested"), ("video_call_requested", "declined_biometrics")]


def test_a_refused_applicant_cannot_skip_to_consent(service: LiveServer, tmp_path: Path) -> None:
    rec = Recorder(tmp_path)
    base = service.base_url
    with sync_api.sync_playwright() as p:
        browser = launch(p, None)
        try:
            page = rec.new_page(browser.new_context(viewport=VIEWPORT))
            page.goto(base + "/")
            page.click("#start")
            page.wait_for_url("**/eligibility")
            _answer(page, us_resident="no", adult="yes", document_type="drivers_license", method="online")
            page.locator("p.error[role=alert]").wait_for(state="visible", timeout=UI_TIMEOUT_MS)
            page.goto(base + "/eligibility")  # reloading the page, or coming back later
            rec.shot(page, "eligibility-after-refusal")
            assert page.url.endswith("/eligibility"), f"a refused applicant was sent to {page.url}"
        finally:
            browser.close()
