"""Issue 22 part 2 in real Chromium: an applicant who declines the biometric flow lands on the
integrator's return URL with the case id and state (the page's CSP ``form-action 'self'`` does
not block the way out, because the form lands on our own ``/return`` page first)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from openidv.service import integrator
from openidv.service.app import create_app
from openidv.service.orm import ApiKey
from tests.e2e.browser import CHROMIUM, launch
from tests.e2e.server import LiveServer
from tests.service.conftest import make_settings

pytestmark = pytest.mark.browser


def test_declining_for_a_video_call_returns_to_the_integrator(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it): browser test skipped")
    from playwright.sync_api import sync_playwright

    app = create_app(make_settings(tmp_path))
    with LiveServer(app) as server, sync_playwright() as p:
        # the "marketplace" is a page of this same server on loopback (plain http is allowed there)
        back = f"{server.base_url}/privacy"
        with app.state.services.sessions() as db:
            key = ApiKey(name="shop", prefix="oidv_shop", key_hash=hashlib.sha256(b"oidv_shop_key").hexdigest())
            integrator.set_return_urls(key, [back])
            db.add(key)
            db.commit()
        r = httpx.post(
            f"{server.base_url}/api/v1/cases",
            json={"reference": "seller-9", "return_url": back},
            headers={"Authorization": "Bearer oidv_shop_key"},
        )
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        browser = launch(p, None)
        page = browser.new_page()
        page.goto(r.json()["applicant_url"])
        assert page.url.endswith("/eligibility")
        page.check("input[name=us_resident][value=yes]")
        page.check("input[name=adult][value=yes]")
        page.check("input[name=document_type][value=passport]")
        page.check("input[name=method][value=video_call]")
        page.fill("#email", "seller@example.com")
        page.click("#continue")
        page.wait_for_url(f"{back}?*", timeout=15_000)
        landed = urlsplit(page.url)
        assert parse_qs(landed.query) == {"case_id": [case_id], "state": ["video_call_requested"]}
        browser.close()
