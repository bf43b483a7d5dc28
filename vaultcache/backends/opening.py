"""Opening a cache by backend name, through the registry, or taking a BaseCache as it is."""

from __future__ import annotations

from typing import Any

from vaultcache.backends.options import CACHE_ARGUMENTS
from vaultcache.cache import BaseCache
from vaultcache.errors import ConfigError
from vaultcache.registry import get_registry

__all__ = ["init_backend"]


def init_backend(
    cache_name: str,
    backend: str | BaseCache,
    options: dict[str, Any],
    **parts: Any,
) -> BaseCache:
    """The cache `backend` names, built with `options` and `parts` (``serializer``,
    ``key_ring`` and ``create_key``, which a factory passes on to BaseCache), or `backend`
    itself when it is a BaseCache already, configured with `parts`."""
    if isinstance(backend, BaseCache):
        if options:
            raise TypeError(
                f"backend options {sorted(options)} cannot be used with a BaseCache instance"
            )
        if parts:
            backend.configure(**parts)
        return backend
    reserved = sorted(set(options) & set(CACHE_ARGUMENTS))
    if reserved:
        raise ConfigError(
            f"{reserved[0]} is not a backend option: a cache is built with its session's",
            key=f"backend.{backend}.{reserved[0]}",
        )
    registration = get_registry().backend(backend)
    registration.ensure_available()
    cache = registration.factory(cache_name, {**options, **parts})
    if not isinstance(cache, BaseCache):
        raise TypeError(f"backend {backend!r} did not return a BaseCache")
    return cache
