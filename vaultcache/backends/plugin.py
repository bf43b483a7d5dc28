"""Registers the built-in backends through the same hook third-party plugins use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vaultcache.backends.caches import filesystem_cache, memory_cache, sqlite_cache
from vaultcache.hookspecs import hookimpl

if TYPE_CHECKING:
    from vaultcache.cache import BaseCache
    from vaultcache.registry import BackendRegistrar

__all__ = ["vaultcache_register_backends"]

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for


def _sqlite(cache_name: str, options: dict[str, Any]) -> BaseCache:
    return sqlite_cache(cache_name, **options)


def _filesystem(cache_name: str, options: dict[str, Any]) -> BaseCache:
    return filesystem_cache(cache_name, **options)


def _memory(cache_name: str, options: dict[str, Any]) -> BaseCache:
    return memory_cache(cache_name, **options)


@hookimpl
def vaultcache_register_backends(registry: BackendRegistrar) -> None:
    """Register the built-in backends: sqlite (the default), filesystem and memory."""
    registry.add("sqlite", _sqlite, description="sqlite database file (WAL; safe across processes)")
    registry.add("filesystem", _filesystem, description="one file per entry in a directory")
    registry.add("memory", _memory, description="in this process's memory; not persistent")
