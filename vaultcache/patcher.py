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

from vaultcache import compat
from vaultcache.cache import BaseCache
from vaultcache.session import CachedSession

__all__ = [
    "clear",
    "delete",
    "disabled",
    "enabled",
    "get_cache",
    "install_cache",
    "is_installed",
    "uninstall_cache",
]

_ORIGINAL_SESSION = requests.Session
# The session whose cache install_cache shares; closed when replaced or uninstalled.
_installed: list[CachedSession] = []


def install_cache(
    cache_name: str = "http_cache",
    backend: str | BaseCache = "sqlite",
    serializer: Any = None,
    *,
    session_factory: type[CachedSession] = CachedSession,
    **kwargs: Any,
) -> None:
    """Patch requests so that every new Session is a `session_factory` sharing one cache.

    `session_factory`'s ``__init__`` runs for every new session (with the shared cache as
    its backend), so subclasses set themselves up as usual.
    """
    kwargs = compat.session_options(kwargs)  # once: every new session gets the new names
    shared = session_factory(cache_name, backend, serializer, **kwargs)
    own_kwargs = {k: v for k, v in kwargs.items() if k not in shared.backend_options}
    # The shared ring, so that each new session (one per requests.get) reads no key file.
    own_kwargs.setdefault("keys", shared.key_ring)

    class _InstalledSession(session_factory):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            super().__init__(
                cache_name, backend=shared.cache, serializer=shared.cache.serializer, **own_kwargs
            )
            self.share_cache_of(shared)

        def close(self) -> None:
            # The shared cache outlives each short-lived session; uninstall_cache closes it.
            _ORIGINAL_SESSION.close(self)

    _InstalledSession.__name__ = f"Installed{session_factory.__name__}"
    _close_installed()
    _installed.append(shared)
    _apply(_InstalledSession)


def uninstall_cache() -> None:
    """Restore the original ``requests.Session`` and close the installed cache."""
    _apply(_ORIGINAL_SESSION)
    _close_installed()


def _close_installed() -> None:
    while _installed:
        _installed.pop().close()


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


def delete(*keys: str, **conditions: Any) -> int:
    """Delete from the installed cache, as :meth:`BaseCache.delete`; 0 when none is installed."""
    cache = get_cache()
    return 0 if cache is None else cache.delete(*keys, **conditions)


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
    if is_installed():
        raise RuntimeError("a cache is already installed; uninstall it before enabled()")
    install_cache(*args, **kwargs)
    try:
        yield
    finally:
        uninstall_cache()


def _apply(session_class: type) -> None:
    requests.Session = session_class  # type: ignore[misc, assignment]
    requests.sessions.Session = session_class  # type: ignore[misc, assignment]
