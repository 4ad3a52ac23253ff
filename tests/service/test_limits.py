"""Resource limits: liveness frames (size, pixels, rate, count, memory), bodies, rate limits."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from openidv.document.forgery import SyntheticDocument
from openidv.imaging import encode_jpeg
from openidv.liveness.session import start_session
from openidv.service.app import create_app
from openidv.service.runtime import SESSION_OVERHEAD_BYTES, MemoryBudgetError, Runtime
from tests.service.conftest import Applicant, make_settings


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


@contextmanager
def _settings(client: TestClient, **overrides: Any) -> Iterator[None]:
    svc = client.app.state.services  # type: ignore[attr-defined]
    before = svc.settings
    svc.settings = before.model_copy(update=overrides)
    try:
        yield
    finally:
        svc.settings = before


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
    with _settings(a.client, liveness_max_fps=3, liveness_max_frames=1000):
        assert a.client.post(f"{a.api}/liveness/start").status_code == 200
        answers = [_post_frame(a, frame, 1.0 + i / 10) for i in range(5)]
        assert [r.status_code for r in answers[:3]] == [200, 200, 200]
        refused = answers[3]
        _error(refused, 429, "too_many_requests")
        assert 1 <= int(refused.headers["Retry-After"]) <= 1
    with _settings(a.client, liveness_max_frames=4):
        assert a.client.post(f"{a.api}/liveness/start").status_code == 200
        codes = [_post_frame(a, frame, 1.0 + i / 10).status_code for i in range(4)]
        assert codes == [200] * 4
        _error(_post_frame(a, frame, 2.0), 429, "too_many_frames")
    with _settings(a.client, liveness_session_bytes=3 * len(frame)):
        assert a.client.post(f"{a.api}/liveness/start").status_code == 200
        assert [_post_frame(a, frame, 1.0 + i / 10).status_code for i in range(3)] == [200] * 3
        _error(_post_frame(a, frame, 2.0), 413, "session_data_limit")


def test_liveness_sessions_share_one_memory_budget(at_liveness: Applicant) -> None:
    a = at_liveness
    attempts = a.client.get(a.api).json()["steps"][-1]["attempts"]
    with _settings(a.client, liveness_session_bytes=1024 * 1024, liveness_memory_budget=SESSION_OVERHEAD_BYTES):
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
