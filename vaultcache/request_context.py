"""What travels with one call of a session's ``request`` to its ``send``, in context
variables (never as headers): the per-request cache options, and whether requests is
following redirects (whose hops the session sends on without looking at its cache)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from vaultcache.policy.settings import RequestOptions

__all__ = ["carried_options", "carrying", "following_redirects", "is_following_redirects"]

_OPTIONS: contextvars.ContextVar[RequestOptions | None] = contextvars.ContextVar(
    "vaultcache_request_options", default=None
)
_FOLLOWING_REDIRECTS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vaultcache_following_redirects", default=False
)


@contextlib.contextmanager
def carrying(options: RequestOptions) -> Iterator[None]:
    """Within the block, :func:`carried_options` is `options`."""
    token = _OPTIONS.set(options)
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def carried_options() -> RequestOptions:
    """The options of the ``request`` call under way (the defaults outside one)."""
    return _OPTIONS.get() or RequestOptions()


@contextlib.contextmanager
def following_redirects() -> Iterator[None]:
    """Within the block, requests sends a request and follows its redirects."""
    token = _FOLLOWING_REDIRECTS.set(True)
    try:
        yield
    finally:
        _FOLLOWING_REDIRECTS.reset(token)


def is_following_redirects() -> bool:
    """True within :func:`following_redirects`."""
    return _FOLLOWING_REDIRECTS.get()
