"""Resource limits: liveness frames (size, pixels, rate, count, memory), bodies, rate limits."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from openidv.imaging import encode_jpeg
from openidv.liveness.session import start_session
from openidv.service.app import create_app
from openidv.service.runtime import SESSION_OVERHEAD_BYTES, MemoryBudgetError, Runtime
from openidv.synth.forgery import SyntheticDocument
from tests.service.conftest import Applicant, make_settings, overridden_settings


def _error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body: dict[str, Any] = r.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body


def _pad_jpeg(jpeg: bytes, total: int) -> bytes:
    """``jpeg`` padded with comment (COM) segments after SOI to about ``total`` bytes: same pixels."""
    segment = b"\xff\xfe\xff\xff" + b"x" * 65533
    count = max(0, (total - len(jpeg)) // len(segment))
    return jpeg[:2] + segment * count + jpeg[2:]


@pytest.fixture(scope="module")
def at_liveness(tmp_path_factory: pytest.TempPathFactory, licence: SyntheticDocument) -> Iterator[Applicant]:
    """A case whose document is accepted: the next step is liveness (many attempts allowed)."""
    app = create_app(make_settings(tmp_path_factory.mktemp("limits"), max_attempts=40))
    with TestClient(app) as c:
        a = Applicant(c)
        a.start("drivers_license")
        assert a.capture("document_front", licence.front).json()["accepted"]
        assert licence.back is not None
        assert a.capture("document_back", licence.back).json()["next_step"] == "liveness"
        yield a


@pytest.fixture(scope="module")
def frame(astronaut: np.ndarray) -> bytes:
    """A 640 x 480 camera-like JPEG with a face (~40 kB)."""
    canvas = np.full((480, 640, 3), 90, np.uint8)
    canvas[:, 64:576] = astronaut[16:496]
    return encode_jpeg(canvas, 85)


def _post_frame(a: Applicant, data: bytes, ts: float, **headers: str) -> Any:
    return a.client.post(
        f"{a.api}/liveness/frames",
        params={"ts": ts},
        content=data,
        headers={"Content-Type": "image/jpeg", **headers},
    )


def _session(a: Applicant) -> Any:
    entry = a.client.app.state.services.runtime.liveness(a.case_id)  # type: ignore[attr-defined]
    assert entry is not None
    return entry


def test_padded_and_oversized_frames_get_413_before_being_kept(at_liveness: Applicant, frame: bytes) -> None:
    a = at_liveness
    assert a.client.post(f"{a.api}/liveness/start").status_code == 200
    huge = _pad_jpeg(frame, 7_800_000)  # the reported attack: 7.8 MB JPEGs padded with COM segments
    _error(_post_frame(a, huge, 1.0), 413, "payload_too_large")
    chunks = iter([huge[i : i + 65536] for i in range(0, len(huge), 65536)])  # no Content-Length
    _error(_post_frame(a, chunks, 1.0), 413, "payload_too_large")  # type: ignore[arg-type]
    big = io.BytesIO()
    Image.new("RGB", (2000, 1000), (120, 110, 100)).save(big, format="JPEG", quality=50)
    assert len(big.getvalue()) < 400 * 1024
    _error(_post_frame(a, big.getvalue(), 1.0), 413, "frame_too_large")  # 2 MP > the 1.2 MP budget
    entry = _session(a)
    assert entry.session.stored_bytes == 0 and not entry.session.analyses


def test_a_session_keeps_only_the_image_data_of_padded_frames(at_liveness: Applicant, frame: bytes) -> None:
    a = at_liveness
    assert a.client.post(f"{a.api}/liveness/start").status_code == 200
    padded = _pad_jpeg(frame, 380_000)
    assert 300_000 < len(padded) < 400 * 1024 and len(frame) < 80_000
    for i in range(5):
        assert _post_frame(a, padded, 1.0 + i / 10).status_code == 200
    entry = _session(a)
    assert len(entry.session.analyses) == 5
    assert entry.session.stored_bytes <= 5 * len(frame)  # the padding is not held


def test_frame_rate_and_frame_count_get_429(at_liveness: Applicant, frame: bytes) -> None:
    a = at_liveness
    with overridden_settings(a.client, liveness_frame_rate="3/minute", liveness_max_frames=1000):
        assert a.client.post(f"{a.api}/liveness/start").status_code == 200
        answers = [_post_frame(a, frame, 1.0 + i / 10) for i in range(5)]
        assert [r.status_code for r in answers[:3]] == [200, 200, 200]
        refused = answers[3]
        _error(refused, 429, "too_many_requests")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    with overridden_settings(a.client, liveness_max_frames=4):
        assert a.client.post(f"{a.api}/liveness/start").status_code == 200
        codes = [_post_frame(a, frame, 1.0 + i / 10).status_code for i in range(4)]
        assert codes == [200] * 4
        _error(_post_frame(a, frame, 2.0), 429, "too_many_frames")
    with overridden_settings(a.client, liveness_session_bytes=3 * len(frame)):
        assert a.client.post(f"{a.api}/liveness/start").status_code == 200
        assert [_post_frame(a, frame, 1.0 + i / 10).status_code for i in range(3)] == [200] * 3
        _error(_post_frame(a, frame, 2.0), 413, "session_data_limit")


def test_liveness_sessions_share_one_memory_budget(at_liveness: Applicant) -> None:
    a = at_liveness
    attempts = a.client.get(a.api).json()["steps"][-1]["attempts"]
    with overridden_settings(
        a.client, liveness_session_bytes=1024 * 1024, liveness_memory_budget=SESSION_OVERHEAD_BYTES
    ):
        r = a.client.post(f"{a.api}/liveness/start")
        _error(r, 503, "liveness_busy")
        assert int(r.headers["Retry-After"]) >= 1
    assert a.client.get(a.api).json()["steps"][-1]["attempts"] == attempts  # the refusal cost no attempt


def test_runtime_reservations_add_up_and_are_released() -> None:
    rt = Runtime()
    one = 100
    rt.start_liveness("a", start_session(now=0.0, ttl_s=60.0), reserve=one, budget=2 * one)
    rt.start_liveness("b", start_session(now=0.0, ttl_s=60.0), reserve=one, budget=2 * one)
    with pytest.raises(MemoryBudgetError):
        rt.start_liveness("c", start_session(now=0.0, ttl_s=60.0), reserve=one, budget=2 * one)
    rt.start_liveness("a", start_session(now=0.0, ttl_s=60.0), reserve=one, budget=2 * one)  # replaces a's
    rt.end_liveness("b")
    rt.start_liveness("c", start_session(now=0.0, ttl_s=60.0), reserve=one, budget=2 * one)
    assert rt.reserved_bytes() == 2 * one
    assert rt.drop_expired(now=1000.0) == 2 and rt.reserved_bytes() == 0


def test_padding_is_stripped_without_changing_pixels(frame: bytes, tmp_path: Path) -> None:
    from openidv.imaging import compact_encoding, decode_image, strip_jpeg

    padded = _pad_jpeg(frame, 200_000) + b"trailing bytes after the end marker"
    stripped = strip_jpeg(padded)
    assert stripped is not None and len(stripped) <= len(frame)
    assert np.array_equal(decode_image(stripped), decode_image(frame))
    png = io.BytesIO()
    rgb = decode_image(frame)
    Image.fromarray(rgb).save(png, format="PNG")
    again = compact_encoding(png.getvalue(), rgb)
    assert np.array_equal(decode_image(again), rgb)


# --------------------------------------------------------------------------- bodies, deadlines, rate limits


def test_json_and_form_bodies_over_the_limit_get_413_before_authentication(sqlite_client: TestClient) -> None:
    c = sqlite_client
    body = b'{"external_ref": "' + b"x" * 200_000 + b'"}'
    # the reported attack sent 150 MB; anything past 64 kB is refused from its Content-Length, unauthenticated
    json_type = {"Content-Type": "application/json"}
    _error(c.post("/api/v1/cases", content=body, headers=json_type), 413, "payload_too_large")
    chunks = iter([body[i : i + 8192] for i in range(0, len(body), 8192)])  # no Content-Length: counted while read
    r = c.post("/api/v1/cases", content=chunks, headers=json_type)  # type: ignore[arg-type]
    _error(r, 413, "payload_too_large")
    assert c.post("/start", follow_redirects=False).status_code == 303
    form = {"us_resident": "yes", "adult": "yes", "document_type": "passport", "method": "online"}
    form["email"] = "a" * 70_000
    page = c.post("/eligibility", data=form, headers={"Accept": "text/html"})
    assert page.status_code == 413 and "text/html" in page.headers["content-type"], page.text[:200]
    assert "limited to" in page.text


def test_rate_limits_per_address_and_per_key(sqlite_client: TestClient) -> None:
    import hashlib

    from openidv.service.orm import ApiKey

    c = sqlite_client
    with overridden_settings(c, rate_start="3/minute"):
        assert [c.post("/start", follow_redirects=False).status_code for _ in range(3)] == [303] * 3
        page = c.post("/start", follow_redirects=False, headers={"Accept": "text/html"})
        assert page.status_code == 429 and int(page.headers["Retry-After"]) >= 1
        assert "too many verifications" in page.text.lower()
    svc = c.app.state.services  # type: ignore[attr-defined]
    with svc.sessions() as db:
        for name in ("market", "other"):
            raw = f"oidv_{name}_key"
            db.add(ApiKey(name=name, prefix=raw[:9], key_hash=hashlib.sha256(raw.encode()).hexdigest()))
        db.commit()
    with overridden_settings(c, rate_create_case="2/minute"):
        key = {"Authorization": "Bearer oidv_market_key"}
        assert [c.post("/api/v1/cases", json={}, headers=key).status_code for _ in range(2)] == [201, 201]
        r = c.post("/api/v1/cases", json={}, headers=key)
        _error(r, 429, "too_many_requests")
        assert int(r.headers["Retry-After"]) >= 1
        other = {"Authorization": "Bearer oidv_other_key"}
        assert c.post("/api/v1/cases", json={}, headers=other).status_code == 201  # per key
    with overridden_settings(c, rate_login="2/minute"):
        for _ in range(2):
            assert c.post("/review/login", data={"name": "nobody", "password": "x" * 12}).status_code == 401
        page = c.post("/review/login", data={"name": "nobody", "password": "x" * 12})
        assert page.status_code == 429 and "too many login attempts" in page.text
        assert int(page.headers["Retry-After"]) >= 1


def test_video_call_requests_are_rate_limited(sqlite_client: TestClient) -> None:
    c = sqlite_client
    with overridden_settings(c, rate_video_call="2/minute"):
        assert c.post("/start", follow_redirects=False).status_code == 303
        assert c.post("/video-call", data={"email": "s@example.com"}, follow_redirects=False).status_code == 303
        assert c.post("/video-call/book", data={"slot_id": "1"}).status_code == 409  # counted: no such slot
        r = c.post("/video-call/book", data={"slot_id": "1"}, headers={"Accept": "application/json"})
        _error(r, 429, "too_many_requests")


def _raw_exchange(port: int, parts: list[bytes], pause_s: float) -> bytes:
    """Send ``parts`` with ``pause_s`` between them, then read the answer until the server closes."""
    import socket
    import time

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for part in parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server gave up on us: read its answer
            time.sleep(pause_s)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b'"}}' in answer:
                break
        return answer


def test_slow_headers_and_slow_bodies_time_out(tmp_path: Path) -> None:
    import threading
    import time

    import uvicorn

    from openidv.service.guards import slow_header_protocol

    app = create_app(make_settings(tmp_path, body_timeout_s=0.6))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, http=slow_header_protocol(0.6), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        # headers sent a little at a time (slowloris): cut off after 0.6 s, whatever keeps arriving
        head = [b"POST /api/v1/cases HTTP/1.1\r\n", b"Host: x\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n"]
        answer = _raw_exchange(port, head, 0.3)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        # a body announced as 100 bytes of which 10 arrive
        head = b"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        head += b"Content-Length: 100\r\n\r\n"
        answer = _raw_exchange(port, [head, b'{"externa'], 1.0)
        assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer, answer[:300]
        # a normal request on a fresh connection is served
        answer = _raw_exchange(port, [b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"], 0.0)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@given(st.binary(max_size=2048), st.binary(max_size=64))
@settings(max_examples=300, deadline=None)
def test_jpeg_walkers_never_raise_on_arbitrary_bytes(tail: bytes, head: bytes) -> None:
    from openidv.imaging import jpeg_metadata, strip_jpeg

    for raw in (tail, b"\xff\xd8" + head + tail, b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00" + tail):
        stripped = strip_jpeg(raw)
        assert stripped is None or (stripped.startswith(b"\xff\xd8") and stripped.endswith(b"\xff\xd9"))
        found = jpeg_metadata(raw)
        assert found is None or isinstance(found, list)
