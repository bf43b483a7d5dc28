"""KeyFunction: the cache key of a request under one session's settings and key ring.

A session and its cache use one KeyFunction, built before the cache and given to it, so the
cache computes the keys the session does (``cache.delete(urls=...)``, ``cache.contains``,
``save_response`` of a live response) without a reference back to the session. It remembers
the keys of recent requests (:class:`KeyMemo`): every hit of a URL asks for the same key.
"""

from __future__ import annotations

import contextvars
import hashlib
import secrets
from typing import Any, Final

import attrs
import requests
from requests.structures import CaseInsensitiveDict

from vaultcache import cache_keys
from vaultcache.context_values import ContextValue
from vaultcache.crypto_keys import KeyRing
from vaultcache.policy.settings import CacheSettings

__all__ = ["KeyFunction", "unverified"]

_UNVERIFIED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vaultcache_unverified", default=False
)


def unverified(value: bool) -> ContextValue[bool]:
    """Within the block, keys are those of requests sent with ``verify=False`` (`value`
    True), which are keys of their own, or of verified ones."""
    return ContextValue(_UNVERIFIED, value)


#: How many keys a KeyMemo holds before it starts again.
MEMO_SIZE: Final = 512


class KeyMemo:
    """Keys of recent requests, by a keyed BLAKE2b digest of everything a key is computed from.

    Only digests are kept, so no credential stays in memory through the memo. Bounded: when
    full it is emptied (an atomic ``clear``, safe between threads).
    """

    def __init__(self) -> None:
        self._salt = secrets.token_bytes(16)
        self._keys: dict[bytes, str] = {}

    def digest(self, *inputs: object) -> bytes:
        """The memo's name for `inputs` (text, bytes, None, bools and tuples of them)."""
        text = repr(inputs).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(text, digest_size=16, key=self._salt).digest()

    def get(self, digest: bytes) -> str | None:
        """The key remembered under `digest`, if any."""
        return self._keys.get(digest)

    def put(self, digest: bytes, key: str) -> None:
        """Remember `key` under `digest`."""
        if len(self._keys) >= MEMO_SIZE:
            self._keys.clear()
        self._keys[digest] = key


@attrs.frozen
class KeyFunction:
    """Keys by `settings` (``key_fn``, ``match_headers``, credential and ignored parameters),
    with credentials mixed in under `secrets`: the key ring's ``cache-key`` subkeys, the
    primary's first (none: a plain digest, see :func:`vaultcache.cache_keys.create_key`)."""

    settings: CacheSettings = attrs.field(factory=CacheSettings)
    secrets: tuple[bytes, ...] = ()
    memo: KeyMemo = attrs.field(factory=KeyMemo, init=False, eq=False, repr=False)

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
        secret = secret or (self.secrets[0] if self.secrets else None)
        verify = kwargs.get("verify", not _UNVERIFIED.get())
        digest = self._digest(request, match_headers, secret, verify is False)
        key = None if digest is None else self.memo.get(digest)
        if key is None:
            key = cache_keys.create_key(
                request,
                match_headers=match_headers,
                credential_parameters=settings.credential_parameters,
                ignored_parameters=settings.ignored_parameters,
                secret=secret,
                share_credentials=settings.share_credentials,
                verify=verify,
                shared_headers=settings.shared_credential_headers,
            )
            if digest is not None:
                self.memo.put(digest, key)
        return key

    def _digest(
        self,
        request: requests.PreparedRequest,
        match_headers: tuple[str, ...] | bool,
        secret: bytes | None,
        unverified: bool,
    ) -> bytes | None:
        """The memo's name for this request's key: every input of ``create_key``; None for a
        request whose key is not to be remembered (a streamed body's key is random)."""
        body = request.body
        if not isinstance(request, requests.PreparedRequest) or not (
            body is None or isinstance(body, str | bytes)
        ):
            return None
        headers = request.headers
        fields = (
            headers.lower_items() if isinstance(headers, CaseInsensitiveDict) else headers.items()
        )
        settings = self.settings
        return self.memo.digest(
            request.method,
            request.url,
            body,
            tuple(fields),
            match_headers,
            settings.credential_parameters,
            settings.ignored_parameters,
            settings.share_credentials,
            settings.shared_credential_headers,
            secret,
            unverified,
        )
