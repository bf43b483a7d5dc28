"""CacheStats: what a cache counted since it was opened."""

from __future__ import annotations

import threading

import attrs

__all__ = ["CacheStats"]


@attrs.define
class CacheStats:
    """Counters since the cache was opened: hits, misses, damaged entries discarded, and
    entries kept that this reader cannot read."""

    hits: int = 0
    misses: int = 0
    discarded: int = 0
    #: Entries read as misses and kept: another reader (key, plugin, release) could read them.
    kept: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False, eq=False)

    def count(self, name: str) -> None:
        """Add one to a counter."""
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)
