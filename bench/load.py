"""Applicant simulator: N applicants at a time walk the whole flow through the load balancer.

Each applicant is one browser (its own cookies): ``/start``, eligibility, consent, the capture
page, the two photos of a generated US licence (``openidv.synth.forgery``), the liveness
step closed loop (each frame rendered under the screen colour the previous answer asked for,
``openidv.synth.liveness``, each frame sent once the previous one is answered and the scene's
frame interval has passed: a slow answer slows the scripted person down, as a person follows
the instructions on screen; the challenge windows are server time, so slow answers still fail), ``/liveness/finish``, ``/submit`` and the pending page. A frame or finish answered 409
``liveness_session_lost`` (its web process died, or the case moved) restarts the liveness
step, as the page does, at most twice. Bounded: at most ``--concurrency`` applicants run at
once, new ones start until ``--duration`` seconds have passed, and the running ones finish.

    OPENIDV_DATABASE_URL=... OPENIDV_KEY_FILE=... [OPENIDV_BLOB_BACKEND=s3 ...] \\
    .venv/bin/python bench/load.py --url http://127.0.0.1:8080 --concurrency 8 --duration 180

Prints ONE JSON line: ``applicants``, ``completed``, ``http_5xx``, ``transport_errors``,
``liveness_restarts``, ``p95_submit_to_pending_ms`` (POST submit until the pending page has
arrived), ``p95_frame_ms`` (one liveness frame's round trip), ``p95_submit_to_decided_s`` (the
case's ``submitted`` event until it left ``submitted``, from the database), ``lost_cases``
(cases created minus those in the database, plus cases still ``submitted`` ``--settle`` seconds
after the end) and ``blobs_missing`` (blob rows of these cases whose object is absent or does
not decrypt). The last two and the decided times read the database and the blob store with
the service's own settings (the ``OPENIDV_*`` environment of the web processes); without
``OPENIDV_DATABASE_URL`` they are null.

Rendering a liveness frame costs the client ~100 ms of CPU, more than the server spends on it,
so frames are rendered once per (challenges, frame, screen colour) and reused: run the servers
with ``OPENIDV_CHALLENGE_SEED`` set (``tests/scale/`` does) and every applicant's first attempt
gets the same challenges, so after the first applicant the client only sends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import numpy as np
from skimage import data

from openidv.service.lifecycle import CaseState

#: least time between liveness frames: a camera at ~14 frames/s, under the service's 15 frames/s per case
FRAME_PERIOD_S = 0.07
#: restarts of the liveness step after a lost session per applicant (the page allows 2)
MAX_RESTARTS = 2
SESSION_LOST = "liveness_session_lost"
#: where the analysis leaves a case (the load test checks every case got there)
POST_SUBMIT_STATES = (CaseState.IN_REVIEW, CaseState.APPROVED, CaseState.REJECTED)
LICENCES = 3  #: generated licences the applicants share (the reuse signal then flags them: review, as any case)


class ApplicantFailedError(Exception):
    """The flow could not go on (an unexpected answer); the applicant counts as not completed."""


# --------------------------------------------------------------------------- material


@dataclass
class Material:
    """The generated licences (JPEG front and back) and the face photo of the live person."""

    licences: list[tuple[bytes, bytes]]
    face: np.ndarray
    frames: FrameCache = field(init=False)

    def __post_init__(self) -> None:
        self.frames = FrameCache(self.face)


def make_material(n_licences: int = LICENCES, seed: int = 40) -> Material:
    """Licences carrying the astronaut's portrait (scikit-image, public domain); the selfie is the same photo."""
    from openidv.face.detection import detect
    from openidv.synth import document as synth
    from openidv.synth.forgery import generate

    face = data.astronaut()
    box = detect(face)[0].box
    portrait = synth.portrait_crop(face, (box.x, box.y, box.width, box.height))
    licences = []
    for i in range(n_licences):
        doc = generate("genuine", np.random.default_rng(seed + i), [portrait], date.today(), kind="us_dl")
        assert doc.back is not None
        licences.append((doc.front, doc.back))
    return Material(licences, face)


class FrameCache:
    """Liveness camera frames (JPEG) by (challenges, frame index, screen colour), rendered once."""

    def __init__(self, face: np.ndarray) -> None:
        self._face = face
        self._scenes: dict[tuple[str, ...], Any] = {}
        self._frames: dict[tuple[tuple[str, ...], int, str | None], bytes] = {}
        self._lock = threading.Lock()
        self.hits = 0  #: frames served from the cache
        self.renders = 0  #: frames rendered

    def scene(self, challenges: tuple[str, ...]) -> Any:
        from openidv.liveness.types import Challenge
        from openidv.synth import liveness as synth

        with self._lock:  # one render per challenge list; threads asking meanwhile wait for it
            if challenges not in self._scenes:
                room = synth.LightSetup(strength=0.08, d_face=0.3, d_background=1.5, lag=0, awb_tau_s=0.8)
                rng = np.random.default_rng(zlib.crc32(",".join(challenges).encode()))
                self._scenes[challenges] = synth.live_scene(
                    self._face, [Challenge(c) for c in challenges], rng, light=room
                )
            return self._scenes[challenges]

    def frame(self, challenges: tuple[str, ...], index: int, colour: str | None) -> bytes:
        from openidv.imaging import encode_jpeg

        key = (challenges, index, colour)
        with self._lock:
            cached = self._frames.get(key)
            self.hits += cached is not None
        if cached is None:
            cached = encode_jpeg(self.scene(challenges).shoot(index, colour), 85)
            with self._lock:
                self._frames[key] = cached
                self.renders += 1
        return cached


# --------------------------------------------------------------------------- one applicant


@dataclass
class Tally:
    """What the applicants saw, all of them together."""

    applicants: int = 0
    completed: int = 0
    http_5xx: int = 0
    transport_errors: int = 0
    liveness_restarts: int = 0
    frame_ms: list[float] = field(default_factory=list)
    submit_to_pending_ms: list[float] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def fail(self, reason: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1


class Browser:
    """One applicant's HTTP client; counts 5xx answers and transport errors in the tally."""

    def __init__(self, base_url: str, tally: Tally) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=120.0, follow_redirects=False)
        self.tally = tally

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            r = await self.client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self.tally.transport_errors += 1
            raise ApplicantFailedError(f"transport {type(exc).__name__}") from exc
        if r.status_code >= 500:
            self.tally.http_5xx += 1
            raise ApplicantFailedError(f"{method} {_route(path)} {r.status_code}")
        return r

    async def expect(self, method: str, path: str, status: int, **kwargs: Any) -> httpx.Response:
        r = await self.request(method, path, **kwargs)
        if r.status_code != status:
            raise ApplicantFailedError(f"{method} {_route(path)} {r.status_code} {_error_code(r)}")
        return r


def _route(path: str) -> str:
    return re.sub(r"[0-9a-f]{32}", "{id}", path.split("?")[0])


def _error_code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("error", {}).get("code", ""))
    except (ValueError, AttributeError):
        return ""


async def open_case(b: Browser) -> str:
    """Start, eligibility, consent; returns the case id from the capture page."""
    await b.expect("POST", "/start", 303)
    answers = {"us_resident": "yes", "adult": "yes", "document_type": "drivers_license", "method": "online"}
    await b.expect("POST", "/eligibility", 303, data=answers)
    version = re.search(r'name="version" value="([^"]+)"', (await b.expect("GET", "/consent", 200)).text)
    if version is None:
        raise ApplicantFailedError("no consent form")
    await b.expect("POST", "/consent", 303, data={"version": version.group(1), "accepted": "yes"})
    found = re.search(r'"case_id": "([0-9a-f]{32})"', (await b.expect("GET", "/capture", 200)).text)
    if found is None:
        raise ApplicantFailedError("no case id on the capture page")
    return found.group(1)


async def send_documents(b: Browser, api: str, licence: tuple[bytes, bytes]) -> None:
    for step, image in zip(("document_front", "document_back"), licence, strict=True):
        r = await b.expect("POST", f"{api}/captures/{step}", 200, content=image, headers={"Content-Type": "image/jpeg"})
        if not r.json().get("accepted"):
            raise ApplicantFailedError(f"{step} refused")


async def liveness_attempt(b: Browser, api: str, frames: FrameCache) -> httpx.Response | None:
    """One run of the liveness step; None when the session was lost (restart it), else the finish answer.

    The scene's frames in turn, each sent when the answer to the previous one has come and the scene's
    frame interval (at least :data:`FRAME_PERIOD_S`) has passed: the scripted person does each challenge
    while it is current only if the frames keep pace, as a person follows the instructions on screen."""
    start = await b.expect("POST", f"{api}/liveness/start", 200)
    challenges = tuple(start.json()["challenges"])
    scene = await asyncio.to_thread(frames.scene, challenges)
    colour: str | None = None
    for i, ts in enumerate(scene.timestamps):
        image = await asyncio.to_thread(frames.frame, challenges, i, colour)
        t0 = time.perf_counter()
        r = await b.request(
            "POST",
            f"{api}/liveness/frames",
            params={"ts": ts},
            content=image,
            headers={"Content-Type": "image/jpeg"},
        )
        elapsed = time.perf_counter() - t0
        if r.status_code == 409 and _error_code(r) == SESSION_LOST:
            return None
        if r.status_code != 200:
            raise ApplicantFailedError(f"frame {r.status_code} {_error_code(r)}")
        b.tally.frame_ms.append(elapsed * 1000.0)
        progress = r.json()
        colour = progress.get("screen_colour")
        if progress.get("done") or progress.get("expired"):
            break
        interval = scene.timestamps[i + 1] - ts if i + 1 < len(scene.timestamps) else 0.0
        await asyncio.sleep(max(0.0, max(FRAME_PERIOD_S, interval) - elapsed))
    finish = await b.request("POST", f"{api}/liveness/finish")
    return None if finish.status_code == 409 and _error_code(finish) == SESSION_LOST else finish


async def do_liveness(b: Browser, api: str, frames: FrameCache) -> None:
    for _ in range(MAX_RESTARTS + 1):
        finish = await liveness_attempt(b, api, frames)
        if finish is None:
            b.tally.liveness_restarts += 1
            continue
        if finish.status_code != 200 or not finish.json().get("accepted"):
            raise ApplicantFailedError(f"liveness finish {finish.status_code} {_error_code(finish)}")
        return
    raise ApplicantFailedError("liveness session lost too often")


async def submit(b: Browser, api: str) -> None:
    t0 = time.perf_counter()
    await b.expect("POST", f"{api}/submit", 200)
    page = await b.expect("GET", "/pending", 200)
    b.tally.submit_to_pending_ms.append((time.perf_counter() - t0) * 1000.0)
    if "Pending verification" not in page.text:
        raise ApplicantFailedError("no pending page")


async def applicant(base_url: str, material: Material, number: int, tally: Tally) -> None:
    tally.applicants += 1
    b = Browser(base_url, tally)
    try:
        case_id = await open_case(b)
        tally.case_ids.append(case_id)
        api = f"/api/v1/cases/{case_id}"
        await send_documents(b, api, material.licences[number % len(material.licences)])
        await do_liveness(b, api, material.frames)
        await submit(b, api)
        tally.completed += 1
    except ApplicantFailedError as exc:
        tally.fail(str(exc))
    finally:
        await b.client.aclose()


async def run_load(base_url: str, material: Material, concurrency: int, duration_s: float) -> Tally:
    """``concurrency`` applicant slots, each starting applicants one after another until ``duration_s`` passed."""
    tally, deadline, counter = Tally(), time.monotonic() + duration_s, iter(range(10**9))

    async def slot() -> None:
        while time.monotonic() < deadline:
            await applicant(base_url, material, next(counter), tally)

    await asyncio.gather(*(slot() for _ in range(concurrency)))
    return tally


# --------------------------------------------------------------------------- the database's view


def p95(values: Iterable[float]) -> float | None:
    """The 95th percentile (nearest rank), None without values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else None


def audit(case_ids: list[str], settle_s: float = 60.0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """``lost_cases``, ``blobs_missing`` and the decided times of ``case_ids``, read with the service's settings."""
    if not os.environ.get("OPENIDV_DATABASE_URL"):
        return {"lost_cases": None, "blobs_missing": None, "p95_submit_to_decided_s": None}
    from openidv.service.app import build_services
    from openidv.service.settings import ServiceSettings

    svc = build_services(ServiceSettings())
    try:
        stuck = wait_until_analysed(svc, case_ids, settle_s)
        with svc.sessions() as db:
            present, decided_s, missing = _examine(svc, db, case_ids)
    finally:
        svc.engine.dispose()
    if missing:
        log(f"load: blobs missing or undecryptable: {missing[:5]}")
    return {
        "lost_cases": len(set(case_ids) - present) + len(stuck),
        "blobs_missing": len(missing),
        "p95_submit_to_decided_s": _rounded(p95(decided_s), 2),
    }


def wait_until_analysed(svc: Any, case_ids: list[str], settle_s: float) -> list[str]:
    """Wait up to ``settle_s`` for every case to leave ``submitted``; returns those that did not."""
    from sqlalchemy import select

    from openidv.service.orm import Case

    deadline = time.monotonic() + settle_s
    while True:
        with svc.sessions() as db:
            stuck = list(db.scalars(select(Case.id).where(Case.id.in_(case_ids), Case.state == CaseState.SUBMITTED)))
        if not stuck or time.monotonic() > deadline:
            return stuck
        time.sleep(1.0)


def _examine(svc: Any, db: Any, case_ids: list[str]) -> tuple[set[str], list[float], list[str]]:
    """(ids present, seconds from submitted to the next state, blob ids whose object is absent or undecryptable)."""
    from sqlalchemy import select

    from openidv.service.cases import read_blob
    from openidv.service.orm import Case, CaseEvent

    present: set[str] = set()
    decided: list[float] = []
    missing: list[str] = []
    for case in db.scalars(select(Case).where(Case.id.in_(case_ids))):
        present.add(case.id)
        events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
        submitted = next((e.at for e in events if e.to_state == CaseState.SUBMITTED), None)
        left = next((e.at for e in events if e.from_state == CaseState.SUBMITTED), None)
        if submitted is not None and left is not None:
            decided.append((left - submitted).total_seconds())
        for blob in case.blobs:
            if blob.deleted_at is not None:
                continue
            try:
                read_blob(svc, case, blob)
            except Exception:  # noqa: BLE001 - any failure to fetch or decrypt is what is counted
                missing.append(blob.id)
    return present, decided, missing


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def summary(tally: Tally, audited: dict[str, Any]) -> dict[str, Any]:
    """The JSON line's keys, in order."""
    return {
        "applicants": tally.applicants,
        "completed": tally.completed,
        "http_5xx": tally.http_5xx,
        "transport_errors": tally.transport_errors,
        "liveness_restarts": tally.liveness_restarts,
        "p95_submit_to_pending_ms": _rounded(p95(tally.submit_to_pending_ms), 1),
        "p95_frame_ms": _rounded(p95(tally.frame_ms), 1),
        "p95_submit_to_decided_s": audited["p95_submit_to_decided_s"],
        "lost_cases": audited["lost_cases"],
        "blobs_missing": audited["blobs_missing"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the load balancer (or one web process), e.g. http://127.0.0.1:8080")
    ap.add_argument("--concurrency", type=int, default=8, help="applicants at a time")
    ap.add_argument("--duration", type=float, default=180.0, help="seconds during which new applicants start")
    ap.add_argument("--settle", type=float, default=60.0, help="seconds the cases get to leave 'submitted' after")
    args = ap.parse_args()
    material = make_material()
    tally = asyncio.run(run_load(args.url, material, args.concurrency, args.duration))
    if tally.failures:
        print(f"load: applicants not completed: {tally.failures}", flush=True)
    print(json.dumps(summary(tally, audit(tally.case_ids, args.settle))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
