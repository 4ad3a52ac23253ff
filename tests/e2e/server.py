"""The real service, in-process, on a free localhost port (uvicorn in a thread)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI


class LiveServer:
    """Serve ``app`` on ``127.0.0.1`` at a port the OS picks; use as a context manager.

    The listening socket is bound before the server starts, so there is no race for
    the port; :attr:`base_url` is ``http://127.0.0.1:<port>``.
    """

    def __init__(self, app: FastAPI, *, start_timeout_s: float = 60.0) -> None:
        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        settings = getattr(app.state, "settings", None)
        if settings is not None:  # the service builds its links from OPENIDV_PUBLIC_URL: its own address here
            settings.public_url = self.base_url
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        self._start_timeout_s = start_timeout_s

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.05)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()


@contextmanager
def serve_service(data_dir: Path, **settings: Any) -> Iterator[LiveServer]:
    """The whole service as a seller meets it (models warmed, SQLite and blobs in ``data_dir``,
    a development key), with ``settings`` overriding :class:`ServiceSettings` fields."""
    from openidv.service.app import create_app
    from openidv.service.settings import ServiceSettings

    config = ServiceSettings(
        **{
            "environment": "development",
            "data_dir": data_dir,
            "database_url": "",
            "key_file": None,
            "warm_models": True,
            **settings,
        }
    )
    with LiveServer(create_app(config)) as server:
        yield server
