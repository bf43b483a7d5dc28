"""MemoryStorage: a dict behind a lock, for tests and short-lived processes."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from vaultcache.backends.base import BaseStorage, check_options

if TYPE_CHECKING:
    from vaultcache.cache import BaseCache

__all__ = ["MemoryStorage", "memory_cache"]


class MemoryStorage(BaseStorage):
    """Entries in a dict in this process; lost when the process exits."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> bytes:
        with self._lock:
            return self._data[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_item(key, value)
        with self._lock:
            self._data[key] = value

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]

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
            return sum(1 for key in doomed if self._data.pop(key, None) is not None)

    def clear(self) -> None:
        """Delete every entry."""
        with self._lock:
            self._data.clear()

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        with self._lock:
            value = self._data.get(key)
        return None if value is None else len(value)

    def __repr__(self) -> str:
        return f"<MemoryStorage: {len(self)} entries>"


def memory_cache(cache_name: str = "", **options: Any) -> BaseCache:
    """A BaseCache whose responses and redirects live in this process's memory."""
    check_options("memory", options, ())
    # Imported here: vaultcache.cache imports this package.
    from vaultcache.cache import BaseCache  # noqa: PLC0415

    return BaseCache(cache_name, responses=MemoryStorage(), redirects=MemoryStorage())
