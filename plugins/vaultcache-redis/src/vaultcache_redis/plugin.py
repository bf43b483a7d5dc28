"""The entry point: registers the ``redis`` backend with vaultcache's plugin registry.

Kept light: redis-py is imported when a redis cache is first built, not when vaultcache
reads its plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vaultcache.plugin import BackendRegistrar, hookimpl

if TYPE_CHECKING:
    from vaultcache_redis.cache import RedisCache

__all__ = ["VAULTCACHE_PLUGIN_API", "vaultcache_register_backends"]

#: The vaultcache hook-spec version this plugin was written for.
VAULTCACHE_PLUGIN_API = 1


def _redis(cache_name: str, options: dict[str, Any]) -> RedisCache:
    from vaultcache_redis.cache import redis_cache  # noqa: PLC0415 - import redis lazily

    return redis_cache(cache_name, **options)


@hookimpl
def vaultcache_register_backends(registry: BackendRegistrar) -> None:
    """Register the ``redis`` backend."""
    registry.add(
        "redis",
        _redis,
        description="Redis or Redis Cluster, shared by many hosts; entries expire by TTL",
    )
