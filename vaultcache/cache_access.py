"""How a session reads and writes its cache: Vary variants, redirects, keys from before a
key rotation, and storage failures that never fail a request.

:class:`CacheAccess` carries out what :class:`~vaultcache.policy.actions.CacheActions`
decides; it decides nothing itself. A read that fails is a miss and a write that fails is a
response not stored: both are logged, neither reaches the caller.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import requests

from vaultcache.backends.base import BackendError
from vaultcache.cache import BaseCache
from vaultcache.errors import EncodeError, EntryError
from vaultcache.models import AnyResponse, CachedResponse, OriginalResponse
from vaultcache.policy.actions import CacheActions
from vaultcache.policy.settings import CacheSettings
from vaultcache.policy.storable import omit_fields
from vaultcache.policy.variants import variant_key
from vaultcache.redaction import redact_response
from vaultcache.redirect_chain import chain_keys, chain_matches, final_request
from vaultcache.streaming import record_stream

__all__ = ["CacheAccess"]

logger = logging.getLogger(__name__)

_NO_HOOKS: dict[str, list[Callable[..., Any]]] = {"response": []}


@attrs.frozen
class CacheAccess:
    """One session's view of its cache: `create_key` is the session's key function, and
    `session` rebuilds the hops of a stored redirect chain (:mod:`vaultcache.redirect_chain`).
    """

    cache: BaseCache
    settings: CacheSettings
    create_key: Callable[..., str]
    older_secrets: Sequence[bytes]
    session: requests.Session

    # -- reading ------------------------------------------------------------------------------

    def lookup(
        self, request: requests.PreparedRequest, actions: CacheActions, stream: bool
    ) -> CachedResponse | None:
        """The stored response for this request, its body ready to serve (read whole, or for
        `stream` its first chunk checked): the primary entry or its matching variant."""
        found = self.find(request, actions)
        if found is None or self.cache.load_body(found, stream=stream):
            return found
        return None  # its body is damaged: the entry is gone, and this is a miss

    def find(
        self, request: requests.PreparedRequest, actions: CacheActions
    ) -> CachedResponse | None:
        """The stored response for this request: the primary entry or its matching variant.

        An entry reached through redirects answers only a request whose hops would carry
        the same credentials (:mod:`vaultcache.redirect_chain`).
        """
        primary = self.read(actions.cache_key)
        if primary is None and self.older_secrets:
            primary = self._read_from_before_rotation(request, actions.cache_key)
        if primary is None or not self._answers(request, primary):
            return None
        key = actions.variant_to_read(primary)
        variant = self.read(key) if key is not None else None
        if variant is not None and variant.variant_group == primary.variant_group:
            return variant if self._answers(request, variant) else None
        return primary  # matches, or a miss whose response joins the primary's group

    def read(self, cache_key: str) -> CachedResponse | None:
        """The response stored under `cache_key`; None when there is none or reading fails."""
        try:
            return self.cache.get_response(cache_key)
        except BackendError as exc:
            logger.warning("cache read failed, treated as a miss: %s", exc)
            return None

    def _answers(self, request: requests.PreparedRequest, cached: CachedResponse) -> bool:
        return chain_matches(self.session, request, cached, self.create_key)

    def _read_from_before_rotation(
        self, request: requests.PreparedRequest, cache_key: str
    ) -> CachedResponse | None:
        """An entry stored under the key an older key ring gave this request; moved to `cache_key`.

        Only requests with credentials have keys that change with the primary key; for the
        others every older secret gives `cache_key` again and nothing is read.
        """
        if self.settings.key_fn is not None:
            return None
        for secret in self.older_secrets:
            old_key = self.create_key(request, secret=secret)
            if old_key == cache_key:
                return None  # no credentials in this request: its key does not depend on keys
            cached = self.read(old_key)
            if cached is not None:
                cached.cache_key = cache_key
                self.write(self.cache.save_response, cached)
                self.write(self.cache.delete, old_key)
                return cached
        return None

    # -- the miss path --------------------------------------------------------------------------

    def fetch(
        self,
        request: requests.PreparedRequest,
        actions: CacheActions,
        cached: CachedResponse | None,
        revalidating: CachedResponse | None,
        send: Callable[[requests.PreparedRequest], requests.Response],
        *,
        stream: bool,
        group: str | None,
    ) -> AnyResponse:
        """Send `request` (conditionally when `revalidating`) with `send`, and store the
        answer in the variant `group`; a stale `cached` answers when the policy allows it."""
        outgoing = request.copy()
        outgoing.hooks = _NO_HOOKS  # hooks run once, on what the caller gets
        if revalidating is not None:
            outgoing.headers.update(actions.conditional_headers(revalidating))
        try:
            response = send(outgoing)
        except requests.RequestException:
            if cached is not None and actions.stale_if_error(cached):
                logger.info("origin failed; serving a stale response (stale-if-error)")
                return cached
            raise
        if cached is not None and actions.stale_instead_of(response, cached):
            logger.info("origin answered %s; serving a stale response", response.status_code)
            response.close()
            return cached
        if response.status_code == 304 and revalidating is not None:
            return self._revalidated(revalidating, response, actions, request)
        response = OriginalResponse.wrap(response, actions.cache_key)
        store, expires = actions.on_response(response)
        if store:
            self.store(response, actions, expires, request, group, stream=stream)
        return response

    def _revalidated(
        self,
        cached: CachedResponse,
        not_modified: requests.Response,
        actions: CacheActions,
        request: requests.PreparedRequest,
    ) -> CachedResponse:
        """A 304: the stored entry, refreshed as the policy says, served as a 200."""
        if actions.on_not_modified(cached, not_modified):
            self.save(cached, request, cached.variant_group)
        else:
            self.write(self.cache.delete, actions.cache_key)
        cached.revalidated = True
        return cached

    # -- writing ------------------------------------------------------------------------------

    def store(
        self,
        response: requests.Response,
        actions: CacheActions,
        expires: Any,
        request: requests.PreparedRequest,
        group: str | None,
        *,
        stream: bool,
    ) -> None:
        """Store a response the policy allows storing: at once, or for a `stream` not yet read
        as the caller reads it (:mod:`vaultcache.streaming`)."""
        request, redirect_keys = final_request(response, request, self.create_key)
        streamed = stream and not getattr(response, "_content_consumed", True)
        cached = CachedResponse.from_response(
            response,
            cache_key=response.cache_key,  # type: ignore[attr-defined]
            expires=expires,
            created_at=actions.now,
            content=b"" if streamed else None,
        )
        omit_fields(cached, actions.omitted_fields(response))
        cached.redirect_chain = chain_keys(response, self.create_key)
        if not streamed:
            self.save(cached, request, group, redirect_keys)
            return
        cached = redact_response(cached, self.settings.redacted_parameters)
        variant = self._join_variants(cached, request, group)
        record_stream(
            self.cache, response, request, cached, redirect_keys=redirect_keys, variant_key=variant
        )

    def save(
        self,
        cached: CachedResponse,
        request: requests.PreparedRequest,
        group: str | None,
        redirect_keys: Iterable[str] = (),
    ) -> None:
        """Store `cached` under its key and, when it has Vary, under its variant key.

        Every response the session stores whole passes here, and is redacted here.
        """
        cached = redact_response(cached, self.settings.redacted_parameters)
        variant = self._join_variants(cached, request, group)
        self.write(self._save_one, cached, redirect_keys)
        if variant is not None:
            self.write(self._save_one, attrs.evolve(cached, cache_key=variant), ())

    def write(self, operation: Callable[..., Any], *args: Any) -> None:
        """Call `operation`; a storage or encoding failure, or a stored body that turns out
        damaged or missing while it is copied (EntryError), is logged, not raised."""
        try:
            operation(*args)
        except (BackendError, EncodeError, EntryError) as exc:
            logger.warning("cache write failed, response not stored: %s", exc)

    def _join_variants(
        self, cached: CachedResponse, request: requests.PreparedRequest, group: str | None
    ) -> str | None:
        """Set `cached`'s variant group; the variant key it is also stored under, if any."""
        key = variant_key(
            cached, cached.cache_key, lambda fields: self.create_key(request, vary=fields)
        )
        cached.variant_group = None if key is None else group or secrets.token_hex(8)
        return key

    def _save_one(self, cached: CachedResponse, redirect_keys: Iterable[str]) -> None:
        self.cache.save_response(cached, redirect_keys=redirect_keys)
