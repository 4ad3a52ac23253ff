"""Pin a benchmark to one core (before numpy and the ONNX runtime are imported).

Import it first in a bench script (``import _pin``): it re-executes the script under
``taskset -c 0`` once (skipped with ``--no-pin`` or without taskset) and sets one thread
for ONNX Runtime and OpenMP.
"""

from __future__ import annotations

import os
import shutil
import sys


def pin_one_core() -> None:
    os.environ.setdefault("OPENIDV_ONNX_THREADS", "1")  # inherited by the re-executed process
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if "--no-pin" not in sys.argv and os.environ.get("_OPENIDV_PINNED") != "1" and shutil.which("taskset"):
        os.environ["_OPENIDV_PINNED"] = "1"
        os.execvp("taskset", ["taskset", "-c", "0", sys.executable, *sys.argv])


pin_one_core()
