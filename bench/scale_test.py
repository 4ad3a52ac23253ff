"""Load and fault test of the production layout (``make test-scale``).

Starts PostgreSQL, SeaweedFS (S3), HAProxy (``deploy/haproxy.cfg``), 2 ``openidv serve``
processes and 1 ``openidv worker`` on loopback (``tests/scale/cluster.py``; without the worker
command the web processes analyse at submit and the worker steps are skipped, said so), warms
each web process with one applicant, then runs ``bench/load.py``'s applicants through HAProxy:

* at ``--kill-web-at`` seconds, SIGKILL to the first web process and all its descendants: its
  applicants' liveness sessions are lost (409, they redo the step), HAProxy retries and moves
  their requests to the other process;
* at ``--kill-worker-at`` seconds, as soon as an analysis job is running, SIGKILL to the worker
  (mid-job), and a new worker starts: the stalled job must be retried.

Prints the JSON line of ``bench/load.py`` last (plus ``killed_mid_job``, ``killed_recovered``,
``targets_missed``) and exits 1 when a target is missed: any 5xx, any lost case, an applicant
not completed, p95 submit->pending > 500 ms, p95 frame > 150 ms, a case killed mid-job not in a
post-submit state within 60 s of the kill or without exactly one decision event (the event
that takes it out of ``submitted``), a blob row whose object is missing or does not decrypt.
``--no-latency-targets`` checks all but the two latencies (the short run of ``make test``, on
shared CI machines).

    PYTHONPATH=src:. .venv/bin/python bench/scale_test.py [--duration 180] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from tests.scale.cluster import Cluster, ClusterUnavailableError, cluster  # noqa: E402

import load  # noqa: E402  (bench/load.py, beside this script)
from openidv.imaging import encode_jpeg  # noqa: E402
from openidv.service.lifecycle import CaseState  # noqa: E402

SUBMIT_TO_PENDING_MS = 500.0
FRAME_MS = 150.0
RECOVERY_S = 60.0  #: a case whose analysis was killed must leave 'submitted' within this after the kill


def note(text: str) -> None:
    print(f"scale: {text}", file=sys.stderr, flush=True)


@dataclass
class Faults:
    """What was killed, and when (seconds on the monotonic clock)."""

    web_killed_at: float | None = None
    worker_killed_at: float | None = None
    killed_cases: list[str] = field(default_factory=list)  #: cases whose analysis job ran when the worker died


def wait_for_running_analysis(c: Cluster, wait_s: float) -> list[str]:
    """Case ids of the analysis jobs running (procrastinate's jobs table), as soon as there is one; [] after
    ``wait_s`` without any."""
    import psycopg

    url = c.env["OPENIDV_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + wait_s
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute("SELECT args FROM procrastinate_jobs WHERE status = 'doing'").fetchall()
            running = [str(a["case_id"]) for (a,) in rows if isinstance(a, dict) and "case_id" in a]
            if running:
                return running
            time.sleep(0.02)
    return []


async def kill_web(c: Cluster, at_s: float, faults: Faults) -> None:
    await asyncio.sleep(at_s)
    note(f"SIGKILL {c.web[0].name} (pid {c.web[0].process.pid}) and its descendants")
    faults.web_killed_at = time.monotonic()
    await asyncio.to_thread(c.web[0].kill)


async def kill_worker(c: Cluster, at_s: float, faults: Faults, wait_s: float = 120.0) -> None:
    """At ``at_s``, wait for a running analysis job, SIGKILL the worker mid-job, start a new one."""
    await asyncio.sleep(at_s)
    running = await asyncio.to_thread(wait_for_running_analysis, c, wait_s)
    if not running:
        note(f"no analysis job was running within {wait_s:.0f} s of {at_s:.0f} s; the worker was not killed")
        return
    worker = c.workers[-1]
    note(f"SIGKILL {worker.name} (pid {worker.process.pid}) while it analyses {len(running)} case(s)")
    faults.worker_killed_at = time.monotonic()
    faults.killed_cases = running
    await asyncio.to_thread(worker.kill)
    await asyncio.to_thread(c.start_worker)


async def moved_applicant(c: Cluster, material: load.Material, tally: load.Tally) -> None:
    """An applicant whose liveness session starts in the first web process and whose frames reach the
    second: 409 ``liveness_session_lost``, then the restart there completes (real processes)."""
    here, there = load.Browser(c.web_url(1), tally), load.Browser(c.web_url(0), tally)
    try:
        case_id = await load.open_case(here)
        api = f"/api/v1/cases/{case_id}"
        await load.send_documents(here, api, material.licences[1 % len(material.licences)])
        there.client.cookies = here.client.cookies
        await there.expect("POST", f"{api}/liveness/start", 200)
        image = encode_jpeg(material.face[:240, :320], 85)  # any frame: the session is not here
        frame = await here.request(
            "POST", f"{api}/liveness/frames", params={"ts": 1.0}, content=image, headers={"Content-Type": "image/jpeg"}
        )
        if frame.status_code != 409 or load.SESSION_LOST not in frame.text:
            raise load.ApplicantFailedError(f"a frame on the other process got {frame.status_code}, not 409 lost")
        await load.do_liveness(here, api, material.frames)
        await load.submit(here, api)
        tally.completed += 1
    except load.ApplicantFailedError as exc:
        tally.fail(str(exc))
    finally:
        await here.client.aclose()
        await there.client.aclose()


async def warm_up(c: Cluster, material: load.Material) -> None:
    """One applicant straight to each web process (models loaded, the simulator's frames rendered for the
    first attempt's and a restart's challenges); the second one's session is lost and restarted."""
    tally = load.Tally()
    await asyncio.gather(load.applicant(c.web_url(0), material, 0, tally), moved_applicant(c, material, tally))
    if tally.completed != 2:
        raise ClusterUnavailableError(f"the warm-up applicants did not complete: {tally.failures}")
    note("warm-up: an applicant moved to the other process got 409 liveness_session_lost, restarted, completed")


async def drive(c: Cluster, args: argparse.Namespace, material: load.Material, faults: Faults) -> load.Tally:
    tasks = []
    if args.kill_web_at is not None and len(c.web) > 1:
        tasks.append(asyncio.create_task(kill_web(c, args.kill_web_at, faults)))
    if args.kill_worker_at is not None and c.with_worker:
        tasks.append(asyncio.create_task(kill_worker(c, args.kill_worker_at, faults)))
    tally = await load.run_load(c.url, material, args.concurrency, args.duration)
    for task in tasks:
        if not task.done():
            task.cancel()
            note("a fault was scheduled after the load ended; it did not happen")
    await asyncio.gather(*tasks, return_exceptions=True)
    return tally


def recovery(c: Cluster, faults: Faults) -> list[dict[str, Any]]:
    """For each case killed mid-job: its state, seconds from the kill until it left 'submitted', decision events."""
    from sqlalchemy import create_engine, select

    from openidv.service.orm import Case, CaseEvent

    engine = create_engine(c.env["OPENIDV_DATABASE_URL"])
    out = []
    try:
        with engine.connect() as conn:
            for case_id in faults.killed_cases:
                state = conn.scalar(select(Case.state).where(Case.id == case_id))
                left = conn.execute(
                    select(CaseEvent.at).where(
                        CaseEvent.case_id == case_id, CaseEvent.from_state == CaseState.SUBMITTED
                    )
                ).all()
                out.append({"case_id": case_id, "state": state, "decision_events": len(left), "left_at": left})
    finally:
        engine.dispose()
    return out


def liveness_refusals(c: Cluster, case_ids: list[str]) -> dict[str, int]:
    """Why the liveness attempts of these cases were refused (the reasons the applicant is not told)."""
    from sqlalchemy import create_engine, select

    from openidv.service.orm import Capture

    engine = create_engine(c.env["OPENIDV_DATABASE_URL"])
    counts: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            query = select(Capture.reasons).where(
                Capture.case_id.in_(case_ids), Capture.step == "liveness", Capture.accepted.is_(False)
            )
            for (reasons,) in conn.execute(query):
                key = ",".join(reasons or [])
                counts[key] = counts.get(key, 0) + 1
    finally:
        engine.dispose()
    return counts


def killed_recovered(c: Cluster, faults: Faults) -> tuple[int, list[str]]:
    """How many cases killed mid-job recovered in time with one decision event; the problems."""
    problems, ok = [], 0
    wall_at_kill = time.time() - (time.monotonic() - (faults.worker_killed_at or time.monotonic()))
    for row in recovery(c, faults):
        left = [at.timestamp() for (at,) in row["left_at"]]
        late = [t - wall_at_kill for t in left if t - wall_at_kill > RECOVERY_S]
        if row["state"] not in load.POST_SUBMIT_STATES or row["decision_events"] != 1 or late:
            problems.append(f"case killed mid-job: state {row['state']}, {row['decision_events']} decision events")
        else:
            ok += 1
    return ok, problems


def missed_targets(result: dict[str, Any], latency: bool, recovery_problems: list[str]) -> list[str]:
    missed = list(recovery_problems)
    for key in ("http_5xx", "transport_errors", "lost_cases", "blobs_missing"):
        if result[key] is None or result[key] > 0:
            missed.append(f"{key} = {result[key]}")
    if result["completed"] != result["applicants"]:
        missed.append(f"{result['applicants'] - result['completed']} applicant(s) did not complete")
    limits = (("p95_submit_to_pending_ms", SUBMIT_TO_PENDING_MS), ("p95_frame_ms", FRAME_MS))
    for key, limit in limits if latency else ():
        if result[key] is None or result[key] > limit:
            missed.append(f"{key} = {result[key]} > {limit:.0f}")
    return missed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=180.0, help="seconds during which applicants start")
    ap.add_argument("--concurrency", type=int, default=8, help="applicants at a time")
    ap.add_argument("--kill-web-at", type=float, default=60.0, help="seconds into the load (negative: never)")
    ap.add_argument("--kill-worker-at", type=float, default=90.0, help="seconds into the load (negative: never)")
    ap.add_argument("--settle", type=float, default=60.0, help="seconds the cases get to leave 'submitted'")
    ap.add_argument("--no-latency-targets", action="store_true", help="report the p95 latencies without a target")
    args = ap.parse_args()
    args.kill_web_at = None if args.kill_web_at < 0 else args.kill_web_at
    args.kill_worker_at = None if args.kill_worker_at < 0 else args.kill_worker_at
    material = load.make_material()
    try:
        with cluster() as c:
            note(f"up: HAProxy {c.url}, web {c.web_ports}, worker: {'yes' if c.with_worker else 'no (in-process)'}")
            asyncio.run(warm_up(c, material))
            faults = Faults()
            t0 = time.monotonic()
            tally = asyncio.run(drive(c, args, material, faults))
            note(f"load done in {time.monotonic() - t0:.0f} s; not completed: {tally.failures or 'none'}")
            note(f"simulator frames: {material.frames.hits} from the cache, {material.frames.renders} rendered")
            os.environ.update(c.env)  # the audit reads the database and the bucket as the service does
            result = load.summary(tally, load.audit(tally.case_ids, args.settle, log=note))
            refusals = liveness_refusals(c, tally.case_ids)
            if refusals:
                note(f"liveness attempts refused (reasons): {refusals}")
            ok, problems = killed_recovered(c, faults)
            result |= {"killed_mid_job": len(faults.killed_cases), "killed_recovered": ok}
            if c.with_worker and args.kill_worker_at is not None and not faults.killed_cases:
                problems.append("the worker was not killed mid-job")
    except ClusterUnavailableError as exc:
        note(f"cannot run: {exc}")
        return 2
    missed = missed_targets(result, not args.no_latency_targets, problems)
    result["targets_missed"] = missed
    print(json.dumps(result), flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
