"""The errors of storage: BackendError and CacheNotFoundError."""

from __future__ import annotations

from vaultcache.errors import VaultCacheError

__all__ = ["BackendError", "CacheNotFoundError"]


class BackendError(VaultCacheError):
    """Storage failed for a reason that is not the caller's fault (corrupt file, full disk).

    Carries the backend name and the path involved; the message says how to fix it and
    never contains keys or stored bytes.
    """

    def __init__(self, message: str, *, backend: str, path: str | None = None) -> None:
        self.backend = backend
        self.path = path
        super().__init__(message)


class CacheNotFoundError(BackendError):
    """No cache exists where a backend was asked to open one without creating it."""
