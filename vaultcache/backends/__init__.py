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

#: requests-cache 1.x names with no vaultcache class of that name: what to use instead.
_REQUESTS_CACHE_NAMES = {
    "SQLiteDict": "vaultcache.backends.SQLiteStorage (it stores sealed bytes, not objects)",
    "SQLitePickleDict": "vaultcache.backends.SQLiteStorage (nothing is pickled unsealed)",
    "FileDict": "vaultcache.backends.FileStorage (it stores sealed bytes, not objects)",
    "RedisCache": "vaultcache_redis.RedisCache (pip install vaultcache-redis)",
    "RedisDict": "vaultcache_redis.RedisStorage (pip install vaultcache-redis; bytes only)",
    "RedisHashDict": "vaultcache_redis.RedisStorage (pip install vaultcache-redis; bytes only)",
    "MongoCache": "a backend plugin (there is no MongoDB one yet; see docs/plugins.md)",
    "GridFSCache": "a backend plugin (there is no GridFS one yet; see docs/plugins.md)",
    "DynamoDbCache": "a backend plugin (there is no DynamoDB one yet; see docs/plugins.md)",
}


def __getattr__(name: str) -> object:
    # A requests-cache import names the vaultcache way instead of "cannot import name".
    instead = _REQUESTS_CACHE_NAMES.get(name)
    if instead is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise ImportError(
        f"vaultcache.backends has no {name} (a requests-cache name): use {instead}; "
        "see docs/migrating.md",
        name=name,
    )
