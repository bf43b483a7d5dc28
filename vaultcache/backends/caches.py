"""SQLiteCache and FileCache, and the factories the built-in backends are opened by.

``CachedSession(backend=SQLiteCache("c", serializer="json", expire_after=60))`` works as in
requests-cache: a class takes its storage options (``use_cache_dir``, ``use_temp``, ...),
the arguments of :class:`~vaultcache.cache.BaseCache` (``serializer``, ``key_ring``,
``create_key``), so that it works on its own, and ``expire_after``. A session it is given to
uses its ``serializer`` and ``expire_after`` when it is not given its own
(:func:`vaultcache.compat.backend_defaults`). ``sqlite_cache``, ``filesystem_cache`` and
``memory_cache`` check a backend's options and open mode, then build its cache: the registry
opens the built-in backends by them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vaultcache.backends import filesystem, sqlite_options
from vaultcache.backends.errors import CacheNotFoundError
from vaultcache.backends.filesystem import FileStorage
from vaultcache.backends.location import not_found, refuse_if_shared, resolve_location
from vaultcache.backends.memory import MemoryStorage
from vaultcache.backends.options import check_options, open_mode
from vaultcache.backends.sqlite import SQLiteStorage
from vaultcache.cache import BaseCache
from vaultcache.cache_key_function import KeyFunction
from vaultcache.compat import session_defaults
from vaultcache.crypto_keys import KeyRing
from vaultcache.policy.expiration import NEVER_EXPIRE
from vaultcache.serializers.pipeline import check_decode_content

__all__ = ["FileCache", "SQLiteCache", "filesystem_cache", "memory_cache", "sqlite_cache"]


class SQLiteCache(BaseCache):
    """A cache in one sqlite file (``db_path``, suffix ``.sqlite`` added when it has none),
    with tables for responses, redirects and body chunks.

    Storage options: ``use_cache_dir``, ``use_temp``, ``busy_timeout``, ``wal``,
    ``page_size`` (see :class:`~vaultcache.backends.SQLiteStorage`).
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] = "http_cache",
        serializer: Any = None,
        *,
        expire_after: Any = NEVER_EXPIRE,
        key_ring: KeyRing | None = None,
        create_key: KeyFunction | None = None,
        **options: Any,
    ) -> None:
        session_options = session_defaults(serializer, expire_after)  # checked before opening
        responses = SQLiteStorage(db_path, "responses", **options)
        try:
            redirects = responses.for_table("redirects")
            # A cache written before body chunks existed, opened read-only, has no table
            # for them (and no chunked entries): it is read without one.
            chunks = (
                responses.for_table("chunks")
                if not responses.read_only or responses.has_table("chunks")
                else None
            )
        except BaseException:
            responses.close()  # else its connection stays open until garbage collection
            raise
        super().__init__(
            str(db_path),
            responses=responses,
            redirects=redirects,
            chunks=chunks,
            serializer=serializer,
            key_ring=key_ring,
            create_key=create_key,
        )
        #: What the session this cache is given to uses unless it is given its own.
        self.session_options = session_options

    @property
    def db_path(self) -> Path:
        """The sqlite file."""
        storage = self.storage
        assert isinstance(storage, SQLiteStorage)
        return storage.path


class FileCache(BaseCache):
    """A cache of one file per entry under ``cache_name`` (``responses/``, ``redirects/`` and
    ``chunks/``, the body chunks).

    Storage options: ``use_cache_dir``, ``use_temp``, ``extension``, ``allow_shared`` and
    ``read_only`` (see :class:`~vaultcache.backends.FileStorage`). ``decode_content=True`` is
    refused: bodies are stored as the exact bytes received.
    """

    def __init__(
        self,
        cache_name: str | os.PathLike[str] = "http_cache",
        serializer: Any = None,
        *,
        expire_after: Any = NEVER_EXPIRE,
        decode_content: bool = False,
        read_only: bool = False,
        key_ring: KeyRing | None = None,
        create_key: KeyFunction | None = None,
        **options: Any,
    ) -> None:
        check_decode_content(decode_content)
        session_options = session_defaults(serializer, expire_after)  # checked before opening
        root = Path(cache_name)
        where = {name: options[name] for name in ("use_cache_dir", "use_temp") if name in options}
        refuse_if_shared(
            "filesystem",
            resolve_location(
                "filesystem", root, **{"use_cache_dir": False, "use_temp": False, **where}
            ),
            "cache directory",
            allow_shared=options.get("allow_shared", False),
        )
        super().__init__(
            str(cache_name),
            responses=FileStorage(root / "responses", read_only=read_only, **options),
            redirects=FileStorage(root / "redirects", read_only=read_only, **options),
            chunks=FileStorage(root / "chunks", read_only=read_only, **options),
            serializer=serializer,
            key_ring=key_ring,
            create_key=create_key,
        )
        #: What the session this cache is given to uses unless it is given its own.
        self.session_options = session_options

    @property
    def cache_dir(self) -> Path:
        """The directory that holds the cache (its ``responses`` and ``redirects``)."""
        storage = self.storage
        assert isinstance(storage, FileStorage)
        return storage.cache_dir.parent


def sqlite_cache(cache_name: str | os.PathLike[str] = "http_cache", **options: Any) -> SQLiteCache:
    """A BaseCache with responses, redirects and body chunks in three tables of one sqlite file.

    Options: ``use_cache_dir``, ``use_temp``, ``busy_timeout``, ``wal``, ``page_size``,
    ``allow_shared``, ``create`` and ``read_only`` (see
    :class:`~vaultcache.backends.SQLiteStorage`), and ``serializer`` and ``expire_after`` for
    the session (see :class:`SQLiteCache`).
    """
    storage = ("use_cache_dir", "use_temp", "busy_timeout", "wal", "page_size", "allow_shared")
    known = (*storage, "create", "read_only", "expire_after")
    check_options(sqlite_options.BACKEND, options, known)
    return SQLiteCache(cache_name, **options)


def filesystem_cache(
    cache_name: str | os.PathLike[str] = "http_cache", **options: Any
) -> FileCache:
    """A BaseCache with responses, redirects and body chunks in subdirectories of `cache_name`.

    Options: ``use_cache_dir``, ``use_temp``, ``extension``, ``allow_shared`` (see
    :class:`~vaultcache.backends.FileStorage`; the cache's own directory is checked as each
    storage's is), and ``serializer`` and ``expire_after`` for the session (see
    :class:`FileCache`). ``create=False`` makes a missing `cache_name` directory a
    CacheNotFoundError, and ``read_only=True`` (which implies it) also writes nothing.
    """
    backend = filesystem.BACKEND
    mode = open_mode(backend, options)
    known = ("use_cache_dir", "use_temp", "extension", "allow_shared")
    check_options(backend, options, (*known, "expire_after", "decode_content"))
    if not mode.create:
        location = resolve_location(
            backend,
            Path(cache_name),
            use_cache_dir=options.get("use_cache_dir", False),
            use_temp=options.get("use_temp", False),
        )
        if not location.is_dir():
            raise not_found(backend, location)
    return FileCache(cache_name, read_only=mode.read_only, **options)


def memory_cache(cache_name: str = "", **options: Any) -> BaseCache:
    """A BaseCache whose responses and redirects live in this process's memory.

    There is never an existing one to open: ``create=False`` or ``read_only=True`` is a
    CacheNotFoundError.
    """
    if not open_mode("memory", options).create:
        raise CacheNotFoundError(
            "the memory backend keeps nothing between processes, so there is no existing "
            "cache to open; give the path of a sqlite or filesystem cache",
            backend="memory",
        )
    check_options("memory", options, ())
    return BaseCache(
        cache_name,
        responses=MemoryStorage(),
        redirects=MemoryStorage(),
        chunks=MemoryStorage(),
        **options,
    )
