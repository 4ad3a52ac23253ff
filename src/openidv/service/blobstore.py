"""Encrypted blob storage on the local file system: ``<root>/<case_id>/<blob_id>.bin``.

Only ciphertext reaches the disk (see :mod:`openidv.service.crypto`). Files are written
to a temporary name and renamed, so a crash never leaves a half-written blob under its
final name.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, case_id: str, blob_id: str) -> Path:
        if not (_ID.match(case_id) and _ID.match(blob_id)):
            raise ValueError("malformed case or blob id")
        return self.root / case_id / f"{blob_id}.bin"

    def put(self, case_id: str, blob_id: str, ciphertext: bytes) -> None:
        path = self._path(case_id, blob_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(ciphertext)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def get(self, case_id: str, blob_id: str) -> bytes:
        return self._path(case_id, blob_id).read_bytes()

    def delete(self, case_id: str, blob_id: str) -> None:
        self._path(case_id, blob_id).unlink(missing_ok=True)

    def delete_case(self, case_id: str) -> None:
        if not _ID.match(case_id):
            raise ValueError("malformed case id")
        shutil.rmtree(self.root / case_id, ignore_errors=True)
