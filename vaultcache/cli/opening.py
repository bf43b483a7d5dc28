"""Opening the cache a command works on: the one place the CLI opens caches.

:func:`open_session` opens the configured cache as a session of the user's would, created
when it does not exist: for commands that store (``get``, ``import``). Every other command
opens one that must exist, with :func:`open_existing`, and creates nothing it should not.

Commands that only read (``ls``, ``stats``, ``verify``, ``export``, ``keys list``, ``purge
--dry-run``) open the cache read-only; those that change an existing cache (``verify
--delete``, ``purge``, ``vacuum``, ``rotate``) open it without creating it. Either way the
backend factory gets ``read_only=True`` or ``create=False`` and says when no cache exists
(:class:`~vaultcache.backends.CacheNotFoundError`): the rule every backend plugin follows.

No key file is created while an existing cache is opened: a new key could read nothing,
and would make every entry look bad. Reads through an opened cache are not uses: LRU
retention's order stays as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from vaultcache.archive.common import untracked
from vaultcache.backends.opening import init_backend
from vaultcache.cache import BaseCache
from vaultcache.config import load_settings
from vaultcache.config.applying import open_configured
from vaultcache.crypto_keys import KeyRing
from vaultcache.errors import KeyRingError
from vaultcache.session import CachedSession

__all__ = ["OpenCache", "cache_location", "no_key_creation", "open_existing", "open_session"]


@attrs.frozen
class OpenCache:
    """A cache opened for inspection: its session, key ring and backend name.

    Until it is closed, reading its storages does not count as use for LRU retention.
    """

    session: CachedSession
    #: None when no key is configured (and the serializer needs none).
    ring: KeyRing | None
    backend: str
    #: Restores the storages' access tracking when the cache is closed.
    _untracking: contextlib.ExitStack = attrs.field(
        factory=contextlib.ExitStack, repr=False, eq=False
    )

    @property
    def cache(self) -> BaseCache:
        """The session's cache."""
        return self.session.cache

    def close(self) -> None:
        """Close the session and its storages."""
        try:
            self._untracking.close()
        finally:
            self.session.close()


def open_existing(args: argparse.Namespace, *, read_only: bool) -> OpenCache:
    """The configured cache, opened read-only or for writing; never created.

    The backend is opened first, so a missing cache is reported as that
    (CacheNotFoundError) before anything about keys. With no key configured, an encrypted
    cache is a KeyRingError (no key file is created).
    """
    with no_key_creation():
        settings = load_settings(getattr(args, "config", None))
        name = getattr(args, "cache", None) or settings.name
        mode = {"read_only": True} if read_only else {"create": False}
        settings.plugins.apply()  # before the backend's name is looked up
        cache = init_backend(name, settings.backend, {**settings.backend_options, **mode})
        try:
            kwargs = settings.session_kwargs(cache_name=name, backend=cache)
            for option in settings.backend_options:
                del kwargs[option]  # the cache is open: its options were used above
            session = _session(kwargs)
        except BaseException:
            cache.close()
            raise
    untracking = contextlib.ExitStack()
    untracking.enter_context(untracked(session.cache.storage, session.cache.redirect_storage))
    return OpenCache(session, session.key_ring, settings.backend, untracking)


def open_session(args: argparse.Namespace) -> CachedSession:
    """The configured cache, created when it does not exist, as a session: config file
    settings, then ``--cache``, ``--serializer`` and ``--rfc9111`` (where the command takes
    them). Errors in what the config file chose name the file."""
    settings = load_settings(getattr(args, "config", None))
    overrides = {"cache_name": args.cache} if getattr(args, "cache", None) else {}
    for option in ("serializer", "rfc9111"):
        if getattr(args, option, None):
            overrides[option] = getattr(args, option)
    return open_configured(CachedSession, settings, **overrides)


def _session(kwargs: dict[str, Any]) -> CachedSession:
    """The session over the open cache. With no serializer configured and no key, one that
    needs no key: entries name the spec that wrote them, so those without keys are read,
    and the others are reported as kept (unknown key)."""
    try:
        return CachedSession(**kwargs)
    except KeyRingError:
        if "serializer" in kwargs:
            raise
        return CachedSession(**{**kwargs, "serializer": "msgpack"})


def cache_location(cache: BaseCache) -> str:
    """Where the cache's entries live, as a path when the backend has one."""
    storage = cache.storage
    path = getattr(storage, "path", None)
    if path is not None:
        return str(path)
    directory = getattr(storage, "cache_dir", None)
    if isinstance(directory, Path):
        return str(directory.parent)
    return f"{type(storage).__name__} {cache.cache_name!r}".strip()


@contextlib.contextmanager
def no_key_creation() -> Iterator[None]:
    """No key file is created while this is in force: a new key could read no stored entry."""
    # The data-dir key source reads this variable each time it is asked for keys.
    variable = "VAULTCACHE_AUTO_CREATE_KEY"
    saved = os.environ.get(variable)
    os.environ[variable] = "0"
    try:
        yield
    finally:
        if saved is None:
            del os.environ[variable]
        else:
            os.environ[variable] = saved
