"""What a storage keeps for retention: entry sizes and times, a usage estimate, a read log.

:class:`EntryStats` describes one entry; :class:`StorageUsage` estimates a store's entries
and bytes in memory; :class:`AccessLog` batches recorded reads; :func:`lru_victims` picks
what least-recently-used eviction deletes; :func:`stored_number` reads untrusted metadata.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import NamedTuple, TypeVar

__all__ = [
    "ACCESS_LOG_DELAY",
    "ACCESS_LOG_LIMIT",
    "AccessLog",
    "EntryStats",
    "StorageUsage",
    "UsageSnapshot",
    "lru_victims",
    "stored_number",
]

T = TypeVar("T")


#: Recorded reads a storage keeps in memory before it writes them out, even without a write.
ACCESS_LOG_LIMIT = 1024


#: Seconds after which recorded reads are written out at the next read, even without a write.
ACCESS_LOG_DELAY = 30.0


class EntryStats(NamedTuple):
    """One entry as retention sees it: key, size in bytes, and times in epoch seconds.

    `created` is when the value was written and `accessed` when it was last read or
    written; either is None when the storage does not know it.
    """

    key: str
    size: int
    created: float | None
    accessed: float | None


class UsageSnapshot(NamedTuple):
    """A consistent reading of a :class:`StorageUsage`."""

    entries: int
    bytes: int
    writes: int
    counted_at: float | None


class StorageUsage:
    """An estimate, in memory, of how many entries and bytes a storage holds.

    Exact after each :meth:`BaseStorage.evict`, which counts the store (``counted``). Between
    counts it moves with the writes this object hears of: the built-in storages report each
    write (``wrote``) while :attr:`BaseStorage.track_access` is on, and
    :meth:`vaultcache.retention.Retention.after_write` counts a write the storage did not
    report as one new entry of average size (``tick``). Writes by other processes are not
    seen until the next count, and deletes are not subtracted, so between counts the figure
    may be low by other processes' writes and high by deletes; retention only uses it to
    decide when to count and evict, never what to evict.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries = 0
        self._bytes = 0
        self._writes = 0  # writes since the last count
        self._counted_at: float | None = None
        self._unticked = 0  # writes reported by the storage and not yet ticked

    def wrote(self, size: int, replaced: int | None = None) -> None:
        """Count a write of `size` bytes; `replaced` is the size it overwrote, None if new."""
        with self._lock:
            if replaced is None:
                self._entries += 1
            self._bytes += size - (replaced or 0)
            self._writes += 1
            self._unticked += 1

    def resized(self, delta: int) -> None:
        """Count an entry that changed size in place by `delta` bytes (a replace)."""
        with self._lock:
            self._bytes += delta

    def tick(self) -> None:
        """Count one write made through the cache, unless the storage already reported it."""
        with self._lock:
            if self._unticked:
                self._unticked -= 1
                return
            mean = self._bytes // self._entries if self._entries > 0 else 0
            self._entries += 1
            self._bytes += mean
            self._writes += 1

    def counted(self, entries: int, size: int, now: float) -> None:
        """Set the exact figures, counted from the store at epoch time `now`."""
        with self._lock:
            self._entries = entries
            self._bytes = size
            self._writes = 0
            self._counted_at = now

    def cleared(self) -> None:
        """Every entry was just deleted."""
        with self._lock:
            self._entries = 0
            self._bytes = 0

    def snapshot(self) -> UsageSnapshot:
        """The current estimate."""
        with self._lock:
            return UsageSnapshot(self._entries, self._bytes, self._writes, self._counted_at)

    def __repr__(self) -> str:
        entries, size, writes, _ = self.snapshot()
        return f"<StorageUsage ~{entries} entries, ~{size} bytes, {writes} writes since count>"


class AccessLog:
    """Reads recorded in memory (key -> epoch time), until a storage writes them in one batch.

    :meth:`note` is what the hit path pays: a clock read and a dict store under a lock.
    """

    def __init__(self, limit: int = ACCESS_LOG_LIMIT, delay: float = ACCESS_LOG_DELAY) -> None:
        self.limit = limit
        self.delay = delay
        self._lock = threading.Lock()
        self._times: dict[str, float] = {}
        self._since = 0.0  # when the oldest unwritten read was noted
        _ACCESS_LOGS.add(self)

    def note(self, key: str) -> bool:
        """Record a read of `key` now; True when the log is due to be written out."""
        now = time.time()
        with self._lock:
            times = self._times
            if not times:
                self._since = now
            times[key] = now
            return len(times) >= self.limit or now - self._since >= self.delay

    def take(self) -> dict[str, float]:
        """Every recorded read, removed from the log."""
        with self._lock:
            times, self._times = self._times, {}
        return times

    def restore(self, times: Mapping[str, float]) -> None:
        """Put back reads that could not be written out (the later time of a key wins)."""
        with self._lock:
            current = self._times
            if not current:
                self._since = time.time()
            for key, when in times.items():
                if current.get(key, 0.0) < when:
                    current[key] = when

    def get(self, key: str) -> float | None:
        """When `key` was last read, if that is still in the log."""
        return self._times.get(key)

    def __len__(self) -> int:
        return len(self._times)

    def _after_fork(self) -> None:
        # Another thread may have held the lock when the process forked.
        self._lock = threading.Lock()


_ACCESS_LOGS: weakref.WeakSet[AccessLog] = weakref.WeakSet()


def _reset_access_logs_after_fork() -> None:
    for log in list(_ACCESS_LOGS):
        log._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_access_logs_after_fork)


def lru_victims(
    oldest_first: Iterable[tuple[T, int]],
    *,
    entries: int,
    size: int,
    max_entries: int | None,
    max_bytes: int | None,
    slack: float = 0.0,
) -> tuple[list[T], int, int]:
    """Which entries to evict, walking (id, size) pairs from the least recently used.

    `entries` and `size` are the current totals. Nothing is chosen unless a bound is
    exceeded; then entries go until the total is at most the bound less `slack` (a fraction)
    of it. Returns the chosen ids and the totals that remain. Stops reading `oldest_first`
    as soon as it is within bounds, so it may be a lazy database cursor.
    """
    keep_entries = _target(entries, max_entries, slack)
    keep_bytes = _target(size, max_bytes, slack)
    victims: list[T] = []
    if keep_entries is None and keep_bytes is None:
        return victims, entries, size
    for ident, item_size in oldest_first:
        if (keep_entries is None or entries <= keep_entries) and (
            keep_bytes is None or size <= keep_bytes
        ):
            break
        victims.append(ident)
        entries -= 1
        size -= item_size
    return victims, entries, size


def stored_number(value: object) -> float | None:
    """A size or time read from a store's metadata; None when it is not a finite number.

    Metadata is not authenticated: someone who can write the store can put text, NULL or a
    huge value there, which must make it unknown, never an exception for the caller.
    """
    if isinstance(value, bytes | bytearray | str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _target(amount: int, bound: int | None, slack: float) -> int | None:
    if bound is None or amount <= bound:
        return None
    return bound - int(bound * slack)
