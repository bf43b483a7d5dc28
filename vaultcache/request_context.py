"""What travels with one call of a session's ``request`` to its ``send``, in context
variables (never as headers): the per-request cache options, and whether requests is
following redirects (whose hops the session sends on without looking at its cache)."""

from __future__ import annotations

import contextvars

from vaultcache.context_values import ContextValue
from vaultcache.policy.settings import RequestOptions

__all__ = ["carried_options", "carrying", "following_redirects", "is_following_redirects"]

_OPTIONS: contextvars.ContextVar[RequestOptions | None] = contextvars.ContextVar(
    "vaultcache_request_options", default=None
)
_FOLLOWING_REDIRECTS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vaultcache_following_redirects", default=False
)


def carrying(options: RequestOptions) -> ContextValue[RequestOptions | None]:
    """Within the block, :func:`carried_options` is `options`."""
    return ContextValue(_OPTIONS, options)


def carried_options() -> RequestOptions:
    """The options of the ``request`` call under way (the defaults outside one)."""
    return _OPTIONS.get() or RequestOptions()


def following_redirects() -> ContextValue[bool]:
    """Within the block, requests sends a request and follows its redirects."""
    return ContextValue(_FOLLOWING_REDIRECTS, True)


def is_following_redirects() -> bool:
    """True within :func:`following_redirects`."""
    return _FOLLOWING_REDIRECTS.get()
