"""The production layout on loopback: PostgreSQL, SeaweedFS (S3), web processes behind HAProxy, workers.

Every server is a real process: PostgreSQL and SeaweedFS from ``tests/service/pg.py`` and
``tests/service/seaweed.py``, ``openidv serve`` per web process, ``openidv worker`` when this
version has it (``OPENIDV_JOB_QUEUE=procrastinate``; otherwise the web processes analyse at
submit), and HAProxy with the shipped ``deploy/haproxy.cfg``, its addresses set through the
environment. Each ``openidv`` process starts in its own process group, so a kill takes the
process and all its descendants.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.service.pg import _free_port, postgres_server
from tests.service.seaweed import seaweed_server

REPO = Path(__file__).resolve().parents[2]
HAPROXY_CONFIG = REPO / "deploy" / "haproxy.cfg"
START_TIMEOUT_S = 240.0  #: a web process loads its models and migrates the database (slow on a busy machine)
#: fixed challenges per attempt: the simulator renders each frame once (see bench/load.py)
CHALLENGE_SEED = 20


class ClusterUnavailableError(RuntimeError):
    """A component could not start (missing binary, a server that did not come up)."""


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found is None:
        raise ClusterUnavailableError("haproxy is not installed (apt-get install haproxy; make test-scale does)")
    return found


def has_worker_command() -> bool:
    """Whether this version has ``openidv worker`` (the job queue); without it analysis runs at submit."""
    r = subprocess.run(
        [sys.executable, "-m", "openidv.cli", "worker", "--help"], capture_output=True, timeout=60, check=False
    )
    return r.returncode == 0


@dataclass
class Managed:
    """A child process in its own process group, its output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal the process group (the process and every descendant), then reap the process."""
        if self.alive():
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def tail(self, n: int = 1500) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path) -> Managed:
    log = logs / f"{name}.log"
    out: IO[bytes]
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return Managed(name, process, log)


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]  #: the OPENIDV_* settings every openidv process gets (the load's audit reads them too)
    web_ports: list[int]
    lb_port: int
    with_worker: bool
    web: list[Managed] = field(default_factory=list)
    workers: list[Managed] = field(default_factory=list)
    haproxy: Managed | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    def web_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.web_ports[i]}"

    def start_web(self, i: int) -> Managed:
        env = self.env | {"OPENIDV_DATA_DIR": str(self.root / f"web{i + 1}")}
        if not self.with_worker and i > 0:
            env["OPENIDV_OUTBOX_WORKER"] = "false"  # in-process mode: one process delivers the outbox
        args = [
            sys.executable,
            "-m",
            "openidv.cli",
            "serve",
            "--port",
            str(self.web_ports[i]),
            "--log-level",
            "warning",
        ]
        return started(spawn(f"web{i + 1}", args, env, self.root / "logs"), f"{self.web_url(i)}/readyz")

    def start_worker(self) -> Managed:
        env = self.env | {"OPENIDV_DATA_DIR": str(self.root / "worker")}
        args = [sys.executable, "-m", "openidv.cli", "worker", "--concurrency", "1"]
        proc = spawn(f"worker{len(self.workers) + 1}", args, env, self.root / "logs")
        self.workers.append(proc)
        return proc

    def start_haproxy(self) -> Managed:
        env = os.environ | {"OPENIDV_LB_BIND": f"127.0.0.1:{self.lb_port}"}
        env |= {f"OPENIDV_WEB{i + 1}": f"127.0.0.1:{port}" for i, port in enumerate(self.web_ports)}
        check = subprocess.run([haproxy_binary(), "-c", "-f", str(HAPROXY_CONFIG)], env=env, capture_output=True)
        if check.returncode != 0:
            raise ClusterUnavailableError(f"deploy/haproxy.cfg refused: {check.stderr.decode()[-500:]}")
        proc = spawn("haproxy", [haproxy_binary(), "-db", "-f", str(HAPROXY_CONFIG)], env, self.root / "logs")
        return started(proc, f"{self.url}/healthz")


def started(proc: Managed, url: str) -> Managed:
    """``proc`` once ``url`` answers 200; killed when it does not come up."""
    try:
        wait_http(url, proc)
    except ClusterUnavailableError:
        proc.kill()
        raise
    return proc


def wait_http(url: str, proc: Managed, timeout_s: float = START_TIMEOUT_S) -> None:
    """Wait until ``url`` answers 200 while ``proc`` runs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.alive():
            raise ClusterUnavailableError(f"{proc.name} exited: {proc.tail()}")
        try:
            if httpx.get(url, timeout=5.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise ClusterUnavailableError(f"{proc.name} not ready after {timeout_s:.0f} s: {proc.tail()}")


def service_env(root: Path, database_url: str, s3: object, lb_port: int, with_worker: bool) -> dict[str, str]:
    """The settings of every openidv process: production mode, one key file, PostgreSQL, the S3 bucket."""
    from openidv.service.crypto import KeyRing

    key_file = root / "master.key"
    KeyRing.generate_file(key_file, "k1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENIDV_")}
    env |= {
        "OPENIDV_ENVIRONMENT": "production",
        "OPENIDV_KEY_FILE": str(key_file),
        "OPENIDV_DATABASE_URL": database_url,
        "OPENIDV_BLOB_BACKEND": "s3",
        "OPENIDV_S3_BUCKET": s3.bucket,  # type: ignore[attr-defined]
        "OPENIDV_S3_ENDPOINT_URL": s3.endpoint_url,  # type: ignore[attr-defined]
        "OPENIDV_S3_ACCESS_KEY_ID": s3.access_key,  # type: ignore[attr-defined]
        "OPENIDV_S3_SECRET_ACCESS_KEY": s3.secret_key,  # type: ignore[attr-defined]
        "OPENIDV_S3_PREFIX": "scale/",
        "OPENIDV_PUBLIC_URL": f"http://127.0.0.1:{lb_port}",
        "OPENIDV_CHALLENGE_SEED": str(CHALLENGE_SEED),
        "OPENIDV_ONNX_THREADS": "1",
        # every simulated applicant comes from 127.0.0.1: the per-address limits would refuse them
        "OPENIDV_RATE_START": "100000/minute",
        # 8 applicants can end up on one process once the other died: room for their sessions
        "OPENIDV_LIVENESS_MEMORY_BUDGET": str(2 * 1024**3),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p),
    }
    if with_worker:
        env["OPENIDV_JOB_QUEUE"] = "procrastinate"
    return env


@contextmanager
def cluster(n_web: int = 2, *, worker: bool | None = None) -> Iterator[Cluster]:
    """Start everything (web processes one after the other: the first migrates the database); stop it all at exit.

    ``worker``: None runs a worker when this version has ``openidv worker``.
    """
    haproxy_binary()
    with_worker = has_worker_command() if worker is None else worker
    root = Path(tempfile.mkdtemp(prefix="openidv-scale-"))
    (root / "logs").mkdir()
    try:
        with ExitStack() as stack:
            yield from _run(stack, root, n_web, with_worker)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(stack: ExitStack, root: Path, n_web: int, with_worker: bool) -> Iterator[Cluster]:
    """Start the servers on ``stack``; yields the cluster; stops the openidv processes and HAProxy after."""
    database_url = stack.enter_context(postgres_server())
    s3 = stack.enter_context(seaweed_server())
    lb_port = _free_port()
    env = service_env(root, database_url, s3, lb_port, with_worker)
    c = Cluster(root, env, [_free_port() for _ in range(n_web)], lb_port, with_worker)
    try:
        for i in range(n_web):
            c.web.append(c.start_web(i))
        if with_worker:
            c.start_worker()
        c.haproxy = c.start_haproxy()
        yield c
    except BaseException:
        for proc in [*c.web, *c.workers]:
            print(f"--- {proc.name} (log tail)\n{proc.tail()}", file=sys.stderr)
        raise
    finally:
        for proc in [*c.web, *c.workers, *([c.haproxy] if c.haproxy else [])]:
            proc.kill(signal.SIGTERM)
