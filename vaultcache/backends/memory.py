"""MemoryStorage: a dict behind a lock, for tests and short-lived processes."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import timedelta

from vaultcache.backends.base import BaseStorage
from vaultcache.backends.usage import EntryStats, lru_victims

__all__ = ["MemoryStorage"]


class MemoryStorage(BaseStorage):
    """Entries in a dict in this process; lost when the process exits.

    The dict is kept in least-recently-used order (reads move an entry to the end while
    :attr:`track_access` is on), so eviction takes entries from its front.
    """

    def __init__(self) -> None:
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._created: dict[str, float] = {}
        self._accessed: dict[str, float] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> bytes:
        with self._lock:
            value = self._data[key]
            if self.track_access:
                self._data.move_to_end(key)
                self._accessed[key] = time.time()
            return value

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_item(key, value)
        now = time.time()
        with self._lock:
            old = self._data.get(key)
            self._data[key] = value
            self._data.move_to_end(key)
            self._created[key] = self._accessed[key] = now
            self._bytes += len(value) - (0 if old is None else len(old))
            if self.track_access:
                self.usage.wrote(len(value), None if old is None else len(old))

    def __delitem__(self, key: str) -> None:
        with self._lock:
            self._pop(key)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __iter__(self) -> Iterator[str]:
        # A snapshot, so other threads may write while the caller iterates.
        with self._lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def bulk_delete(self, keys: Iterable[str]) -> int:
        """Delete every key in `keys` that is present; return how many were deleted."""
        doomed = list(keys)
        with self._lock:
            return sum(1 for key in doomed if key in self._data and self._pop(key) is not None)

    def clear(self) -> None:
        """Delete every entry."""
        with self._lock:
            self._data.clear()
            self._created.clear()
            self._accessed.clear()
            self._bytes = 0
        self.usage.cleared()

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        with self._lock:
            value = self._data.get(key)
        return None if value is None else len(value)

    def replace(self, key: str, expected: bytes, new: bytes) -> bool:
        """Store `new` under `key` only if it still holds exactly `expected` (under the lock)."""
        self._check_item(key, new)
        if not isinstance(expected, bytes):
            raise TypeError(f"expected values must be bytes, not {type(expected).__name__}")
        with self._lock:
            if self._data.get(key) != expected:
                return False
            self._data[key] = new  # keeps its place: re-encrypting is not a use
            self._bytes += len(new) - len(expected)
        if self.track_access:
            self.usage.resized(len(new) - len(expected))
        return True

    # -- retention ----------------------------------------------------------------------------

    def note_access(self, key: str) -> None:
        """Move `key` to the most recently used end (reads do this themselves)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self._accessed[key] = time.time()

    def entry_stats(self) -> Iterator[EntryStats]:
        """Every entry's key, size and times, least recently used first."""
        with self._lock:
            stats = [
                EntryStats(key, len(value), self._created[key], self._accessed[key])
                for key, value in self._data.items()
            ]
        return iter(stats)

    def evict(
        self,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        max_age: timedelta | None = None,
        now: float | None = None,
        slack: float = 0.0,
    ) -> int:
        """Delete entries older than `max_age`, then the least recently used (see BaseStorage)."""
        now = time.time() if now is None else now
        with self._lock:
            deleted = 0
            if max_age is not None:
                cutoff = now - max_age.total_seconds()
                for key in [key for key, created in self._created.items() if created < cutoff]:
                    self._pop(key)
                    deleted += 1
            victims, entries, size = lru_victims(
                ((key, len(value)) for key, value in self._data.items()),
                entries=len(self._data),
                size=self._bytes,
                max_entries=max_entries,
                max_bytes=max_bytes,
                slack=slack,
            )
            for key in victims:
                self._pop(key)
            self.usage.counted(entries, size, now)
        return deleted + len(victims)

    def _pop(self, key: str) -> bytes:
        """Remove `key` (KeyError if absent); the caller holds the lock."""
        value = self._data.pop(key)
        del self._created[key], self._accessed[key]
        self._bytes -= len(value)
        return value

    def __repr__(self) -> str:
        return f"<MemoryStorage: {len(self)} entries>"
