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

from typing import Any

from vaultcache.plugin import (
    NEVER_EXPIRE,
    BaseCache,
    CachedResponse,
    ConfigError,
    EntryWriter,
    KeyFunction,
    KeyRing,
    check_options,
    clock,
    not_found,
    open_mode,
    session_defaults,
)
from vaultcache_redis.options import BACKEND, RedisOptions, parse_options
from vaultcache_redis.storage import RedisStorage, entry_ttl

__all__ = ["RedisCache", "redis_cache"]


class RedisCache(BaseCache):
    """A BaseCache over RedisStorage tables (responses, redirects, body chunks) that sets each
    entry's TTL from its expiry.

    Built by name as requests-cache users do, ``RedisCache("myapp", url=..., serializer=...,
    expire_after=...)``, with the backend options (see the package README); ``serializer``,
    ``key_ring`` and ``create_key`` as BaseCache takes them (``serializer`` and
    ``expire_after`` are also for a session it is given to). requests-cache's ``namespace``
    is ``cache_name``, ``ttl`` is ``use_ttl`` and ``ttl_offset`` is ``ttl_grace``; a
    ``connection`` object is refused (pass ``url``: vaultcache opens its own connections).
    Given storages instead, `ttl_grace` is the number of seconds an entry is kept after it
    expires; None keeps every entry until it is deleted (no TTLs).
    """

    def __init__(
        self,
        cache_name: str = "http_cache",
        serializer: Any = None,
        *,
        expire_after: Any = NEVER_EXPIRE,
        responses: RedisStorage | None = None,
        redirects: RedisStorage | None = None,
        chunks: RedisStorage | None = None,
        key_ring: KeyRing | None = None,
        create_key: KeyFunction | None = None,
        **options: Any,
    ) -> None:
        session_options = session_defaults(serializer, expire_after)  # checked before opening
        cache_name = options.pop("namespace", cache_name)  # requests-cache's name for it
        if responses is None or redirects is None:
            settings = parse_options(str(cache_name), _requests_cache_names(options))
            responses, redirects, chunks = _storages(settings)
            ttl_grace = settings.ttl_grace if settings.use_ttl else None
        else:
            ttl_grace = options.pop("ttl_grace", None)
            check_options("redis", options, ())
        super().__init__(
            str(cache_name),
            responses=responses,
            redirects=redirects,
            chunks=chunks,
            serializer=serializer,
            key_ring=key_ring,
            create_key=create_key,
        )
        self.ttl_grace: float | None = ttl_grace
        #: What the session this cache is given to uses unless it is given its own.
        self.session_options = session_options

    def ttl_for(self, response: CachedResponse) -> float | None:
        """Seconds Redis keeps `response`'s entry: its remaining freshness plus the grace."""
        if self.ttl_grace is None or response.expires is None:
            return None
        remaining = (response.expires - clock.now()).total_seconds()
        return max(remaining, 0.0) + self.ttl_grace

    def commit(self, writer: EntryWriter) -> None:
        """Store an entry (and its redirects) with the TTL :meth:`ttl_for` gives."""
        with entry_ttl(self.ttl_for(writer.response)):
            super().commit(writer)

    def store_chunk(self, response: CachedResponse, key: str, record: bytes) -> None:
        """Store a chunk of `response`'s body with the TTL of its entry."""
        storage = self.chunk_storage
        assert isinstance(storage, RedisStorage)
        storage.set(key, record, self.ttl_for(response))


def redis_cache(cache_name: str = "http_cache", **options: Any) -> RedisCache:
    """A RedisCache for `cache_name` (the default key prefix is ``vaultcache:<name>:``).

    Options: ``url``, ``prefix``, ``cluster``, ``use_ttl``, ``ttl_grace``,
    ``socket_timeout``, ``socket_connect_timeout`` (see the package README), and ``create``
    and ``read_only`` as every backend takes them: opening writes nothing to Redis, and
    with either one a prefix that holds no entry is a CacheNotFoundError (an empty cache
    and a missing one look the same in Redis).
    """
    mode = open_mode(BACKEND, options)
    cache = RedisCache(str(cache_name), **options)
    if not mode.create and not _holds_entries(cache):
        cache.close()
        raise not_found(BACKEND, f"key prefix of cache {str(cache_name)!r}")
    return cache


def _holds_entries(cache: RedisCache) -> bool:
    return any(True for _ in cache.storage) or any(True for _ in cache.redirect_storage)


def _requests_cache_names(options: dict[str, Any]) -> dict[str, Any]:
    """`options` with requests-cache's RedisCache names translated."""
    options = dict(options)
    if options.pop("connection", None) is not None:
        raise ConfigError(
            "vaultcache opens its own connections: pass url='redis://host:port/db' instead "
            "of a connection object",
            key="backend.redis.connection",
        )
    for old, new in (("ttl", "use_ttl"), ("ttl_offset", "ttl_grace")):
        if old in options:
            options[new] = options.pop(old)
    return options


def _storages(settings: RedisOptions) -> tuple[RedisStorage, RedisStorage, RedisStorage]:
    """The response, redirect and chunk storages `settings` describe."""
    responses = RedisStorage(
        settings.url,
        settings.prefix,
        "responses",
        cluster=settings.cluster,
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.socket_connect_timeout,
    )
    try:
        return responses, responses.for_table("redirects"), responses.for_table("chunks")
    except BaseException:
        responses.close()
        raise
