"""vaultcache-redis: a Redis backend for vaultcache, for caches shared by many hosts.

Installing the package registers the backend ``redis``::

    from vaultcache import CachedSession

    session = CachedSession("myapp", backend="redis", url="redis://cache.internal:6379/0")

See the package README for the options, the TTL rule and Redis Cluster. The names below are
imported on first use, so that vaultcache reading its plugins does not import redis-py.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaultcache_redis.cache import RedisCache, redis_cache
    from vaultcache_redis.options import RedisOptions, parse_options
    from vaultcache_redis.storage import RedisStorage, entry_ttl

__all__ = [
    "VAULTCACHE_PLUGIN_API",
    "RedisCache",
    "RedisOptions",
    "RedisStorage",
    "entry_ttl",
    "parse_options",
    "redis_cache",
]

__version__ = "0.1.0"

#: The vaultcache hook-spec version this package was written for.
VAULTCACHE_PLUGIN_API = 1

_LAZY = {
    "RedisCache": "vaultcache_redis.cache",
    "redis_cache": "vaultcache_redis.cache",
    "RedisOptions": "vaultcache_redis.options",
    "parse_options": "vaultcache_redis.options",
    "RedisStorage": "vaultcache_redis.storage",
    "entry_ttl": "vaultcache_redis.storage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
