"""Encrypted blob storage: the interface, and the default on the local file system.

:class:`BlobBackend` is what the use cases see. :class:`BlobStore` keeps
``<root>/<case_id>/<blob_id>.bin`` (the default); :class:`openidv.service.s3store.S3BlobStore`
keeps ``<prefix><case_id>/<blob_id>.bin`` in an S3 bucket (``OPENIDV_BLOB_BACKEND=s3``).
Only ciphertext reaches either (see :mod:`openidv.service.crypto`). The caller writes the
object before its ``blobs`` row, so a crash leaves at worst an orphaned object, never a row
without one. Files are written to a temporary name and renamed, so a crash never leaves a
half-written blob under its final name.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobStoreUnavailableError(RuntimeError):
    """The blob store cannot be reached or used (readiness check, or an S3 call that failed)."""


def well_formed(case_id: str, blob_id: str | None = None) -> bool:
    """Whether the ids are 32 lower-case hex digits (they become paths and object keys)."""
    return bool(_ID.match(case_id)) and (blob_id is None or bool(_ID.match(blob_id)))


def check_ids(case_id: str, blob_id: str | None = None) -> None:
    """``ValueError`` unless the ids are well formed (:func:`well_formed`)."""
    if not well_formed(case_id, blob_id):
        raise ValueError("malformed case or blob id")


@dataclass(frozen=True)
class StoredObject:
    """One stored blob object: its ids and when it was last written (UTC)."""

    case_id: str
    blob_id: str
    modified_at: datetime


class BlobBackend(Protocol):
    """Ciphertext by (case id, blob id). ``get`` of a missing blob raises ``FileNotFoundError``."""

    def put(self, case_id: str, blob_id: str, ciphertext: bytes) -> None: ...

    def get(self, case_id: str, blob_id: str) -> bytes: ...

    def delete(self, case_id: str, blob_id: str) -> None: ...

    def delete_case(self, case_id: str) -> None: ...

    def check(self) -> None:
        """Raise :class:`BlobStoreUnavailableError` unless blobs can be written and read now."""

    def objects(self) -> Iterator[StoredObject]:
        """Every blob object stored, in no particular order (the orphan sweep reads it)."""
        ...


class BlobStore:
    """The local folder backend (the default)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, case_id: str, blob_id: str) -> Path:
        check_ids(case_id, blob_id)
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
        check_ids(case_id)
        shutil.rmtree(self.root / case_id, ignore_errors=True)

    def objects(self) -> Iterator[StoredObject]:
        """``<root>/<case>/<blob>.bin`` files (temporary files of writes under way are skipped)."""
        for case_dir in self.root.iterdir():
            if not (case_dir.is_dir() and _ID.match(case_dir.name)):
                continue
            for path in case_dir.glob("*.bin"):
                if _ID.match(path.stem):
                    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    yield StoredObject(case_dir.name, path.stem, modified)

    def check(self) -> None:
        if not (self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)):
            raise BlobStoreUnavailableError(f"blob folder {self.root} is missing or not writable")
