"""BaseStorage, the byte-storage contract every backend implements, and BackendError.

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
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import tempfile
import threading
import time
import weakref
from abc import abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, MutableMapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar, cast

import platformdirs

from vaultcache.errors import ConfigError, VaultCacheError
from vaultcache.private_files import written_by_others

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

T = TypeVar("T")

logger = logging.getLogger(__name__)

#: Recorded reads a storage keeps in memory before it writes them out, even without a write.
ACCESS_LOG_LIMIT = 1024
#: Seconds after which recorded reads are written out at the next read, even without a write.
ACCESS_LOG_DELAY = 30.0


class BackendError(VaultCacheError):
    """Storage failed for a reason that is not the caller's fault (corrupt file, full disk).

    Carries the backend name and the path involved; the message says how to fix it and
    never contains keys or stored bytes.
    """

    def __init__(self, message: str, *, backend: str, path: str | None = None) -> None:
        self.backend = backend
        self.path = path
        super().__init__(message)


class CacheNotFoundError(BackendError):
    """No cache exists where a backend was asked to open one without creating it."""


class OpenMode(NamedTuple):
    """How a backend factory opens a cache: the ``create`` and ``read_only`` options."""

    #: False: never create a cache (file, directory, table) that does not exist.
    create: bool
    #: True: write nothing, not even on opening (implies ``create=False``).
    read_only: bool


def open_mode(backend: str, options: dict[str, Any]) -> OpenMode:
    """Take ``create`` (default True) and ``read_only`` (default False) out of `options`.

    Every backend factory accepts these two options (see docs/plugins.md): the read-only
    commands of ``vaultcache`` pass ``read_only=True``, the others that work on an existing
    cache ``create=False``.
    """
    read_only = check_bool(backend, "read_only", options.pop("read_only", False))
    create = check_bool(backend, "create", options.pop("create", True))
    return OpenMode(create=create and not read_only, read_only=read_only)


def not_found(backend: str, location: Path | str, hint: str = "") -> CacheNotFoundError:
    """The error of a factory asked not to create the cache at `location`, which is missing."""
    return CacheNotFoundError(
        f"no {backend} cache at {location}{hint}: no cache exists there; check the name or path "
        "(--cache NAME_OR_PATH, or the cache name in the config file)",
        backend=backend,
        path=str(location),
    )


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


#: What a session gives every backend factory in its options, for ``BaseCache.__init__``.
CACHE_ARGUMENTS = ("serializer", "key_ring", "create_key")


def check_options(backend: str, options: Mapping[str, Any], known: Collection[str]) -> None:
    """Raise ConfigError naming ``backend.<backend>.<option>`` for an option not in `known`
    (nor in :data:`CACHE_ARGUMENTS`, which the factory passes on to BaseCache)."""
    for name in options:
        if name in known or name in CACHE_ARGUMENTS:
            continue
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(sorted(known)) or "none"
        raise ConfigError(
            f"unknown option for backend {backend!r}{hint} (known: {listing})",
            key=f"backend.{backend}.{name}",
        )


def check_bool(backend: str, name: str, value: object) -> bool:
    """`value` if it is a bool, else ConfigError naming ``backend.<backend>.<name>``."""
    if not isinstance(value, bool):
        raise ConfigError(
            f"expected true or false, got {type(value).__name__}",
            key=f"backend.{backend}.{name}",
            expected="boolean",
        )
    return value


def resolve_location(
    backend: str,
    location: str | os.PathLike[str],
    *,
    use_cache_dir: bool,
    use_temp: bool,
) -> Path:
    """Where a cache lives: `location`, or relative to the user cache dir or the temp dir."""
    use_cache_dir = check_bool(backend, "use_cache_dir", use_cache_dir)
    use_temp = check_bool(backend, "use_temp", use_temp)
    if not isinstance(location, str | os.PathLike):
        raise ConfigError(
            f"expected a path, got {type(location).__name__}", key=f"backend.{backend}.path"
        )
    path = Path(location).expanduser()
    if use_cache_dir and use_temp:
        raise ConfigError(
            "use_cache_dir and use_temp exclude each other; set only one",
            key=f"backend.{backend}.use_temp",
        )
    if use_cache_dir or use_temp:
        if path.is_absolute():
            # Joining would silently drop the base directory the user asked for.
            option = "use_cache_dir" if use_cache_dir else "use_temp"
            raise ConfigError(
                f"{option} needs a relative name, got the absolute path {str(path)!r}",
                key=f"backend.{backend}.{option}",
            )
        base = platformdirs.user_cache_dir("vaultcache") if use_cache_dir else None
        path = Path(base or tempfile.gettempdir()) / path
    return path.absolute()


def refuse_if_shared(backend: str, path: Path, what: str, *, allow_shared: bool) -> None:
    """BackendError when another user owns the existing `path` or may write it.

    Such a cache may have been created first by someone who reads (or replaces) what is
    cached. `allow_shared` accepts it, with a warning.
    """
    reason = written_by_others(path)
    if reason is None:
        return
    if check_bool(backend, "allow_shared", allow_shared):
        logger.warning("using %s %s although %s (allow_shared=True)", what, path, reason)
        return
    raise BackendError(
        f"{what} {path} is refused: {reason}, who could read and replace what is cached; "
        "use a location of your own (use_cache_dir=True), fix its owner or mode, or pass "
        "allow_shared=True to accept it",
        backend=backend,
        path=str(path),
    )
