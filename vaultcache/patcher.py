"""install_cache and friends: make every ``requests`` call in the process use a cache.

``install_cache`` replaces ``requests.Session`` (and so ``requests.get`` and the other
module-level functions, which create a Session per call) with a cached session class;
``uninstall_cache`` puts the original back. Prefer a CachedSession where you can: patching
is global to the process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import requests

from vaultcache.cache import BaseCache
from vaultcache.session import CachedSession

__all__ = [
    "clear",
    "disabled",
    "enabled",
    "get_cache",
    "install_cache",
    "is_installed",
    "uninstall_cache",
]

_ORIGINAL_SESSION = requests.Session


def install_cache(
    cache_name: str = "http_cache",
    backend: str | BaseCache = "sqlite",
    serializer: Any = None,
    *,
    session_factory: type[CachedSession] = CachedSession,
    **kwargs: Any,
) -> None:
    """Patch requests so that every new Session is a `session_factory` sharing one cache."""
    shared = session_factory(cache_name, backend, serializer, **kwargs)

    class _InstalledSession(session_factory):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            _ORIGINAL_SESSION.__init__(self)
            self.settings = shared.settings
            self.cache = shared.cache
            self._credential_secret = shared._credential_secret
            self._refreshing = shared._refreshing
            self._refresh_lock = shared._refresh_lock
            self._refresher = None

        def close(self) -> None:
            # The shared cache outlives each short-lived session.
            _ORIGINAL_SESSION.close(self)

    _InstalledSession.__name__ = f"Installed{session_factory.__name__}"
    _apply(_InstalledSession)


def uninstall_cache() -> None:
    """Restore the original ``requests.Session``."""
    _apply(_ORIGINAL_SESSION)


def is_installed() -> bool:
    """True while install_cache is in effect."""
    return requests.Session is not _ORIGINAL_SESSION


def get_cache() -> BaseCache | None:
    """The installed cache, or None."""
    return requests.Session().cache if is_installed() else None  # type: ignore[attr-defined]


def clear() -> None:
    """Clear the installed cache, if any."""
    cache = get_cache()
    if cache is not None:
        cache.clear()


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Within the block, requests bypass the installed cache (if any)."""
    previous = requests.Session
    _apply(_ORIGINAL_SESSION)
    try:
        yield
    finally:
        _apply(previous)


@contextlib.contextmanager
def enabled(*args: Any, **kwargs: Any) -> Iterator[None]:
    """Within the block, requests use a cache built from these install_cache arguments."""
    previous = requests.Session
    install_cache(*args, **kwargs)
    try:
        yield
    finally:
        _apply(previous)


def _apply(session_class: type) -> None:
    requests.Session = session_class  # type: ignore[misc, assignment]
    requests.sessions.Session = session_class  # type: ignore[misc, assignment]
