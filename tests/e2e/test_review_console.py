"""Reviewers in real Chromium: log in, work the queue, approve one case, reject another; the
seller's status pages, a real SMTP server and a webhook receiver all show the decisions."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from openidv.service.app import create_app
from openidv.service.cases import status_token
from openidv.service.notify import SIGNATURE_HEADER, set_webhook, verify
from openidv.service.orm import ApiKey
from tests.e2e.browser import CHROMIUM, launch
from tests.e2e.server import LiveServer
from tests.service.conftest import make_settings
from tests.service.console_helpers import PASSWORD, add_users, seed_case
from tests.service.test_notify import Receiver, _free_port, _Inbox

pytestmark = pytest.mark.browser


def _wait(predicate: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_reviewer_approves_and_rejects_and_everyone_hears(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it): browser test skipped")
    from aiosmtpd.controller import Controller
    from playwright.sync_api import sync_playwright

    inbox = _Inbox()
    smtp_port = _free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    receiver = Receiver()
    try:
        settings = make_settings(
            tmp_path, outbox_worker=True, outbox_poll_s=0.2, smtp_host="127.0.0.1", smtp_port=smtp_port
        )
        app = create_app(settings)
        svc = app.state.services
        add_users(svc)
        with svc.sessions() as db:
            key = ApiKey(name="shop", prefix="oidv_shop", key_hash=hashlib.sha256(b"oidv_shop_key").hexdigest())
            db.add(key)
            db.flush()
            secret = set_webhook(svc, db, key, receiver.url)
            db.commit()
        approve_id, approve_token = seed_case(svc, email="ann@example.com", submitted_ago_h=5)
        reject_id, reject_token = seed_case(svc, email="bob@example.com", channel="api:shop", mismatch=True)

        with LiveServer(app) as server, sync_playwright() as p:
            browser = launch(p, None)
            page = browser.new_page()
            page.goto(f"{server.base_url}/review")
            assert page.url.endswith("/review/login")
            page.fill("#name", "rita")
            page.fill("#password", PASSWORD)
            page.click("#login-button")
            page.wait_for_selector("#queue")
            rows = page.locator("#queue tbody tr[data-case]")
            assert rows.count() == 2
            assert rows.nth(0).get_attribute("data-case") == approve_id  # oldest first
            page.screenshot(path=str(tmp_path / "queue.png"))

            # approve the first
            page.click(f"a[href='/review/cases/{approve_id}']")
            page.click("#claim")
            page.wait_for_selector("#decide")
            assert page.locator("img.face").count() == 2  # portrait and selfie side by side
            page.check("input[name=action][value=approve]")
            page.click("#decide-button")
            page.wait_for_selector("#queue")
            assert page.locator("#queue tbody tr[data-case]").count() == 1

            # reject the second, with a reason and a message for the seller
            page.click(f"a[href='/review/cases/{reject_id}']")
            page.click("#claim")
            page.wait_for_selector("#decide")
            assert page.locator("#fields tr.mismatch").count() >= 1  # the mismatching field is highlighted
            page.screenshot(path=str(tmp_path / "case.png"), full_page=True)
            page.check("input[name=action][value=reject]")
            page.check("input[name=reason][value=document_not_genuine]")
            page.fill("textarea[name=seller_message]", "Your licence did not pass our checks.")
            page.click("#decide-button")
            page.wait_for_selector("#queue")
            assert "Nothing to review" in page.inner_text("#queue")

            seller = browser.new_page()
            seller.goto(f"{server.base_url}/status/{status_token(approve_token)}")
            assert seller.get_attribute("#status-heading", "data-status") == "approved"
            seller.goto(f"{server.base_url}/status/{status_token(reject_token)}")
            assert seller.get_attribute("#status-heading", "data-status") == "rejected"
            assert "did not pass our checks" in seller.inner_text("#status-message")
            browser.close()

            assert _wait(lambda: len(inbox.envelopes) >= 2 and len(receiver.requests) >= 1)
        mails = {rcpt[0]: body.decode() for _, rcpt, body in inbox.envelopes}
        assert set(mails) == {"ann@example.com", "bob@example.com"}
        assert "approved" in mails["ann@example.com"].lower() or "verified" in mails["ann@example.com"].lower()
        assert "did not pass our checks" in mails["bob@example.com"]
        headers, body = receiver.requests[0]
        assert verify(secret, body, headers[SIGNATURE_HEADER.lower()], now=time.time())
        event = json.loads(body)
        assert event["case_id"] == reject_id and event["state"] == "rejected"
        assert event["reasons"] == ["document_not_genuine"]
        assert len(receiver.requests) == 1  # the web case has no integrator to call
    finally:
        receiver.close()
        smtp.stop()
