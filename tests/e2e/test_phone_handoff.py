"""Issue 22 part 1 in real Chromium: the desktop shows a QR code, a phone context opens it and
joins the same case, the desktop follows the case to the pending page, the link works once.

The phone's own capture steps are what ``test_browser_flow`` runs (camera files, liveness,
face match: minutes of CPU); here the phone's submission is recorded on the case directly, and
the test checks what the handoff adds: the QR code as a camera reads it (zxing-cpp), the
phone joining the case, the desktop following it, single use."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import httpx
import pytest

from openidv.service.app import create_app
from openidv.service.cases import transition
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Case
from tests.e2e.browser import CHROMIUM, launch
from tests.e2e.server import LiveServer
from tests.service.conftest import make_settings

pytestmark = pytest.mark.browser


def _capturing_case(base: str) -> str:
    """A web case at its first capture step; returns its cookie token."""
    with httpx.Client(base_url=base) as c:
        c.post("/start")
        c.post(
            "/eligibility",
            data={
                "us_resident": "yes",
                "adult": "yes",
                "document_type": "passport",
                "method": "online",
                "email": "s@x.io",
            },
        )
        version = re.search(r'name="version" value="([^"]+)"', c.get("/consent").text)
        assert version is not None
        assert c.post("/consent", data={"version": version.group(1), "accepted": "yes"}).status_code in (200, 303)
        token = c.cookies.get("openidv_case")
        assert token
        return token


def test_qr_code_hands_the_case_to_a_phone_and_the_desktop_follows(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it): browser test skipped")
    import zxingcpp
    from PIL import Image
    from playwright.sync_api import sync_playwright

    app = create_app(make_settings(tmp_path))
    svc = app.state.services
    with LiveServer(app) as server, sync_playwright() as p:
        token = _capturing_case(server.base_url)
        browser = launch(p, None)  # Chromium's fake camera (test pattern) for both devices
        desktop = browser.new_context()
        desktop.add_cookies([{"name": "openidv_case", "value": token, "url": server.base_url}])
        page = desktop.new_page()
        page.goto(f"{server.base_url}/capture")
        case_id = json.loads(page.locator("#flow").text_content() or "{}")["case_id"]
        page.click("#handoff")
        page.wait_for_selector("#handoff-qr svg")
        shot = Image.open(io.BytesIO(page.locator("#handoff-qr").screenshot()))
        decoded = [b.text for b in zxingcpp.read_barcodes(shot) if b.format == zxingcpp.BarcodeFormat.QRCode]
        link = page.locator("#handoff-link").get_attribute("href")
        assert decoded == [link] and link and link.startswith(f"{server.base_url}/h/")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        mobile = phone.new_page()
        mobile.goto(decoded[0])
        mobile.wait_for_url("**/capture")
        assert json.loads(mobile.locator("#flow").text_content() or "{}")["case_id"] == case_id
        assert not page.url.endswith("/pending")

        with svc.sessions() as db:  # the phone finishes and submits (see the module docstring)
            case = db.get(Case, case_id)
            assert case is not None
            transition(svc, db, case, CaseState.SUBMITTED, "applicant")
            transition(svc, db, case, CaseState.IN_REVIEW, "system")
            db.commit()
        page.wait_for_url("**/pending", timeout=15_000)
        assert page.locator("#status-heading").get_attribute("data-status") == "pending"

        again = phone.new_page()
        again.goto(decoded[0])
        assert again.locator("#handoff-unusable").get_attribute("data-reason") == "used"
        browser.close()
