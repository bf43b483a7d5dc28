"""Storage backends: byte storages under string keys, and the caches built on them.

``BaseStorage`` is the contract every backend implements; ``SQLiteStorage`` (the default),
``FileStorage`` and ``MemoryStorage`` are the built-in ones, registered by name (``sqlite``,
``filesystem``, ``memory``) through :mod:`vaultcache.backends.plugin`. ``SQLiteCache`` and
``FileCache`` are the caches over them, by the names requests-cache users import.
"""

from __future__ import annotations

from vaultcache.backends.base import BaseStorage
from vaultcache.backends.caches import (
    FileCache,
    SQLiteCache,
    filesystem_cache,
    memory_cache,
    sqlite_cache,
)
from vaultcache.backends.errors import BackendError, CacheNotFoundError
from vaultcache.backends.filesystem import FileStorage
from vaultcache.backends.memory import MemoryStorage
from vaultcache.backends.options import open_mode
from vaultcache.backends.sqlite import SQLiteStorage
from vaultcache.cache import BaseCache

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
