"""RedisCache: a vaultcache BaseCache whose entries expire through Redis TTLs.

The TTL of a stored response is its remaining freshness plus a grace period
(``ttl_grace``, a week by default), and no TTL at all when the response never expires:

    ttl = max(expires - now, 0) + ttl_grace        (expires set)
    ttl = none                                     (expires is None, or use_ttl = false)

An entry is not deleted the moment it goes stale, because a stale entry is still useful:
the session revalidates it with its ETag or Last-Modified (a 304 costs no body) and serves it
under ``stale_if_error`` and ``stale_while_revalidate``. The grace period is how long that
remains possible; set it to at least the longest of those windows you use. Redirect entries
get the TTL of the response they point to. Entries written by other paths (an archive
import, a plain ``storage[key] = value``) get no TTL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vaultcache import clock
from vaultcache.backends.base import not_found, open_mode
from vaultcache.cache import BaseCache
from vaultcache.models import CachedResponse
from vaultcache_redis.options import BACKEND, RedisOptions, parse_options
from vaultcache_redis.storage import RedisStorage, entry_ttl

__all__ = ["RedisCache", "redis_cache"]


class RedisCache(BaseCache):
    """A BaseCache over two RedisStorage tables that sets each entry's TTL from its expiry.

    `ttl_grace` is the number of seconds an entry is kept after it expires; None keeps
    every entry until it is deleted (no TTLs).
    """

    def __init__(
        self,
        cache_name: str,
        *,
        responses: RedisStorage,
        redirects: RedisStorage,
        ttl_grace: float | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(cache_name, responses=responses, redirects=redirects, **kwargs)
        self.ttl_grace = ttl_grace

    def ttl_for(self, response: CachedResponse) -> float | None:
        """Seconds Redis keeps `response`'s entry: its remaining freshness plus the grace."""
        if self.ttl_grace is None or response.expires is None:
            return None
        remaining = (response.expires - clock.now()).total_seconds()
        return max(remaining, 0.0) + self.ttl_grace

    def save_response(self, response: CachedResponse, redirect_keys: Iterable[str] = ()) -> None:
        """Store `response` (and its redirects) with the TTL :meth:`ttl_for` gives."""
        with entry_ttl(self.ttl_for(response)):
            super().save_response(response, redirect_keys)


def redis_cache(cache_name: str = "http_cache", **options: Any) -> RedisCache:
    """A RedisCache for `cache_name` (the default key prefix is ``vaultcache:<name>:``).

    Options: ``url``, ``prefix``, ``cluster``, ``use_ttl``, ``ttl_grace``,
    ``socket_timeout``, ``socket_connect_timeout`` (see the package README), and ``create``
    and ``read_only`` as every backend takes them: opening writes nothing to Redis, and
    with either one a prefix that holds no entry is a CacheNotFoundError (an empty cache
    and a missing one look the same in Redis).
    """
    mode = open_mode(BACKEND, options)
    settings = parse_options(str(cache_name), options)
    cache = build_cache(str(cache_name), settings)
    if not mode.create and not _holds_entries(cache):
        cache.close()
        raise not_found(BACKEND, f"{settings.location} (key prefix {settings.prefix!r})")
    return cache


def _holds_entries(cache: RedisCache) -> bool:
    return any(True for _ in cache.storage) or any(True for _ in cache.redirect_storage)


def build_cache(cache_name: str, settings: RedisOptions) -> RedisCache:
    """A RedisCache from checked options."""
    responses = RedisStorage(
        settings.url,
        settings.prefix,
        "responses",
        cluster=settings.cluster,
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.socket_connect_timeout,
    )
    try:
        redirects = responses.for_table("redirects")
    except BaseException:
        responses.close()
        raise
    return RedisCache(
        cache_name,
        responses=responses,
        redirects=redirects,
        ttl_grace=settings.ttl_grace if settings.use_ttl else None,
    )
