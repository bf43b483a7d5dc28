"""KeyFunction: the cache key of a request under one session's settings and key ring.

A session and its cache use one KeyFunction, built before the cache and given to it, so the
cache computes the keys the session does (``cache.delete(urls=...)``, ``cache.contains``,
``save_response`` of a live response) without a reference back to the session.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import attrs
import requests

from vaultcache import cache_keys
from vaultcache.crypto_keys import KeyRing
from vaultcache.policy.settings import CacheSettings

__all__ = ["KeyFunction", "unverified"]

_UNVERIFIED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vaultcache_unverified", default=False
)


@contextlib.contextmanager
def unverified(value: bool) -> Iterator[None]:
    """Within the block, keys are those of requests sent with ``verify=False`` (`value`
    True), which are keys of their own, or of verified ones."""
    token = _UNVERIFIED.set(value)
    try:
        yield
    finally:
        _UNVERIFIED.reset(token)


@attrs.frozen
class KeyFunction:
    """Keys by `settings` (``key_fn``, ``match_headers``, credential and ignored parameters),
    with credentials mixed in under `secrets`: the key ring's ``cache-key`` subkeys, the
    primary's first (none: a plain digest, see :func:`vaultcache.cache_keys.create_key`)."""

    settings: CacheSettings = attrs.field(factory=CacheSettings)
    secrets: tuple[bytes, ...] = ()

    @classmethod
    def for_ring(cls, settings: CacheSettings, ring: KeyRing | None) -> KeyFunction:
        """The key function of `settings` with the secrets of `ring` (None: no secret)."""
        return cls(settings, tuple(key.subkey("cache-key") for key in ring) if ring else ())

    @property
    def older_secrets(self) -> tuple[bytes, ...]:
        """The secrets of the ring's older keys, which gave keys before a rotation."""
        return self.secrets[1:]

    def __call__(
        self,
        request: requests.PreparedRequest,
        *,
        secret: bytes | None = None,
        vary: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> str:
        """The cache key for `request` (``key_fn``'s if one was given).

        `secret` replaces the primary secret (an older key's, to find entries written before
        a rotation). `vary` names request headers to match on top of ``match_headers``: the
        key of one Vary variant.
        """
        settings = self.settings
        match_headers = settings.match_headers
        if vary and match_headers is not True:
            match_headers = (*(match_headers or ()), *vary)
        if settings.key_fn is not None:
            return settings.key_fn(
                request,
                credential_parameters=settings.credential_parameters,
                ignored_parameters=settings.ignored_parameters,
                match_headers=match_headers,
                **kwargs,
            )
        return cache_keys.create_key(
            request,
            match_headers=match_headers,
            credential_parameters=settings.credential_parameters,
            ignored_parameters=settings.ignored_parameters,
            secret=secret or (self.secrets[0] if self.secrets else None),
            share_credentials=settings.share_credentials,
            verify=kwargs.get("verify", not _UNVERIFIED.get()),
            shared_headers=settings.shared_credential_headers,
        )
