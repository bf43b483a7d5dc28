"""BaseStorage, the byte-storage contract every backend implements.

A storage maps ``str`` keys to ``bytes`` values and knows nothing else: the cache above it
turns responses into bytes and back. Storages must be safe to use from several threads;
built-in persistent ones are also safe across processes.

Beyond the mapping, a storage serves :class:`vaultcache.retention.Retention` through a small
protocol with working defaults, so third-party storages need not implement it:

- :attr:`BaseStorage.track_access` is switched on by retention; then ``__getitem__`` calls
  :meth:`BaseStorage.note_access`, which must stay cheap (it runs on every cache hit).
- :meth:`BaseStorage.entry_stats` lists each entry's size and times;
  :meth:`BaseStorage.evict` deletes old and least recently used entries;
  :attr:`BaseStorage.usage` is an in-memory estimate of entries and bytes, so that retention
  does not count the whole store after every write.
- :meth:`BaseStorage.replace` is a compare-and-swap, for re-encrypting entries in place.

The support types live beside it (:mod:`~vaultcache.backends.usage` for retention,
:mod:`~vaultcache.backends.options` and :mod:`~vaultcache.backends.location` for factories,
:mod:`~vaultcache.backends.errors`) and are re-exported here, where code has imported them.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Iterable, Iterator, MutableMapping
from datetime import timedelta
from types import TracebackType
from typing import Self, cast

from vaultcache.backends.errors import BackendError, CacheNotFoundError
from vaultcache.backends.location import not_found, refuse_if_shared, resolve_location
from vaultcache.backends.options import OpenMode, check_options, open_mode
from vaultcache.backends.usage import (
    ACCESS_LOG_DELAY,
    ACCESS_LOG_LIMIT,
    AccessLog,
    EntryStats,
    StorageUsage,
    UsageSnapshot,
    lru_victims,
    stored_number,
)

__all__ = [
    "ACCESS_LOG_DELAY",
    "ACCESS_LOG_LIMIT",
    "AccessLog",
    "BackendError",
    "BaseStorage",
    "CacheNotFoundError",
    "EntryStats",
    "OpenMode",
    "StorageUsage",
    "UsageSnapshot",
    "check_options",
    "lru_victims",
    "not_found",
    "open_mode",
    "refuse_if_shared",
    "resolve_location",
    "stored_number",
]


class BaseStorage(MutableMapping[str, bytes]):
    """A thread-safe mapping of ``str`` keys to ``bytes`` values; the base of every backend.

    Subclasses implement the five mapping methods and call :meth:`_check_item` in
    ``__setitem__``. Reading a key that is not a ``str`` is a miss (``KeyError``);
    writing one is a ``TypeError``. Iterating gives a snapshot: the caller may write
    meanwhile. :class:`vaultcache.testing.StorageContract` checks all this.

    The retention protocol (:attr:`track_access`, :meth:`note_access`, :meth:`entry_stats`,
    :meth:`evict`, :attr:`usage`) and :meth:`replace` have defaults that work for any
    storage; backends override them to be faster, record reads, or be atomic.
    """

    #: Whether reads count as use for least-recently-used eviction. Off by default so that
    #: reads cost nothing extra; :class:`vaultcache.retention.Retention` switches it on.
    #: While it is on, a storage's ``__getitem__`` calls :meth:`note_access` after a hit.
    track_access: bool = False

    @abstractmethod
    def __getitem__(self, key: str) -> bytes: ...

    @abstractmethod
    def __setitem__(self, key: str, value: bytes) -> None: ...

    @abstractmethod
    def __delitem__(self, key: str) -> None: ...

    @abstractmethod
    def __iter__(self) -> Iterator[str]: ...

    @abstractmethod
    def __len__(self) -> int: ...

    def bulk_delete(self, keys: Iterable[str]) -> int:
        """Delete every key in `keys` that is present; return how many were deleted."""
        deleted = 0
        for key in list(keys):
            try:
                del self[key]
            except KeyError:
                continue
            deleted += 1
        return deleted

    def clear(self) -> None:
        """Delete every entry."""
        # MutableMapping.clear pops one item at a time, reading every value first.
        self.bulk_delete(list(self))

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        try:
            return len(self[key])
        except KeyError:
            return None

    def close(self) -> None:
        """Release connections and file handles; safe to call more than once."""

    # -- retention ----------------------------------------------------------------------------

    @property
    def usage(self) -> StorageUsage:
        """This object's estimate of the entries and bytes stored (see :class:`StorageUsage`)."""
        try:
            return cast(StorageUsage, self.__dict__["_vaultcache_usage"])
        except KeyError:
            # setdefault is atomic: two threads racing here get the same object.
            return cast(StorageUsage, self.__dict__.setdefault("_vaultcache_usage", StorageUsage()))

    def note_access(self, key: str) -> None:
        """Record that `key` was just read, for least-recently-used eviction.

        Called on every hit while :attr:`track_access` is on, so it must be cheap: keep the
        time in memory and store it later, in a batch (at the next write or :meth:`evict`).
        The default records nothing, and :meth:`evict` then treats every entry as equally old.
        """

    def entry_stats(self) -> Iterator[EntryStats]:
        """Every entry's key, size and times, as a snapshot.

        The default reads each entry's size with :meth:`size_of` and reports both times as
        None (unknown).
        """
        for key in list(self):
            size = self.size_of(key)
            if size is not None:
                yield EntryStats(key, size, None, None)

    def damaged_items(self) -> list[str]:
        """Descriptions of stored items that no key reaches (a row with a NULL key, say).

        ``vaultcache verify`` lists them as bad entries; :meth:`delete_damaged` removes them.
        The default finds none.
        """
        return []

    def delete_damaged(self) -> int:
        """Delete the items :meth:`damaged_items` lists; return how many went."""
        return 0

    def evict(
        self,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        max_age: timedelta | None = None,
        now: float | None = None,
        slack: float = 0.0,
    ) -> int:
        """Delete entries created more than `max_age` ago, then the least recently used.

        Least recently used entries go while more than `max_entries` entries or `max_bytes`
        bytes (as :meth:`entry_stats` counts them) remain; once a bound is exceeded they go
        until the total is `slack` (a fraction of the bound) below it. `now` is the epoch time
        to measure ages from (default: the current time). Returns how many entries were
        deleted, and sets :attr:`usage` to the counts that remain.

        The default works from :meth:`entry_stats`: entries whose access time is unknown count
        as the least recently used (in the order :meth:`entry_stats` gives them), entries
        whose creation time is unknown are never too old.
        """
        now = time.time() if now is None else now
        stats = list(self.entry_stats())
        doomed: list[str] = []
        if max_age is not None:
            cutoff = now - max_age.total_seconds()
            doomed = [s.key for s in stats if s.created is not None and s.created < cutoff]
            aged = set(doomed)
            stats = [s for s in stats if s.key not in aged]
        # Unknown access times sort first (oldest); sorting is stable, so they keep their order.
        stats.sort(key=lambda s: (s.accessed is not None, s.accessed or 0.0))
        victims, entries, size = lru_victims(
            ((s.key, s.size) for s in stats),
            entries=len(stats),
            size=sum(s.size for s in stats),
            max_entries=max_entries,
            max_bytes=max_bytes,
            slack=slack,
        )
        deleted = self.bulk_delete(doomed + victims) if doomed or victims else 0
        self.usage.counted(entries, size, now)
        return deleted

    # -- compare-and-swap -----------------------------------------------------------------

    def replace(self, key: str, expected: bytes, new: bytes) -> bool:
        """Store `new` under `key` only if it still holds exactly `expected`; True if stored.

        False when the value differs or the key is absent. The built-in storages do this
        atomically, across threads and processes. This default reads, compares and writes
        under a lock of this object: it is atomic against other ``replace`` calls on the same
        object only, not against other writers or other processes.
        """
        self._check_item(key, new)
        if not isinstance(expected, bytes):
            raise TypeError(f"expected values must be bytes, not {type(expected).__name__}")
        lock = cast(
            threading.Lock,
            self.__dict__.setdefault("_vaultcache_replace_lock", threading.Lock()),
        )
        with lock:
            if self.get(key) != expected:
                return False
            self[key] = new
            return True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    @staticmethod
    def _check_item(key: object, value: object) -> None:
        """Raise TypeError unless `key` is a str and `value` is bytes.

        The message names the type only: a wrong value may well be a secret.
        """
        if not isinstance(key, str):
            raise TypeError(f"storage keys must be str, not {type(key).__name__}")
        if not isinstance(value, bytes):
            raise TypeError(f"storage values must be bytes, not {type(value).__name__}")
