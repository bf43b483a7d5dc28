"""Storage backends: byte storages under string keys, and the caches built on them.

``BaseStorage`` is the contract every backend implements; ``SQLiteStorage`` (the default),
``FileStorage`` and ``MemoryStorage`` are the built-in ones, registered by name (``sqlite``,
``filesystem``, ``memory``) through :mod:`vaultcache.backends.plugin`. ``SQLiteCache`` and
``FileCache`` are the caches over them, by the names requests-cache users import.
"""

from __future__ import annotations

from typing import Any

from vaultcache.backends.base import BackendError, BaseStorage, CacheNotFoundError, open_mode
from vaultcache.backends.filesystem import FileStorage, filesystem_cache
from vaultcache.backends.memory import MemoryStorage, memory_cache
from vaultcache.backends.sqlite import SQLiteStorage, sqlite_cache

__all__ = [
    "BackendError",
    "BaseCache",
    "BaseStorage",
    "CacheNotFoundError",
    "FileCache",
    "FileStorage",
    "MemoryStorage",
    "SQLiteCache",
    "SQLiteStorage",
    "filesystem_cache",
    "memory_cache",
    "open_mode",
    "sqlite_cache",
]


def __getattr__(name: str) -> Any:
    # vaultcache.backends.BaseCache (and the caches built on it) are the documented paths,
    # but vaultcache.cache imports this package; resolving them on first access avoids an
    # import cycle.
    if name == "BaseCache":
        from vaultcache.cache import BaseCache  # noqa: PLC0415

        return BaseCache
    if name in {"SQLiteCache", "FileCache"}:
        from vaultcache.backends import caches  # noqa: PLC0415

        return getattr(caches, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
