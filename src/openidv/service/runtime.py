"""Process-local state the service keeps between requests, and the calls into the engines.

* Liveness sessions live in memory (a :class:`~openidv.liveness.session.LivenessSession`
  holds the face tracker and the frames so far), one per case, each behind its own lock.
  The service therefore runs as one worker process; a session is lost on restart and the
  applicant simply starts the liveness step again.
* Document side analyses are cached by blob id so that the report built when the last
  side arrives does not analyse the sides again; after a restart they are recomputed from
  the encrypted blobs.

Nothing here is written to disk; face embeddings exist only inside ``face.matching``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from openidv.document.engine import SideAnalysis
from openidv.liveness.session import LivenessSession

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._items.pop(key, None)


#: memory of a liveness session besides its frames, bytes: the face tracker (mediapipe face mesh,
#: ~29 MB measured per instance) and up to three pinned decoded frames (<= 3.7 MB each at 1280 x 960)
SESSION_OVERHEAD_BYTES = 40 * 1024 * 1024


class MemoryBudgetError(Exception):
    """The open liveness sessions' reservations leave no room for another session."""

    def __init__(self, in_use: int, budget: int, retry_after_s: int) -> None:
        super().__init__(f"liveness sessions hold {in_use} of {budget} bytes")
        self.in_use = in_use
        self.budget = budget
        self.retry_after_s = retry_after_s  #: until the first open session expires, seconds


@dataclass
class LiveEntry:
    session: LivenessSession
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.time)
    reserved: int = 0  #: bytes of the shared budget held for this session
    frames_received: int = 0  #: frames sent to this session, refused ones included


class Runtime:
    """Caches and liveness sessions of this process."""

    def __init__(self, side_cache_size: int = 64) -> None:
        self.sides: LruCache[str, SideAnalysis] = LruCache(side_cache_size)
        self._live: dict[str, LiveEntry] = {}
        self._lock = threading.Lock()

    def reserved_bytes(self) -> int:
        """Bytes of the liveness memory budget held by the open sessions."""
        with self._lock:
            return sum(e.reserved for e in self._live.values())

    def start_liveness(
        self, case_id: str, session: LivenessSession, *, reserve: int = 0, budget: int | None = None
    ) -> LiveEntry:
        """Register ``session`` for ``case_id`` (replacing the case's earlier one), holding ``reserve``
        bytes of the shared ``budget``; raises :class:`MemoryBudgetError` when they do not fit."""
        entry = LiveEntry(session, reserved=reserve)
        with self._lock:
            in_use = sum(e.reserved for k, e in self._live.items() if k != case_id)
            if budget is not None and in_use + reserve > budget:
                first_expiry = min((e.session.expires_at for e in self._live.values()), default=time.time())
                raise MemoryBudgetError(in_use, budget, max(1, math.ceil(first_expiry - time.time())))
            old = self._live.pop(case_id, None)
            self._live[case_id] = entry
        if old is not None:
            old.session.close()
        return entry

    def liveness(self, case_id: str) -> LiveEntry | None:
        with self._lock:
            return self._live.get(case_id)

    def end_liveness(self, case_id: str) -> None:
        with self._lock:
            entry = self._live.pop(case_id, None)
        if entry is not None:
            entry.session.close()

    def drop_expired(self, now: float, grace_s: float = 60.0) -> int:
        """Forget liveness sessions ``grace_s`` past their expiry; returns how many were dropped."""
        with self._lock:
            dead = [k for k, e in self._live.items() if now > e.session.expires_at + grace_s]
            entries = [self._live.pop(k) for k in dead]
        for e in entries:
            e.session.close()
        return len(entries)
