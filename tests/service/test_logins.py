"""Reviewer logins: no account-state oracle, per-address back-off, account commands (issue 19 item 9)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openidv.cli import main
from openidv.service.app import create_app
from openidv.service.auth import create_user
from tests.service.conftest import make_settings

PASSWORD = "correct horse battery staple"


@pytest.fixture
def review_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("OPENIDV_ENVIRONMENT", "development")  # the CLI uses the development key next to the data
    monkeypatch.setenv("OPENIDV_DATA_DIR", str(tmp_path / "var"))  # the CLI works on the same data
    app = create_app(make_settings(tmp_path, lockout_failures=4, rate_login_failures="1000/minute"))
    with TestClient(app) as c:
        with app.state.services.sessions() as db:
            for name in ("rita", "remy"):
                create_user(db, name, "reviewer", PASSWORD)
            db.commit()
        yield c


def _login(c: TestClient, name: str, password: str) -> tuple[int, str, float]:
    t = time.perf_counter()
    r = c.post("/review/login", data={"name": name, "password": password}, follow_redirects=False)
    return r.status_code, r.text, time.perf_counter() - t


def test_unknown_locked_and_wrong_answer_alike_and_in_the_same_time(review_app: TestClient) -> None:
    c = review_app
    for _ in range(4):
        assert _login(c, "rita", "wrong password!")[0] == 401  # rita is now locked
    answers: dict[str, list[tuple[int, str, float]]] = {"unknown": [], "locked": [], "wrong": []}
    for _ in range(3):
        answers["unknown"].append(_login(c, "nobody-here", PASSWORD))
        answers["locked"].append(_login(c, "rita", PASSWORD))  # the right password, while locked
        answers["wrong"].append(_login(c, "remy", "not the password"))  # 3 of the 4 before a lock
    pages = {kind: {(status, "wrong name or password" in text) for status, text, _ in a} for kind, a in answers.items()}
    assert all(p == {(401, True)} for p in pages.values()), pages
    medians = {kind: statistics.median(t for _, _, t in a) for kind, a in answers.items()}
    # each path runs one argon2id verification (~50-150 ms); before, a locked account answered in ~5 ms
    assert min(medians.values()) > 0.5 * max(medians.values()), medians


def test_failed_logins_back_off_per_client_address(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, rate_login_failures="3/minute"))
    with TestClient(app, client=("10.0.0.7", 5000)) as c:
        with app.state.services.sessions() as db:
            create_user(db, "rita", "reviewer", PASSWORD)
            db.commit()
        assert [_login(c, f"guess{i}", "x" * 12)[0] for i in range(3)] == [401] * 3
        r = c.post("/review/login", data={"name": "rita", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1  # even the right password waits
        assert "too many failed logins" in r.text.lower()
        other = TestClient(app, client=("10.0.0.8", 5000))
        assert _login(other, "rita", PASSWORD)[0] == 303  # another address is not held back


def test_users_disable_enable_passwd_and_revoke(review_app: TestClient) -> None:
    c = review_app
    assert _login(c, "rita", PASSWORD)[0] == 303
    assert c.get("/review", follow_redirects=False).status_code == 200
    assert main(["users", "revoke", "rita"]) == 0
    assert c.get("/review", follow_redirects=False).headers["location"] == "/review/login"  # logged out
    assert _login(c, "rita", PASSWORD)[0] == 303
    assert main(["users", "disable", "rita"]) == 0
    assert c.get("/review", follow_redirects=False).status_code == 303  # disabling ends the session too
    assert _login(c, "rita", PASSWORD)[0] == 401
    assert main(["users", "enable", "rita"]) == 0
    assert main(["users", "passwd", "rita", "--password", "short"]) == 2
    assert main(["users", "passwd", "rita", "--password", "a brand new passphrase"]) == 0
    assert _login(c, "rita", PASSWORD)[0] == 401
    assert _login(c, "rita", "a brand new passphrase")[0] == 303
    assert main(["users", "disable", "nobody"]) == 2
