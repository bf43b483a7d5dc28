"""SQLiteCache and FileCache: the backend classes requests-cache users construct by name.

``CachedSession(backend=SQLiteCache("c", serializer="json", expire_after=60))`` works as in
requests-cache: a class takes its storage options (``use_cache_dir``, ``use_temp``, ...),
the arguments of :class:`~vaultcache.cache.BaseCache` (``serializer``, ``key_ring``,
``create_key``), so that it works on its own, and ``expire_after``. A session it is given to
uses its ``serializer`` and ``expire_after`` when it is not given its own
(:func:`vaultcache.compat.backend_defaults`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vaultcache.backends.base import refuse_if_shared, resolve_location
from vaultcache.backends.filesystem import FileStorage
from vaultcache.backends.sqlite import SQLiteStorage
from vaultcache.cache import BaseCache
from vaultcache.compat import check_decode_content
from vaultcache.key_function import KeyFunction
from vaultcache.keys import KeyRing
from vaultcache.policy.expiration import NEVER_EXPIRE, validate_expiration

__all__ = ["FileCache", "SQLiteCache"]


def _session_options(serializer: Any, expire_after: Any) -> dict[str, Any]:
    validate_expiration(expire_after)
    options: dict[str, Any] = {"expire_after": expire_after}
    if serializer is not None:
        options["serializer"] = serializer
    return options


class SQLiteCache(BaseCache):
    """A cache in one sqlite file (``db_path``, suffix ``.sqlite`` added when it has none),
    with tables for responses, redirects and body chunks.

    Storage options: ``use_cache_dir``, ``use_temp``, ``busy_timeout``, ``wal`` (see
    :class:`~vaultcache.backends.SQLiteStorage`).
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
        session_options = _session_options(serializer, expire_after)  # checked before opening
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
        session_options = _session_options(serializer, expire_after)  # checked before opening
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
