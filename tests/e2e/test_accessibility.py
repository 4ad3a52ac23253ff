"""Issue 22 part 4, accessibility (WCAG 2.1 AA), in real Chromium.

axe-core is injected into every applicant page and every console page (a context with
``bypass_csp=True``: the pages' CSP refuses injected scripts) and must find no serious or critical
violation; the applicant flow is walked with the keyboard alone (Tab, arrows, Space, Enter); the
camera guidance and liveness instructions sit in live regions; the screen-light step warns people
with photosensitivity and offers the video call. One service and one browser serve the module; no
model is warmed (the pages are checked, not the engines).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from openidv.service.app import create_app
from openidv.service.cases import Services, create_case, request_video_call, set_reports, status_token, transition
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Capture, Case, VideoSlot
from tests.e2e import axe
from tests.e2e.browser import CHROMIUM, launch
from tests.e2e.server import LiveServer
from tests.e2e.test_browser_flow import _answer
from tests.service.conftest import make_settings
from tests.service.console_helpers import PASSWORD, add_users, check, recorded_reports, seed_case

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's browser (apt-get install chromium)"
    ),
]
needs_axe = pytest.mark.skipif(not axe.AXE_JS.exists(), reason=axe.MISSING)

UI_TIMEOUT_MS = 30_000
CAPTURE_TIMEOUT_MS = 120_000
MAX_TABS = 60


class Site:
    """The running service, a case waiting for review, and a case at its face step."""

    def __init__(self, server: LiveServer, review_case: tuple[str, str], tokens: dict[str, str]) -> None:
        self.server = server
        self.base = server.base_url
        self.review_case_id, self.review_case_token = review_case
        self.face_case_token = tokens["face"]
        self.ready_case_token = tokens["ready"]
        self.video_call_token = tokens["call"]


def _case_with_steps_done(svc: Services, steps: tuple[str, ...]) -> str:
    """A consented licence case whose ``steps`` were accepted: the capture page opens at the next one."""
    with svc.sessions() as db:
        case, token = create_case(svc, db, channel="web", actor="applicant")
        case.document_type = "drivers_license"
        case.contact_email = "seller@example.com"
        case.consent_version, case.consent_at = svc.settings.consent_version, svc.clock()
        transition(svc, db, case, CaseState.CAPTURING, "applicant")
        for step in steps:
            case.captures.append(Capture(case_id=case.id, step=step, attempt=1, accepted=True))
        db.commit()
        return token


def _case_for_review(svc: Services) -> tuple[str, str]:
    """A case in review whose checks show every row style: a mismatch, an inconclusive and an advisory check."""
    case_id, token = seed_case(svc, email="ann@example.com", mismatch=True)
    reports, _ = recorded_reports(mismatch=True)
    reports["document"]["checks"] += [
        check("front_screen_recapture", "inconclusive", "mixed_evidence", None),
        check("front_portrait_border", "inconclusive", "portrait_border_too_sharp", 0.2),  # a review signal
    ]
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        set_reports(svc, case, reports)
        db.commit()
    return case_id, token


def _case_with_a_call(svc: Services) -> str:
    """An integrator's case whose seller asked for a video call and booked a call that has started,
    with one more time still open."""
    with svc.sessions() as db:
        case, token = create_case(svc, db, channel="web", actor="applicant")
        case.return_url = "https://shop.example/sellers/back"
        request_video_call(svc, db, case, reason="requested", actor="applicant", email="caller@example.com")
        now = svc.clock()
        db.add(VideoSlot(starts_at=now - timedelta(minutes=5), duration_min=15, created_by="ada", case_id=case.id))
        db.add(VideoSlot(starts_at=now + timedelta(days=1), duration_min=15, created_by="ada"))
        db.commit()
        return token


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = make_settings(tmp_path_factory.mktemp("a11y"), liveness_screen_light=True, allow_file_upload=True)
    app = create_app(settings)
    svc = app.state.services
    add_users(svc)
    review_case = _case_for_review(svc)
    tokens = {
        "face": _case_with_steps_done(svc, ("document_front", "document_back")),
        "ready": _case_with_steps_done(svc, ("document_front", "document_back", "liveness")),
        "call": _case_with_a_call(svc),
    }
    with LiveServer(app) as server:
        yield Site(server, review_case, tokens)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        b = launch(p, None)  # Chromium's own test pattern as the camera
        yield b
        b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 900, "height": 1000})
    ctx.set_default_timeout(UI_TIMEOUT_MS)
    yield ctx
    ctx.close()


def _assert_accessible(page: Page, name: str, checked: list[str]) -> None:
    found = axe.violations(page)
    assert not found, f"{name} ({page.url}):\n{axe.describe(found)}"
    checked.append(name)


_WRITE_WITHOUT_REFRESH = """(html) => {
  document.open();
  document.write(html.replace(/<meta http-equiv="refresh"[^>]*>/, ""));
  document.close();
}"""


def _without_refresh(page: Page, base: str, path: str) -> None:
    """Show a page that navigates on at once (``<meta http-equiv=refresh>``) as it is, without leaving it."""
    html = page.context.request.get(base + path, max_redirects=0).text()
    page.goto(base + "/privacy")
    page.evaluate(_WRITE_WITHOUT_REFRESH, html)
    page.wait_for_load_state()


def _wait_enabled(page: Page, selector: str) -> None:
    page.wait_for_function(
        "(s) => { const b = document.querySelector(s); return !!b && !b.hidden && !b.disabled; }", arg=selector
    )


@needs_axe
def test_every_applicant_page_has_no_serious_violation(site: Site, browser: Browser, context: BrowserContext) -> None:
    base, checked = site.base, []
    page = context.new_page()
    for path, name in (("/", "home"), ("/privacy", "privacy"), ("/no-such-page", "not found")):
        page.goto(base + path)
        _assert_accessible(page, name, checked)
    page.goto(base + "/h/not-a-real-link")
    _assert_accessible(page, "handoff link unusable", checked)
    page.goto(base + "/")
    page.click("#start")
    page.wait_for_url("**/eligibility")
    _assert_accessible(page, "eligibility", checked)
    _answer(
        page, "seller@example.com", us_resident="yes", adult="yes", document_type="drivers_license", method="online"
    )
    page.wait_for_url("**/consent")
    _assert_accessible(page, "consent", checked)
    page.click("#agree")  # without ticking the box: the page again, with its error
    page.locator("p.error").wait_for()
    _assert_accessible(page, "consent refused", checked)
    page.check("#accept")
    page.click("#agree")
    page.wait_for_url("**/capture")
    _wait_enabled(page, "#shoot")
    page.evaluate("() => { document.getElementById('fallback').hidden = false; }")  # as when the camera fails
    _assert_accessible(page, "capture, document step (with the video-call fallback)", checked)
    page.click("#handoff")
    page.locator("#handoff-qr").wait_for()
    _assert_accessible(page, "handoff QR code", checked)
    link = str(page.get_attribute("#handoff-link", "href"))
    _without_refresh(page, base, link.removeprefix(base))
    _assert_accessible(page, "handoff link opened", checked)

    # a refused applicant, the video call and the pages of a submitted case
    other = browser.new_context(bypass_csp=True)
    page = other.new_page()
    page.goto(base + "/")
    page.click("#start")
    page.wait_for_url("**/eligibility")
    page.check("input[name=us_resident][value=no]")
    page.check("input[name=adult][value=yes]")
    page.check("input[name=document_type][value=passport]")
    page.check("input[name=method][value=online]")
    page.fill("#email", "abroad@example.com")
    page.click("#continue")
    page.locator("p.error").wait_for()
    _assert_accessible(page, "eligibility refused", checked)
    page.click("#video-call")
    page.wait_for_url("**/video-call")
    _assert_accessible(page, "video call", checked)
    other.close()
    page = context.new_page()
    page.goto(f"{base}/status/{status_token(site.review_case_token)}")
    _assert_accessible(page, "status", checked)
    page.goto(f"{base}/resume/{site.face_case_token}")
    page.wait_for_url("**/capture")
    _wait_enabled(page, "#face-start")
    _assert_accessible(page, "capture, face step with the screen-light warning", checked)
    page.goto(f"{base}/resume/{site.ready_case_token}")
    _wait_enabled(page, "#submit")
    _assert_accessible(page, "capture, all done (submit)", checked)
    page.goto(f"{base}/resume/{site.video_call_token}")
    page.wait_for_url("**/video-call")
    page.locator("#book").wait_for()
    _assert_accessible(page, "video call, booked, with open times", checked)
    _without_refresh(page, base, "/return")
    page.locator("#return-link").wait_for()
    _assert_accessible(page, "return to the integrator", checked)
    print(f"\naxe-core: 0 serious/critical on {len(checked)} applicant pages: {', '.join(checked)}")


def _log_in(page: Page, base: str, name: str) -> None:
    page.goto(base + "/review/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url("**/review")


@needs_axe
def test_every_console_page_has_no_serious_violation(site: Site, context: BrowserContext) -> None:
    base, checked = site.base, []
    page = context.new_page()
    page.goto(base + "/review/login")
    _assert_accessible(page, "login", checked)
    page.fill("#name", "rita")
    page.fill("#password", "wrong password, long enough")
    page.click("#login-button")
    page.locator("p.error").wait_for()
    _assert_accessible(page, "login refused", checked)
    _log_in(page, base, "rita")
    _assert_accessible(page, "queue", checked)
    page.goto(f"{base}/review/cases/{site.review_case_id}")
    assert page.locator("tr.advisory").count() == 1 and page.locator("tr.st-inconclusive:not(.advisory)").count() == 1
    _assert_accessible(page, "case", checked)
    page.click("#claim")
    page.locator("#decide").wait_for()
    _assert_accessible(page, "case, claimed (decision form)", checked)
    page.check("#decide input[name=action][value=reject]")
    page.check("#decide input[name=reason][value=document_not_genuine]")
    page.fill("#decide textarea[name=seller_message]", "The document does not look genuine.")
    page.click("#decide-button")
    page.wait_for_load_state()
    _assert_accessible(page, "case, decided", checked)
    page.goto(f"{base}/status/{status_token(site.review_case_token)}")
    assert page.locator("#status-heading").get_attribute("data-status") == "rejected"
    _assert_accessible(page, "applicant's status, rejected", checked)
    _log_in(page, base, "ada")
    for path, name in (
        ("/review/video-calls", "video calls (a call to record)"),
        ("/review/agreement", "agreement report"),
        ("/review/audit", "audit log"),
        ("/review/notifications", "notifications"),
        ("/review/users", "users"),
        (f"/review/cases/{site.review_case_id}", "case, decided (admin, with erase form)"),
    ):
        page.goto(base + path)
        _assert_accessible(page, name, checked)
    print(f"\naxe-core: 0 serious/critical on {len(checked)} console pages: {', '.join(checked)}")


_ACTIVE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "(body)";
  return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.name ? `[name=${e.name}][value=${e.value}]` : "");
}"""


def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus; it must show a focus ring (WCAG 2.4.7)."""
    path = []
    for _ in range(MAX_TABS):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert ring != "none", f"{selector} has the focus but no visible focus ring"
            return
        page.keyboard.press("Tab")
        path.append(str(page.evaluate(_ACTIVE)))
    raise AssertionError(f"Tab never reached {selector}; the focus went {' -> '.join(path)}")


def _choose(page: Page, name: str, value: str) -> None:
    """Tab into a radio group, arrow to ``value``, select it with Space."""
    _tab_to(page, f"input[type=radio][name={name}]")
    for _ in range(8):
        if page.evaluate("() => document.activeElement.value") == value:
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert page.is_checked(f"input[name={name}][value={value}]"), f"{name}={value} not chosen with the keyboard"


_LIVE_WRITES = """() => {
  window.__liveWrites = [];
  new MutationObserver(() => window.__liveWrites.push(document.getElementById("instruction").textContent))
    .observe(document.getElementById("instruction"), { childList: true, characterData: true, subtree: true });
}"""


def test_the_applicant_flow_works_with_the_keyboard_alone(site: Site, context: BrowserContext) -> None:
    base = site.base
    page = context.new_page()
    page.goto(base + "/")
    _tab_to(page, "#start")
    page.keyboard.press("Enter")
    page.wait_for_url("**/eligibility")
    for name, value in (("us_resident", "yes"), ("adult", "yes"), ("document_type", "drivers_license")):
        _choose(page, name, value)
    _choose(page, "method", "online")
    _tab_to(page, "#email")
    page.keyboard.type("keys@example.com")
    _tab_to(page, "#continue")
    page.keyboard.press("Enter")
    page.wait_for_url("**/consent")
    _tab_to(page, "#accept")
    page.keyboard.press("Space")
    _tab_to(page, "#agree")
    page.keyboard.press("Enter")
    page.wait_for_url("**/capture")

    # the camera step: guidance in a live region, written only when it changes (a screen reader
    # reads every write); the photo taken with Enter, and the verdict announced (role=status)
    _wait_enabled(page, "#shoot")
    instruction = page.locator("#instruction")
    assert instruction.get_attribute("aria-live") == "polite" and instruction.get_attribute("role") == "status"
    page.evaluate(_LIVE_WRITES)
    page.wait_for_timeout(2000)  # the framing hints run every 400 ms
    writes = page.evaluate("() => window.__liveWrites")
    assert all(a != b for a, b in itertools.pairwise(writes)), f"the same guidance written again: {writes}"
    assert page.get_attribute("#feedback", "role") == "status"
    _tab_to(page, "#shoot")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('feedback').classList.contains('bad')", timeout=CAPTURE_TIMEOUT_MS
    )
    assert "attempt" in page.inner_text("#feedback"), page.inner_text("#feedback")  # Chromium's test pattern
    _tab_to(page, "#handoff")
    page.keyboard.press("Enter")
    page.wait_for_url("**/handoff")
    _tab_to(page, "a[href='/capture']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/capture")

    # the face step: the flashing-colour warning comes before the start button, and its video call
    # is one Enter away
    page.goto(f"{base}/resume/{site.face_case_token}")
    page.wait_for_url("**/capture")
    _wait_enabled(page, "#face-start")
    warning = page.locator("#light-warning")
    assert warning.is_visible() and "photosensitive epilepsy" in warning.inner_text()
    _tab_to(page, "#light-video-call")
    _tab_to(page, "#face-start")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(_ACTIVE) == "button#light-video-call"
    page.keyboard.press("Enter")
    page.wait_for_url("**/video-call")
    assert "We have your request" in page.inner_text("main")


@needs_axe
def test_spanish_pages_have_lang_es_no_serious_violation_and_a_keyboard_switcher(site: Site, browser: Browser) -> None:
    """A browser asking for Spanish gets Spanish pages (``<html lang="es">``, the capture script's wording
    too); the labelled switcher takes it back to English with the keyboard alone."""
    base, checked = site.base, []
    ctx = browser.new_context(bypass_csp=True, locale="es-ES", viewport={"width": 900, "height": 1000})
    ctx.set_default_timeout(UI_TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(base + "/")
    assert page.get_attribute("html", "lang") == "es"
    assert page.locator("label[for=language-select]").inner_text() == "Idioma"
    _assert_accessible(page, "home (es)", checked)
    page.click("#start")
    page.wait_for_url("**/eligibility")
    _assert_accessible(page, "eligibility (es)", checked)
    _answer(
        page, "vendedora@example.com", us_resident="yes", adult="yes", document_type="drivers_license", method="online"
    )
    page.wait_for_url("**/consent")
    _assert_accessible(page, "consent (es)", checked)
    page.check("#accept")
    page.click("#agree")
    page.wait_for_url("**/capture")
    _wait_enabled(page, "#shoot")
    assert page.inner_text("#step-title") == "Fotografíe el anverso de su licencia de conducir de EE. UU."
    _assert_accessible(page, "capture (es)", checked)
    # the switcher, from the keyboard: choose English, press the labelled button
    _tab_to(page, "#language-select")
    for _ in range(3):
        if page.evaluate("() => document.activeElement.value") == "en":
            break
        page.keyboard.press("ArrowUp")
    assert page.evaluate("() => document.activeElement.value") == "en"
    _tab_to(page, "#language-change")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.url.endswith("/capture")
    _wait_enabled(page, "#shoot")
    assert page.inner_text("#step-title") == "Photograph the front of your US driver's licence"
    ctx.close()
    print(f"\naxe-core: 0 serious/critical on {len(checked)} Spanish pages: {', '.join(checked)}")
