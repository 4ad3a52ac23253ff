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
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class CryptoError(Exception):
    """A key is missing or a ciphertext fails authentication."""


@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    wrapped: bytes


class KeyRing:
    """Master keys by id; the last added is current."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise CryptoError("the key ring is empty")
        self._keys: dict[str, bytes] = {}
        for key_id, key in keys:
            if not _KEY_ID.match(key_id):
                raise CryptoError(f"bad key id {key_id!r}")
            if len(key) != KEY_BYTES:
                raise CryptoError(f"master key {key_id!r} must be {KEY_BYTES} bytes, got {len(key)}")
            self._keys[key_id] = key
        self.current_id = keys[-1][0]

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        """Read ``key_id:base64key`` lines (``#`` comments and blank lines ignored)."""
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
        return cls(keys)

    @staticmethod
    def generate_file(path: Path, key_id: str = "dev1") -> None:
        """Write a new key file with one random key, readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("# openidv master keys: key_id:base64(32 bytes); the last line is current\n" + line)

    def wrap(self, data_key: bytes, case_id: str) -> WrappedKey:
        nonce = secrets.token_bytes(NONCE_BYTES)
        ct = AESGCM(self._keys[self.current_id]).encrypt(nonce, data_key, _dek_aad(case_id))
        return WrappedKey(self.current_id, nonce + ct)

    def unwrap(self, wrapped: WrappedKey, case_id: str) -> bytes:
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


def load_key_ring(key_file: Path | None, data_dir: Path) -> KeyRing:
    """The configured key ring, or a development key in ``data_dir`` (generated on first use, with a warning)."""
    if key_file is not None:
        return KeyRing.from_file(key_file)
    dev = data_dir / "dev-master.key"
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
