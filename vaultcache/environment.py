"""Reading requests' environment settings only when a request is really sent.

``requests.Session.request`` merges proxy and CA settings from the environment before it
calls ``send``; that costs more than a whole cache hit, and a hit needs none of it. While a
session's ``request`` runs (:func:`deferring`), :class:`DeferredEnvironmentMixin` records the
arguments instead, and the session completes the merge on a miss
(:meth:`DeferredEnvironment.merge`).
"""

from __future__ import annotations

import contextvars
from typing import Any

from vaultcache.context_values import ContextValue

__all__ = ["DeferredEnvironment", "DeferredEnvironmentMixin", "deferring"]

_DEFER: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vaultcache_defer_environment", default=False
)


def deferring(defer: bool = True) -> ContextValue[bool]:
    """Within the block, ``merge_environment_settings`` records its arguments (or with
    `defer` False, does the merge)."""
    return ContextValue(_DEFER, defer)


class DeferredEnvironment:
    """The arguments of a postponed ``merge_environment_settings`` call."""

    def __init__(self, *arguments: Any) -> None:
        self.arguments = arguments

    @classmethod
    def take(cls, kwargs: dict[str, Any]) -> DeferredEnvironment | None:
        """The postponed merge that ``send``'s `kwargs` carry as ``proxies``, taken out."""
        deferred = kwargs.get("proxies")
        if not isinstance(deferred, cls):
            return None
        del kwargs["proxies"]
        return deferred

    @property
    def verify(self) -> Any:
        """The ``verify`` argument of the request (None: the session's)."""
        return self.arguments[3]

    def merge(self, session: Any) -> dict[str, Any]:
        """Do the merge now, as requests would have done it."""
        with deferring(False):
            return session.merge_environment_settings(*self.arguments)  # type: ignore[no-any-return]


class DeferredEnvironmentMixin:
    """``merge_environment_settings`` as in requests, but postponed within :func:`deferring`."""

    def merge_environment_settings(
        self, url: str | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """As in requests, but within :func:`deferring` the work waits until a request is
        sent: the settings hold a :class:`DeferredEnvironment` as ``proxies``."""
        if _DEFER.get():
            return {
                "proxies": DeferredEnvironment(url, proxies, stream, verify, cert),
                "stream": stream if stream is not None else self.stream,  # type: ignore[attr-defined]
            }
        return super().merge_environment_settings(url, proxies, stream, verify, cert)  # type: ignore[misc, no-any-return]
