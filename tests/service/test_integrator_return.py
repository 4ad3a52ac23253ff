"""Issue 22 part 2: the integrator's reference and return URL (allow-list per API key)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from openidv.service import integrator
from openidv.service.integrator import ReturnUrlError
from openidv.service.orm import ApiKey

ALLOWED = ["https://market.example/verify/done", "http://localhost:3000/"]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://market.example/verify/done", True),
        ("https://MARKET.example:443/verify/done/seller?x=1", True),
        ("https://market.example/verify/doneX", False),  # not at a path boundary
        ("https://market.example/verify", False),
        ("http://market.example/verify/done", None),  # plain http off loopback: malformed
        ("https://market.example.evil.test/verify/done", False),
        ("https://evil.test/verify/done?next=https://market.example/verify/done", False),
        ("https://market.example:8443/verify/done", False),
        ("http://localhost:3000/anything", True),
        ("http://localhost:3001/", False),
        ("https://user@market.example/verify/done", None),
        ("https://market.example/verify/done#frag", None),
        ("/verify/done", None),
        ("javascript:alert(1)", None),
        ("https://market.example/verify/done\nx", None),
    ],
)
def test_allow_list_matching(url: str, ok: bool | None) -> None:
    if ok is None:
        with pytest.raises(ReturnUrlError):
            integrator.allowed(url, ALLOWED)
    else:
        assert integrator.allowed(url, ALLOWED) is ok


@given(
    path=st.from_regex(r"/[a-z0-9/_-]{0,20}", fullmatch=True),
    query=st.dictionaries(st.sampled_from(["a", "case_id", "state", "x y"]), st.text(max_size=8), max_size=3),
    state=st.sampled_from(["in_review", "video_call_requested"]),
)
def test_return_target_keeps_the_address_and_sets_case_id_and_state(
    path: str, query: dict[str, str], state: str
) -> None:
    from urllib.parse import urlencode

    url = f"https://market.example{path}" + (f"?{urlencode(query)}" if query else "")
    target = urlsplit(integrator.return_target(url, "c" * 32, state))
    assert (target.scheme, target.netloc, target.path) == ("https", "market.example", path)
    got = parse_qs(target.query, keep_blank_values=True)
    assert got["case_id"] == ["c" * 32] and got["state"] == [state]
    for k, v in query.items():
        if k not in ("case_id", "state"):
            assert got[k] == [v]


def test_apikey_return_urls_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from openidv.cli import main

    monkeypatch.setenv("OPENIDV_ENVIRONMENT", "development")
    monkeypatch.setenv("OPENIDV_DATA_DIR", str(tmp_path / "var"))
    assert main(["apikey", "create", "shop", "--json"]) == 0
    assert main(["apikey", "return-urls", "shop", *ALLOWED, "--json"]) == 0
    assert main(["apikey", "return-urls", "shop", "http://market.example/", "--json"]) == 2  # plain http
    assert main(["apikey", "return-urls", "shop", "https://market.example/?q=1", "--json"]) == 2
    assert main(["apikey", "return-urls", "nobody", "https://market.example/", "--json"]) == 2
    assert main(["apikey", "return-urls", "shop", "--json"]) == 2  # neither URLs nor --clear
    out = capsys.readouterr().out
    assert '"return_urls": ["https://market.example/verify/done", "http://localhost:3000/"]' in out
    assert "must use https" in out and "no API key named" in out
    assert main(["apikey", "return-urls", "shop", "--clear", "--json"]) == 0
    assert '"return_urls": []' in capsys.readouterr().out


def _keys(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as db:
        for name, raw in (("shop-a", "oidv_key_a"), ("shop-b", "oidv_key_b")):
            key = ApiKey(name=name, prefix=raw[:9], key_hash=hashlib.sha256(raw.encode()).hexdigest())
            if name == "shop-a":
                integrator.set_return_urls(key, ALLOWED)
            db.add(key)
        db.commit()
    return {"Authorization": "Bearer oidv_key_a"}, {"Authorization": "Bearer oidv_key_b"}


def test_return_url_off_the_allow_list_is_422(client: TestClient) -> None:
    a, b = _keys(client)
    for body, headers in (
        ({"return_url": "https://evil.test/verify/done"}, a),
        ({"return_url": "https://market.example/verify/doneX"}, a),
        ({"return_url": "https://market.example/verify/done"}, b),  # shop-b has no allow-list
    ):
        r = client.post("/api/v1/cases", json=body, headers=headers)
        assert r.status_code == 422 and r.json()["error"]["code"] == "return_url_not_allowed", r.text
    r = client.post("/api/v1/cases", json={"return_url": "ftp://market.example/"}, headers=a)
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_return_url"
    r = client.post("/api/v1/cases", json={"reference": "s-1", "external_ref": "s-2"}, headers=a)
    assert r.status_code == 422
    services = client.app.state.services  # type: ignore[attr-defined]
    from openidv.service.orm import Case

    with services.sessions() as db:
        assert db.query(Case).count() == 0  # nothing was created by a refused request


def test_reference_in_status_and_decline_returns_to_the_integrator(client: TestClient) -> None:
    a, _ = _keys(client)
    r = client.post(
        "/api/v1/cases",
        json={"reference": "seller-77", "return_url": "https://market.example/verify/done?lang=en"},
        headers=a,
    )
    assert r.status_code == 201, r.text
    case_id, token = r.json()["case_id"], r.json()["token"]
    assert r.json()["reference"] == "seller-77"
    status = client.get(f"/api/v1/cases/{case_id}", headers=a).json()
    assert status["reference"] == "seller-77" and status["state"] == "started"
    assert token not in status["return_to"]
    # the applicant opens the link and declines the biometric flow on the eligibility page
    applicant = TestClient(client.app)
    assert applicant.get(f"/resume/{token}", follow_redirects=False).headers["location"] == "/eligibility"
    r = applicant.post(
        "/eligibility",
        data={"us_resident": "yes", "adult": "yes", "document_type": "passport", "method": "video_call"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/return"
    page = applicant.get("/return")
    assert page.status_code == 200
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', page.text)
    assert found is not None
    target = urlsplit(found.group(1).replace("&amp;", "&"))
    assert (target.netloc, target.path) == ("market.example", "/verify/done")
    assert parse_qs(target.query) == {"lang": ["en"], "case_id": [case_id], "state": ["video_call_requested"]}
    assert token not in page.text
    status = client.get(f"/api/v1/cases/{case_id}", headers=a).json()
    assert status["state"] == "video_call_requested" and status["reference"] == "seller-77"


def test_api_video_call_answers_return_to_and_web_cases_stay(client: TestClient) -> None:
    a, _ = _keys(client)
    r = client.post("/api/v1/cases", json={"return_url": "http://localhost:3000/back"}, headers=a)
    case_id = r.json()["case_id"]
    r = client.post(f"/api/v1/cases/{case_id}/video-call", json={}, headers=a)
    assert r.status_code == 200, r.text
    back = urlsplit(r.json()["return_to"])
    assert back.netloc == "localhost:3000" and parse_qs(back.query)["state"] == ["video_call_requested"]
    # a web case has no return URL: declining keeps the applicant on the video-call page
    web = TestClient(client.app)
    web.post("/start", follow_redirects=False)
    r = web.post("/video-call", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/video-call"
    assert web.get("/return", follow_redirects=False).headers["location"] == "/video-call"


def test_openapi_lists_reference_and_return_url(sqlite_client: TestClient) -> None:
    spec = sqlite_client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"reference", "return_url"} <= set(schemas["CreateCase"]["properties"])
    assert {"reference", "return_to", "steps"} <= set(schemas["CaseStatus"]["properties"])
    assert "return_to" in schemas["Submitted"]["properties"]
    get_case = spec["paths"]["/api/v1/cases/{case_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert get_case["schema"]["$ref"].endswith("/CaseStatus")
