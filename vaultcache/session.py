"""CachedSession and CacheMixin: a requests Session that answers from an encrypted cache.

The session orchestrates and nothing more: keys come from :mod:`vaultcache.cache_key_function`
(which its cache is built with), decisions and their outcomes from :mod:`vaultcache.policy`,
carried out on the cache by :mod:`vaultcache.cache_access`; bytes come from the backend
through the pipeline held by :class:`~vaultcache.cache.BaseCache`. Caching happens in
:meth:`CacheMixin.send`, so adapters mounted with ``session.mount`` (requests-mock among
them), wrapping sessions and response hooks behave as they do on a plain ``requests.Session``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self

import requests
from requests.hooks import dispatch_hook

from vaultcache import cache_keys, clock, compat
from vaultcache.backends.opening import init_backend
from vaultcache.cache import BaseCache
from vaultcache.cache_access import CacheAccess
from vaultcache.cache_key_function import KeyFunction, unverified
from vaultcache.coalescing import KeyLocks
from vaultcache.crypto_key_sources import key_ring_for
from vaultcache.crypto_keys import KeyRing
from vaultcache.environment import DeferredEnvironment, DeferredEnvironmentMixin, deferring
from vaultcache.models import AnyResponse, CachedResponse
from vaultcache.policy.actions import CacheActions, Decision, stored_age
from vaultcache.policy.answers import gateway_timeout
from vaultcache.policy.settings import CacheSettings, RequestOptions, Rfc9111Mode
from vaultcache.refresh import Refresher
from vaultcache.request_context import (
    carried_options,
    carrying,
    following_redirects,
    is_following_redirects,
)
from vaultcache.retention import Retention
from vaultcache.serializers.builder import build_pipeline, spec_needs_keys
from vaultcache.serializers.pipeline import SerializerPipeline
from vaultcache.session_options import DEFAULT_SERIALIZER

__all__ = ["DEFAULT_SERIALIZER", "CacheMixin", "CachedSession"]

logger = logging.getLogger(__name__)


class CacheMixin(compat.SessionCompat, DeferredEnvironmentMixin):
    """Adds caching to any ``requests.Session`` subclass: ``class S(CacheMixin, Session)``.

    `serializer` is a spec string (``"signed+zstd+fernet"``), a registered stage name, a
    SerializerPipeline or any object with dumps/loads; None means ``zstd+aesgcm``.
    `backend` is a registered backend name or a BaseCache (None: sqlite). Keyword arguments
    that the next class's ``__init__`` does not take are backend options. requests-cache's
    old option names are accepted with a DeprecationWarning (:mod:`vaultcache.compat`).
    """

    def __init__(
        self,
        cache_name: str = "http_cache",
        backend: str | BaseCache | None = "sqlite",
        serializer: Any = None,
        *,
        expire_after: Any = -1,
        urls_expire_after: Mapping[str | re.Pattern[str], Any] | None = None,
        cache_control: bool = False,
        rfc9111: Rfc9111Mode | None = None,
        cdn_cache_control: bool = False,
        allowable_codes: Iterable[int] | None = None,
        allowable_methods: Iterable[str] = ("GET", "HEAD"),
        always_revalidate: bool = False,
        credential_parameters: Iterable[str] | None = None,
        ignored_parameters: Iterable[str] | None = None,
        match_headers: Iterable[str] | bool = False,
        share_credentials: bool = False,
        filter_fn: Callable[[Any], bool] | None = None,
        key_fn: Callable[..., str] | None = None,
        stale_if_error: bool | float = False,
        stale_while_revalidate: bool | float = False,
        keys: KeyRing | str | Iterable[str] | None = None,
        serializer_options: Mapping[str, Mapping[str, Any]] | None = None,
        retention: Retention | None = None,
        train_dictionary_after: int | None = None,
        read_only: bool = False,
        autoclose: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs = compat.session_options(kwargs)
        serializer, expire_after = compat.backend_defaults(backend, serializer, expire_after)
        stale_if_error = kwargs.pop("stale_if_error", stale_if_error)
        match_headers = kwargs.pop("match_headers", match_headers)
        retention = kwargs.pop("retention", retention)
        self.settings = CacheSettings(
            expire_after=expire_after,
            urls_expire_after=dict(urls_expire_after) if urls_expire_after else None,
            cache_control=cache_control,
            rfc9111=rfc9111,
            cdn_cache_control=cdn_cache_control,
            allowable_codes=allowable_codes,
            allowable_methods=allowable_methods,
            always_revalidate=always_revalidate,
            credential_parameters=credential_parameters,
            ignored_parameters=ignored_parameters,
            match_headers=match_headers
            if isinstance(match_headers, bool)
            else tuple(match_headers),
            share_credentials=share_credentials,
            filter_fn=filter_fn,
            key_fn=key_fn,
            stale_if_error=stale_if_error,
            stale_while_revalidate=stale_while_revalidate,
            read_only=read_only,
            autoclose=autoclose,
            **compat.settings_only(kwargs),
        )
        session_kwargs, backend_options = compat.split_kwargs(super().__init__, kwargs)
        pipeline, ring = _resolve_serializer(serializer, keys, serializer_options)
        self.key_ring = ring
        self._keys = KeyFunction.for_ring(self.settings, ring)
        self.backend_options = backend_options
        self.cache = init_backend(
            cache_name,
            backend or "sqlite",
            backend_options,
            serializer=pipeline,
            key_ring=ring,
            create_key=self._keys,
        )
        if retention is not None:
            self.cache.retention = retention
            retention.attach(self.cache.storage)
        if train_dictionary_after is not None:
            self.cache.train_after = train_dictionary_after
        self._key_locks = KeyLocks()
        self._refresher = Refresher()
        super().__init__(**session_kwargs)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, **overrides: Any) -> Self:
        """A session set up from `path` or the usual config file search; `overrides` win.

        See :func:`vaultcache.config.load_settings` for where settings are found.
        """
        # The config layer (TOML, the schema and its converters) loads here, on first use:
        # a session built in code never needs it, and it is most of import time.
        from vaultcache.config import load_settings  # noqa: PLC0415
        from vaultcache.config.applying import open_configured  # noqa: PLC0415

        return open_configured(cls, load_settings(path), **overrides)

    def share_cache_of(self, other: CacheMixin) -> None:
        """Use `other`'s cache, settings, credential key and background refresher."""
        self.cache = other.cache
        self.settings = other.settings
        self._keys = other._keys
        self._key_locks = other._key_locks
        self._refresh_later = other._refresh_later  # type: ignore[method-assign]

    @property
    def _access(self) -> CacheAccess:
        """The cache as this session reads and writes it (:mod:`vaultcache.cache_access`)."""
        return CacheAccess(
            self.cache,
            self.settings,
            self.create_key,
            self._keys.older_secrets,
            self,  # type: ignore[arg-type]
        )

    def create_key(
        self,
        request: requests.PreparedRequest,
        *,
        secret: bytes | None = None,
        vary: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> str:
        """The cache key for `request` (``key_fn`` if one was given); see
        :class:`~vaultcache.cache_key_function.KeyFunction`, which the session's cache uses too.

        Credentials are mixed in with an HMAC under the primary key's ``cache-key`` subkey,
        or under `secret` when given (an older key's).
        """
        return self._keys(request, secret=secret, vary=vary, **kwargs)

    # -- requests' entry points ---------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *args: Any,
        expire_after: Any = None,
        only_if_cached: bool = False,
        refresh: bool = False,
        force_refresh: bool = False,
        **kwargs: Any,
    ) -> AnyResponse:
        """As ``requests.Session.request``, plus the per-request cache options.

        The options travel to :meth:`send` in a context variable, never as headers.
        """
        options = RequestOptions(
            expire_after=expire_after,
            only_if_cached=only_if_cached,
            refresh=refresh,
            force_refresh=force_refresh,
        )
        with carrying(options), deferring():
            return super().request(method, url, *args, **kwargs)  # type: ignore[misc, no-any-return]

    def send(
        self,
        request: requests.PreparedRequest,
        *,
        expire_after: Any = None,
        only_if_cached: bool = False,
        refresh: bool = False,
        force_refresh: bool = False,
        **kwargs: Any,
    ) -> AnyResponse:
        """Answer from the cache when allowed, else send and store.

        Takes the per-request options of :meth:`request` too, for prepared requests.
        """
        deferred = DeferredEnvironment.take(kwargs)
        if is_following_redirects():
            return super().send(request, **kwargs)  # type: ignore[misc, no-any-return]
        options = carried_options().given_to_send(
            expire_after=expire_after,
            only_if_cached=only_if_cached,
            refresh=refresh,
            force_refresh=force_refresh,
        )
        verify = kwargs.get("verify") if deferred is None else deferred.verify
        if verify is None:
            verify = getattr(self, "verify", True)
        with unverified(verify is False):
            return self._send(request, options, deferred, kwargs)

    def _send(
        self,
        request: requests.PreparedRequest,
        options: RequestOptions,
        deferred: DeferredEnvironment | None,
        kwargs: dict[str, Any],
    ) -> AnyResponse:
        cache_key = self.create_key(request)
        actions = CacheActions.from_request(
            cache_key,
            request,
            settings=self.settings,
            options=options,
            now=clock.now(),
            stored_headers=lambda: cache_keys.redact_headers(
                request.headers, self.settings.redacted_parameters
            ),
            variant_key=lambda fields: self.create_key(request, vary=fields),
        )
        stream = bool(kwargs.get("stream"))
        cached = None if actions.skip_read else self._access.lookup(request, actions, stream)
        decision = actions.on_cached(cached)
        if decision is Decision.SERVE and cached is not None:
            return self._hit(cached, request, actions, kwargs)
        if decision is Decision.GATEWAY_TIMEOUT:
            return self._deliver(gateway_timeout(request, cache_key), request, kwargs)
        if decision is Decision.SERVE_STALE_AND_REFRESH and cached is not None:
            self.cache.stats.count("hits")
            if deferred is not None:
                kwargs.update(deferred.merge(self))
            self._refresh_later(request, actions, kwargs, cached.variant_group)
            return self._deliver(cached, request, kwargs)
        miss = functools.partial(
            self._miss, request, actions, decision=decision, cached=cached, deferred=deferred
        )
        if actions.skip_write or kwargs.get("stream"):
            return miss(kwargs=kwargs)
        with self._key_locks.hold(cache_key):
            # Another thread may have fetched and stored this key since it was read above.
            stored = None if actions.skip_read else self._access.lookup(request, actions, stream)
            if stored is not None and actions.on_cached(stored) is Decision.SERVE:
                return self._hit(stored, request, actions, kwargs)
            return miss(kwargs=kwargs)

    def _hit(
        self,
        cached: CachedResponse,
        request: requests.PreparedRequest,
        actions: CacheActions,
        kwargs: dict[str, Any],
    ) -> AnyResponse:
        self.cache.stats.count("hits")
        return self._deliver(actions.answer(cached), request, kwargs)

    def _miss(
        self,
        request: requests.PreparedRequest,
        actions: CacheActions,
        *,
        decision: Decision,
        cached: CachedResponse | None,
        deferred: DeferredEnvironment | None,
        kwargs: dict[str, Any],
    ) -> AnyResponse:
        """Send the request (conditionally when revalidating), store, answer."""
        self.cache.stats.count("misses")
        if deferred is not None:
            kwargs.update(deferred.merge(self))
        revalidating = cached if decision is Decision.REVALIDATE else None
        group = None if cached is None else cached.variant_group
        send = functools.partial(self._send_following_redirects, kwargs=kwargs)
        stream = kwargs.get("stream", False)
        response = self._access.fetch(
            request, actions, cached, revalidating, send, stream=stream, group=group
        )
        invalidated = {self.create_key(r) for r in actions.invalidations(request, response)}
        if invalidated:
            self._access.write(self.cache.delete, *invalidated)
        return self._deliver(response, request, kwargs)

    def _send_following_redirects(
        self, request: requests.PreparedRequest, kwargs: dict[str, Any]
    ) -> requests.Response:
        with following_redirects():
            return super().send(request, **kwargs)  # type: ignore[misc, no-any-return]

    def _refresh_later(
        self,
        request: requests.PreparedRequest,
        actions: CacheActions,
        kwargs: dict[str, Any],
        group: str | None,
    ) -> None:
        """stale-while-revalidate: at most one background refresh per key at a time."""
        send = functools.partial(self._send_following_redirects, kwargs={**kwargs, "stream": False})
        fetch = functools.partial(self._access.fetch, stream=False, group=group)
        self._refresher.submit(actions.cache_key, lambda: fetch(request, actions, None, None, send))

    def _deliver(
        self, response: AnyResponse, request: requests.PreparedRequest, kwargs: dict[str, Any]
    ) -> AnyResponse:
        if isinstance(response, CachedResponse):
            response.request = request  # type: ignore[assignment]
            # RFC 9111 §5.1: a reply from a cache says how old it is.
            age = stored_age(response, clock.now())
            response.headers["Age"] = str(int(age.total_seconds()))
        return dispatch_hook("response", request.hooks, response, **kwargs)  # type: ignore[no-untyped-call, no-any-return]

    def close(self) -> None:
        """Close the session, any background refresher, and (with ``autoclose``) its cache."""
        self._refresher.shutdown()
        if self.settings.autoclose:
            self.cache.close()
        super().close()  # type: ignore[misc]


class CachedSession(CacheMixin, requests.Session):  # type: ignore[misc]
    """A ``requests.Session`` with an encrypted, compressed cache. See :class:`CacheMixin`."""


def _resolve_serializer(
    serializer: Any,
    keys: KeyRing | str | Iterable[str] | None,
    options: Mapping[str, Mapping[str, Any]] | None,
) -> tuple[Any, KeyRing | None]:
    """The pipeline to use and the key ring (None when no key is configured or needed)."""
    if serializer is None:
        serializer = DEFAULT_SERIALIZER
    if isinstance(serializer, str):
        ring = key_ring_for(_key_list(keys), required=spec_needs_keys(serializer))
        return build_pipeline(serializer, keys=ring, options=options), ring
    if not (
        callable(getattr(serializer, "dumps", None))
        and callable(getattr(serializer, "loads", None))
    ):
        raise TypeError(
            f"serializer must be a spec string, a SerializerPipeline or an object with "
            f"dumps/loads, not {type(serializer).__name__}"
        )
    if not isinstance(serializer, SerializerPipeline):
        # As a one-stage pipeline, its failures on a bad entry become EntryErrors (misses).
        serializer = SerializerPipeline([serializer])
    return serializer, key_ring_for(_key_list(keys), required=False)


def _key_list(keys: KeyRing | str | Iterable[str] | None) -> KeyRing | str | list[str] | None:
    if keys is None or isinstance(keys, KeyRing | str):
        return keys
    return list(keys)
