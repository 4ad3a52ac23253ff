"""Envelope encryption: AES-256-GCM blobs under per-case data keys wrapped by master keys.

* A **master key** (32 bytes) is identified by a short ``key_id``. The key ring holds all
  master keys still needed to unwrap old data keys; the last one is current and wraps new
  ones. A KMS can replace :class:`KeyRing` behind the same two calls (``wrap``/``unwrap``).
* A **data key** (32 bytes, random) is made per case and stored only wrapped:
  ``nonce(12) || AES-GCM(master, data_key, aad="openidv:dek:" + case_id)``.
* A **blob** is ``nonce(12) || AES-GCM(data_key, plaintext, aad)`` with
  ``aad = "openidv:blob:" + case_id + ":" + kind + ":" + blob_id``, so a blob moved to another case,
  kind or record fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class CryptoError(Exception):
    """A key is missing or a ciphertext fails authentication."""


class KeyFileRequiredError(CryptoError):
    """Outside development the service does not start without ``OPENIDV_KEY_FILE``."""

    def __init__(self) -> None:
        super().__init__(
            "OPENIDV_KEY_FILE is not set. Outside development the master key must be kept apart from the data: "
            "make one with `openidv keys generate /path/outside/the/data/master.key` (readable by the service "
            "only), then set OPENIDV_KEY_FILE=/path/outside/the/data/master.key. For development only, set "
            "OPENIDV_ENVIRONMENT=development (as `make run` does) to use a generated key next to the data."
        )


@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    wrapped: bytes


def _checked(keys: list[tuple[str, bytes]]) -> dict[str, bytes]:
    if not keys:
        raise CryptoError("the key ring is empty")
    out: dict[str, bytes] = {}
    for key_id, key in keys:
        if not _KEY_ID.match(key_id):
            raise CryptoError(f"bad key id {key_id!r}")
        if len(key) != KEY_BYTES:
            raise CryptoError(f"master key {key_id!r} must be {KEY_BYTES} bytes, got {len(key)}")
        out[key_id] = key
    return out


def _file_stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


class KeyRing:
    """Master keys by id; the last added is current.

    A ring read from a file follows it: when the file changes (``openidv keys rotate`` appended
    a key while the service runs), the next :meth:`wrap` uses the new current key and
    :meth:`unwrap` finds the new key id.
    """

    def __init__(self, keys: list[tuple[str, bytes]], source: Path | None = None) -> None:
        self._keys = _checked(keys)
        self.current_id = keys[-1][0]
        self.source = source
        self._stamp = _file_stamp(source) if source is not None else None
        self._lock = threading.Lock()

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def refresh(self) -> bool:
        """Re-read the key file if it changed since it was read; True when it did."""
        if self.source is None:
            return False
        with self._lock:
            stamp = _file_stamp(self.source)
            if stamp == self._stamp:
                return False
            keys = _read_keys(self.source)
            self._keys, self.current_id, self._stamp = _checked(keys), keys[-1][0], stamp
            log.info("master key file %s re-read: current key %s", self.source, self.current_id)
            return True

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        """Read ``key_id:base64key`` lines (``#`` comments and blank lines ignored)."""
        return cls(_read_keys(path), source=path)

    @staticmethod
    def append_key(path: Path, key_id: str | None = None) -> str:
        """Add a new random key to the key file as the current one (atomic rename, mode 0600); returns its id."""
        key_id = key_id or "k" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        if not _KEY_ID.match(key_id):
            raise CryptoError(f"bad key id {key_id!r}")
        if key_id in dict(_read_keys(path)):
            raise CryptoError(f"the key file already has a key {key_id!r}")
        text = path.read_text()
        text += (
            "" if text.endswith("\n") else "\n"
        ) + f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}\n"
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return key_id

    @staticmethod
    def generate_file(path: Path, key_id: str = "dev1") -> None:
        """Write a new key file with one random key, readable by the owner only (never overwrites one)."""
        if not _KEY_ID.match(key_id):
            raise CryptoError(f"bad key id {key_id!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("# openidv master keys: key_id:base64(32 bytes); the last line is current\n" + line)

    def wrap(self, data_key: bytes, case_id: str) -> WrappedKey:
        self.refresh()
        nonce = secrets.token_bytes(NONCE_BYTES)
        ct = AESGCM(self._keys[self.current_id]).encrypt(nonce, data_key, _dek_aad(case_id))
        return WrappedKey(self.current_id, nonce + ct)

    def unwrap(self, wrapped: WrappedKey, case_id: str) -> bytes:
        key = self._keys.get(wrapped.key_id)
        if key is None and self.refresh():
            key = self._keys.get(wrapped.key_id)
        if key is None:
            raise CryptoError(f"master key {wrapped.key_id!r} is not in the key ring")
        try:
            return AESGCM(key).decrypt(wrapped.wrapped[:NONCE_BYTES], wrapped.wrapped[NONCE_BYTES:], _dek_aad(case_id))
        except InvalidTag as exc:
            raise CryptoError("data key failed authentication") from exc

    def derived_keys(self, label: bytes) -> dict[str, bytes]:
        """A 32-byte key per master key for one purpose: HMAC-SHA256(master key, ``label``), current last."""
        keys = {k: hmac.new(v, label, hashlib.sha256).digest() for k, v in self._keys.items() if k != self.current_id}
        keys[self.current_id] = hmac.new(self._keys[self.current_id], label, hashlib.sha256).digest()
        return keys


def _read_keys(path: Path) -> list[tuple[str, bytes]]:
    """``(key_id, key)`` from ``key_id:base64key`` lines (``#`` comments and blank lines ignored)."""
    keys: list[tuple[str, bytes]] = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, sep, b64 = line.partition(":")
        if not sep:
            raise CryptoError(f"{path}:{n}: expected key_id:base64key")
        try:
            keys.append((key_id.strip(), base64.b64decode(b64.strip(), validate=True)))
        except ValueError as exc:
            raise CryptoError(f"{path}:{n}: key is not base64") from exc
    return keys


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _dek_aad(case_id: str) -> bytes:
    return f"openidv:dek:{case_id}".encode()


def blob_aad(case_id: str, kind: str, blob_id: str) -> bytes:
    return f"openidv:blob:{case_id}:{kind}:{blob_id}".encode()


def encrypt(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def decrypt(data_key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise CryptoError("ciphertext too short")
    try:
        return AESGCM(data_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise CryptoError("blob failed authentication (wrong key, case, kind or record)") from exc


def development_key_file(data_dir: Path) -> Path:
    return data_dir / "dev-master.key"


def load_key_ring(key_file: Path | None, data_dir: Path, *, development: bool = False) -> KeyRing:
    """The configured key ring; in development only, a key in ``data_dir`` (generated on first use, with a warning).

    Raises :class:`KeyFileRequiredError` (which says how to make a key) when ``key_file`` is None
    outside development.
    """
    if key_file is not None:
        return KeyRing.from_file(key_file)
    if not development:
        raise KeyFileRequiredError()
    dev = development_key_file(data_dir)
    if not dev.exists():
        KeyRing.generate_file(dev)
    log.warning(
        "\n%s\nUSING A DEVELOPMENT MASTER KEY (%s). Images are encrypted with a key stored next to them.\n"
        "Set OPENIDV_KEY_FILE to a key kept elsewhere (or a KMS) before real use.\n%s",
        "!" * 78,
        dev,
        "!" * 78,
    )
    return KeyRing.from_file(dev)
