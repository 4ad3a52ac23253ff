"""The short run of the load and fault test (``make test-scale`` runs the full one).

``bench/scale_test.py`` for 60 s with 4 applicants at a time, the web process killed at 20 s and
the worker at 30 s: every applicant completes (a liveness restart allowed), no 5xx, no lost case,
every blob decrypts, the case killed mid-analysis recovers. The latencies are printed, not
checked: on a shared test machine they say more about the neighbours than about the service.
Needs HAProxy, PostgreSQL and SeaweedFS; skipped, saying which, when one is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scale.cluster import ClusterUnavailableError, haproxy_binary
from tests.service.pg import PostgresUnavailableError, _bin_dir
from tests.service.seaweed import SeaweedUnavailableError, weed_binary

REPO = Path(__file__).resolve().parents[2]
#: the short run's settings (the full run: make test-scale SCALE_DURATION=180 SCALE_APPLICANTS=8)
SHORT_RUN = ["--duration", "60", "--concurrency", "4", "--kill-web-at", "20", "--kill-worker-at", "30"]

pytestmark = pytest.mark.scale


def test_applicants_complete_through_haproxy_while_a_web_process_and_the_worker_are_killed() -> None:
    try:
        haproxy_binary()
        _bin_dir()
        weed_binary()
    except (ClusterUnavailableError, PostgresUnavailableError, SeaweedUnavailableError) as exc:
        pytest.skip(f"scale test skipped: {exc}")
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "scale_test.py"), *SHORT_RUN, "--no-latency-targets"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=1200,
        check=False,
    )
    if run.returncode == 2:
        pytest.skip(f"scale test skipped: {run.stderr.strip().splitlines()[-1]}")
    lines = run.stdout.strip().splitlines()
    assert lines, run.stderr[-3000:]
    result = json.loads(lines[-1])
    print(json.dumps(result))
    assert run.returncode == 0 and result["targets_missed"] == [], (result, run.stderr[-3000:])
    assert result["applicants"] >= 4 and result["completed"] == result["applicants"]
