"""Retention: bound a cache by entries, bytes and age, evicting the least recently used first.

A :class:`Retention` is a frozen value; the state it needs lives in each storage:

- **Reads.** :meth:`Retention.attach` (and the first :meth:`Retention.after_write`) switch on
  the storage's ``track_access``; each hit then notes the time in memory, and the storage
  stores the times in a batch at its next write or eviction. A hit never waits for a
  database write of its own.
- **Writes.** :meth:`Retention.after_write`, which :class:`vaultcache.cache.BaseCache` calls
  after storing a response, checks the storage's in-memory estimate of entries and bytes
  (:class:`~vaultcache.backends.base.StorageUsage`). Only when a bound is exceeded, when
  ``check_every`` writes (or 1% of the entries, if more) have passed since the last count, or
  when an age sweep is due, does it call the storage's ``evict``, which counts the store
  exactly and deletes what must go.
- **Eviction.** Entries created more than ``max_age`` ago go first; then, while a bound is
  exceeded, the least recently used (by last read or write). After a write the cache is
  brought ``slack`` (1% by default) below the exceeded bound, so that a full cache counts
  itself once per 1% of turnover instead of on every write. :meth:`Retention.apply` enforces
  the bounds exactly, now.

Several processes may share a cache, each with its own Retention. Each sees only its own
writes between counts, so the store can exceed a bound by what the other processes wrote
since this one last counted: at most about ``check_every`` (or 1% of the entries) per
process. Every count brings it back within the bound, so the bounds hold approximately and
converge. ``max_age`` is applied when an eviction runs (at least every ``max_age / 16``,
clamped to between one second and one hour, while writes happen); an entry can be read a
little past its age until then. Eviction is safe while other threads and processes read and
write: the built-in storages evict in one transaction (sqlite) or under their lock file
(filesystem) or lock (memory).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import attrs

from vaultcache.backends.base import BackendError, BaseStorage, UsageSnapshot
from vaultcache.errors import ConfigError

__all__ = ["Retention"]

logger = logging.getLogger(__name__)

#: Between counts, at most this fraction of the (estimated) entries may be written.
_RECOUNT_FRACTION = 100
#: Bounds on the time between age sweeps, in seconds.
_MIN_SWEEP, _MAX_SWEEP = 1.0, 3600.0


def _positive_int(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.default is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            f"expected a whole number, got {type(value).__name__}",
            key=f"retention.{attribute.name}",
            expected="positive integer",
        )
    if value <= 0:
        raise ConfigError(
            f"{value} is not positive", key=f"retention.{attribute.name}", expected="integer > 0"
        )


def _positive_age(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, timedelta):
        raise ConfigError(
            f"expected a timedelta, got {type(value).__name__}",
            key="retention.max_age",
            expected="timedelta",
        )
    if value <= timedelta(0):
        raise ConfigError(
            f"{value} is not positive", key="retention.max_age", expected="duration > 0"
        )


def _fraction(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(
            f"{value!r} is not a fraction in [0, 1)",
            key="retention.slack",
            expected="number in [0, 1)",
        )


@attrs.frozen
class Retention:
    """Bounds on one cache's storage: `max_entries`, `max_bytes` and `max_age`.

    Each bound is optional. `check_every` is how many writes may pass before the storage is
    counted again (which is how writes by other processes are noticed); `slack` is how far
    below an exceeded bound eviction after a write goes, as a fraction of the bound.
    """

    max_entries: int | None = attrs.field(default=None, validator=_positive_int)
    max_bytes: int | None = attrs.field(default=None, validator=_positive_int)
    max_age: timedelta | None = attrs.field(default=None, validator=_positive_age)
    check_every: int = attrs.field(default=100, kw_only=True, validator=_positive_int)
    slack: float = attrs.field(default=0.01, kw_only=True, validator=_fraction)

    @property
    def bounded(self) -> bool:
        """Whether any bound is set (a Retention without one keeps everything)."""
        return not (self.max_entries is None and self.max_bytes is None and self.max_age is None)

    def attach(self, storage: BaseStorage) -> None:
        """Start recording reads on `storage`, so that hits count as use from now on."""
        if self.bounded and not storage.track_access:
            storage.track_access = True

    def after_write(self, storage: BaseStorage, *, now: float | None = None) -> int:
        """Evict from `storage` if the write just made may have exceeded a bound.

        Cheap while the storage's estimate is within bounds and no count or age sweep is due.
        `now` is the epoch time (default: the current time). Returns how many entries were
        evicted. An eviction that fails is logged and retried after the next write: the write
        itself has succeeded.
        """
        if not self.bounded:
            return 0
        self.attach(storage)
        usage = storage.usage
        usage.tick()
        now = time.time() if now is None else now
        if not self._due(usage.snapshot(), now):
            return 0
        try:
            return storage.evict(
                max_entries=self.max_entries,
                max_bytes=self.max_bytes,
                max_age=self.max_age,
                now=now,
                slack=self.slack,
            )
        except BackendError as exc:
            logger.warning("retention could not evict from %r: %s", storage, exc)
            return 0

    def apply(self, storage: BaseStorage, *, now: float | None = None) -> int:
        """Enforce the bounds on `storage` exactly, now; return how many entries were evicted."""
        if not self.bounded:
            return 0
        return storage.evict(
            max_entries=self.max_entries,
            max_bytes=self.max_bytes,
            max_age=self.max_age,
            now=time.time() if now is None else now,
        )

    def _due(self, usage: UsageSnapshot, now: float) -> bool:
        """Whether the estimate calls for counting the storage (and evicting)."""
        if usage.counted_at is None:
            return True  # never counted by this process
        if usage.writes >= max(self.check_every, usage.entries // _RECOUNT_FRACTION):
            return True
        if self.max_entries is not None and usage.entries > self.max_entries:
            return True
        if self.max_bytes is not None and usage.bytes > self.max_bytes:
            return True
        return self.max_age is not None and now - usage.counted_at >= self._sweep_interval

    @property
    def _sweep_interval(self) -> float:
        assert self.max_age is not None
        return min(max(self.max_age.total_seconds() / 16, _MIN_SWEEP), _MAX_SWEEP)
