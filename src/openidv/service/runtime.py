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


@dataclass
class LiveEntry:
    session: LivenessSession
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.time)


class Runtime:
    """Caches and liveness sessions of this process."""

    def __init__(self, side_cache_size: int = 64) -> None:
        self.sides: LruCache[str, SideAnalysis] = LruCache(side_cache_size)
        self._live: dict[str, LiveEntry] = {}
        self._lock = threading.Lock()

    def start_liveness(self, case_id: str, session: LivenessSession) -> LiveEntry:
        entry = LiveEntry(session)
        with self._lock:
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

    def drop_expired(self, now: float) -> int:
        """Forget liveness sessions past their expiry; returns how many were dropped."""
        with self._lock:
            dead = [k for k, e in self._live.items() if now > e.session.expires_at + 60]
            entries = [self._live.pop(k) for k in dead]
        for e in entries:
            e.session.close()
        return len(entries)
