"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, pg_ctl start, drop at exit.

Uses Debian's server binaries (``/usr/lib/postgresql/<v>/bin``, installed by ``make test``).
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresUnavailableError(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    if which:
        return Path(which).parent
    raise PostgresUnavailableError("PostgreSQL server binaries not found (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yields a SQLAlchemy URL of an empty database on 127.0.0.1."""
    bindir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="openidv-pg-"))
    datadir, port = root / "data", _free_port()
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        if shutil.which("runuser") is None:
            raise PostgresUnavailableError("running as root and runuser is missing")
        shutil.chown(root, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False)

    r = run(str(bindir / "initdb"), "-D", str(datadir), "-U", "openidv", "-A", "trust", "-E", "UTF8", "--no-sync")
    if r.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailableError(f"initdb failed: {r.stderr.strip()[-300:]}")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    r = run(str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(root / "log"), "-w", "start")
    if r.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailableError(f"pg_ctl start failed: {r.stderr.strip()[-300:]}")
    try:
        deadline = time.time() + 20
        while True:
            r = run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "openidv", "openidv_test")
            if r.returncode == 0:
                break
            if time.time() > deadline:
                raise PostgresUnavailableError(f"createdb failed: {r.stderr.strip()[-300:]}")
            time.sleep(0.3)
        yield f"postgresql+psycopg://openidv@127.0.0.1:{port}/openidv_test"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
