"""CachedSession and CacheMixin: a requests Session that answers from an encrypted cache.

The session orchestrates and nothing more: keys come from :mod:`vaultcache.cache_keys`,
decisions from :mod:`vaultcache.policy`, bytes from the backend through the pipeline held by
:class:`~vaultcache.cache.BaseCache`. Caching happens in :meth:`CacheMixin.send`, so adapters
mounted with ``session.mount`` (requests-mock among them), wrapping sessions and response
hooks behave as they do on a plain ``requests.Session``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self

import attrs
import requests
from requests.hooks import dispatch_hook
from requests.structures import CaseInsensitiveDict

from vaultcache import cache_keys, clock, compat
from vaultcache.backends.base import BackendError
from vaultcache.cache import BaseCache
from vaultcache.coalescing import KeyLocks
from vaultcache.config import load_settings
from vaultcache.config.applying import open_configured
from vaultcache.errors import EncodeError
from vaultcache.key_sources import key_ring_for
from vaultcache.keys import KeyRing
from vaultcache.models import AnyResponse, CachedResponse, OriginalResponse
from vaultcache.models.raw import StreamRecorder
from vaultcache.models.response import HeaderFields, received_fields
from vaultcache.policy.actions import CacheActions, Decision, stored_age, varied_fields
from vaultcache.policy.ranges import requested_range
from vaultcache.policy.settings import CacheSettings, RequestOptions, Rfc9111Mode
from vaultcache.policy.storable import storable_fields, storable_headers
from vaultcache.policy.validation import not_modified_for
from vaultcache.redaction import redact_response
from vaultcache.redirect_chain import chain_keys, chain_matches
from vaultcache.registry import get_registry
from vaultcache.retention import Retention
from vaultcache.serializers.builder import build_pipeline, spec_needs_keys
from vaultcache.serializers.pipeline import SerializerPipeline
from vaultcache.session_options import DEFAULT_SERIALIZER
from vaultcache.streaming import StreamedEntry, declared_length, encoded

__all__ = ["DEFAULT_SERIALIZER", "CacheMixin", "CachedSession"]

logger = logging.getLogger(__name__)

_OPTIONS: contextvars.ContextVar[RequestOptions | None] = contextvars.ContextVar(
    "vaultcache_request_options", default=None
)
_FOLLOWING_REDIRECTS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vaultcache_following_redirects", default=False
)
_DEFER_ENVIRONMENT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vaultcache_defer_environment", default=False
)
_UNVERIFIED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vaultcache_unverified", default=False
)
_NO_HOOKS: dict[str, list[Callable[..., Any]]] = {"response": []}


class CacheMixin(compat.SessionCompat):
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
        session_kwargs = _accepted_kwargs(super().__init__, kwargs)
        backend_options = {k: v for k, v in kwargs.items() if k not in session_kwargs}
        pipeline, ring = _resolve_serializer(serializer, keys, serializer_options)
        self.key_ring = ring
        secrets = [key.subkey("cache-key") for key in ring] if ring else []
        self._credential_secret = secrets[0] if secrets else None
        self._older_credential_secrets = secrets[1:]
        self.backend_options = backend_options
        self.cache = init_backend(cache_name, backend or "sqlite", backend_options)
        self.cache.serializer = pipeline
        self.cache.key_ring = ring
        self.cache.create_key = self.create_key
        self.cache.ignored_parameters = self.settings.redacted_parameters
        if retention is not None:
            self.cache.retention = retention
            retention.attach(self.cache.storage)
        self._key_locks = KeyLocks()
        self._refreshing: set[str] = set()
        self._refresh_lock = threading.Lock()
        self._refresher: ThreadPoolExecutor | None = None
        super().__init__(**session_kwargs)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, **overrides: Any) -> Self:
        """A session set up from `path` or the usual config file search; `overrides` win.

        See :func:`vaultcache.config.load_settings` for where settings are found.
        """
        return open_configured(cls, load_settings(path), **overrides)

    def share_cache_of(self, other: CacheMixin) -> None:
        """Use `other`'s cache, settings, credential key and background refresher."""
        self.cache = other.cache
        self.settings = other.settings
        self._credential_secret = other._credential_secret
        self._older_credential_secrets = other._older_credential_secrets
        self._key_locks = other._key_locks
        self._refresh_later = other._refresh_later  # type: ignore[method-assign]

    # -- keys ---------------------------------------------------------------------------------

    def create_key(
        self,
        request: requests.PreparedRequest,
        *,
        secret: bytes | None = None,
        vary: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> str:
        """The cache key for `request` (``key_fn`` if one was given).

        Credentials are mixed in with an HMAC under the primary key's ``cache-key`` subkey,
        or under `secret` when given (an older key's, to find entries written before a
        rotation). `vary` names request headers to match on top of ``match_headers``: the
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
            secret=secret or self._credential_secret,
            share_credentials=settings.share_credentials,
            verify=kwargs.get("verify", not _UNVERIFIED.get()),
            shared_headers=settings.shared_credential_headers,
        )

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
        token = _OPTIONS.set(options)
        defer = _DEFER_ENVIRONMENT.set(True)
        try:
            return super().request(method, url, *args, **kwargs)  # type: ignore[misc, no-any-return]
        finally:
            _DEFER_ENVIRONMENT.reset(defer)
            _OPTIONS.reset(token)

    def merge_environment_settings(
        self, url: str | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """As in requests, but during :meth:`request` the work waits until a request is sent.

        Reading proxy and CA settings from the environment costs more than a whole cache
        hit, and a hit needs none of it; :meth:`send` completes the merge on a miss.
        """
        if _DEFER_ENVIRONMENT.get():
            return {
                "proxies": _DeferredEnvironment(url, proxies, stream, verify, cert),
                "stream": stream if stream is not None else self.stream,  # type: ignore[attr-defined]
            }
        return super().merge_environment_settings(url, proxies, stream, verify, cert)  # type: ignore[misc, no-any-return]

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
        deferred = kwargs.get("proxies")
        if isinstance(deferred, _DeferredEnvironment):
            del kwargs["proxies"]
        else:
            deferred = None
        if _FOLLOWING_REDIRECTS.get():
            return super().send(request, **kwargs)  # type: ignore[misc, no-any-return]
        options = (_OPTIONS.get() or RequestOptions()).given_to_send(
            expire_after=expire_after,
            only_if_cached=only_if_cached,
            refresh=refresh,
            force_refresh=force_refresh,
        )
        verify = kwargs.get("verify") if deferred is None else deferred.verify
        if verify is None:
            verify = getattr(self, "verify", True)
        token = _UNVERIFIED.set(verify is False)
        try:
            return self._send(request, options, deferred, kwargs)
        finally:
            _UNVERIFIED.reset(token)

    def _send(
        self,
        request: requests.PreparedRequest,
        options: RequestOptions,
        deferred: _DeferredEnvironment | None,
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
        cached = None if actions.skip_read else self._lookup(request, actions, stream)
        decision = actions.on_cached(cached)
        if decision is Decision.SERVE and cached is not None:
            return self._hit(cached, request, kwargs)
        if decision is Decision.GATEWAY_TIMEOUT:
            return self._deliver(_gateway_timeout(request, cache_key), request, kwargs)
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
            stored = None if actions.skip_read else self._lookup(request, actions, stream)
            if stored is not None and actions.on_cached(stored) is Decision.SERVE:
                return self._hit(stored, request, kwargs)
            return miss(kwargs=kwargs)

    def _hit(
        self, cached: CachedResponse, request: requests.PreparedRequest, kwargs: dict[str, Any]
    ) -> AnyResponse:
        """Answer with the stored response, or a 304 when the client's validator matches, or
        (in an rfc9111 mode) the part of it a Range asks for."""
        self.cache.stats.count("hits")
        if self.settings.http_semantics and not_modified_for(request.headers, cached.headers):
            return self._deliver(_not_modified(cached), request, kwargs)
        if self.settings.rfc9111 is not None and cached.status_code == 200:
            # The size the entry records: a streamed hit's body is not read to learn it.
            part = requested_range(request.headers, cached.headers, cached.size)
            if part is not None:
                return self._deliver(_partial_content(cached, *part), request, kwargs)
        return self._deliver(cached, request, kwargs)

    def _miss(
        self,
        request: requests.PreparedRequest,
        actions: CacheActions,
        *,
        decision: Decision,
        cached: CachedResponse | None,
        deferred: _DeferredEnvironment | None,
        kwargs: dict[str, Any],
    ) -> AnyResponse:
        """Send the request (conditionally when revalidating), store, answer."""
        self.cache.stats.count("misses")
        if deferred is not None:
            kwargs.update(deferred.merge(self))
        revalidating = cached if decision is Decision.REVALIDATE else None
        group = None if cached is None else cached.variant_group
        response = self._fetch(request, actions, cached, revalidating, kwargs, group=group)
        targets = actions.invalidated_urls(request.method or "GET", request.url or "", response)
        if targets:
            self._invalidate(request, targets)
        return self._deliver(response, request, kwargs)

    def _invalidate(self, request: requests.PreparedRequest, targets: list[str]) -> None:
        """Drop what is stored for the URLs the policy names (RFC 9111 §4.4)."""
        keys = set()
        for url in targets:
            for method in ("GET", "HEAD"):
                lookup = request.copy()
                lookup.method, lookup.body = method, None
                lookup.prepare_url(url, None)
                keys.add(self.create_key(lookup))
        self._write(self.cache.delete, *keys)

    # -- Vary variants (RFC 9111 §4.1) --------------------------------------------------------
    #
    # The newest response for a request's key is stored under that key, as always. A response
    # with Vary is also stored under a variant key, which adds the request's values of the
    # varying fields, so other variants of the URL stay side by side. A lookup whose stored
    # response varies differently follows to its own variant key. Entries of one primary share
    # a random variant_group; deleting or invalidating the primary entry ends the group (a new
    # primary entry starts a new one), so its old variants are never served again.

    def _lookup(
        self, request: requests.PreparedRequest, actions: CacheActions, stream: bool
    ) -> CachedResponse | None:
        """The stored response for this request, its body ready to serve (read whole, or for
        `stream` its first chunk checked): the primary entry or its matching variant."""
        found = self._find(request, actions)
        if found is None or self.cache.load_body(found, stream=stream):
            return found
        return None  # its body is damaged: the entry is gone, and this is a miss

    def _find(
        self, request: requests.PreparedRequest, actions: CacheActions
    ) -> CachedResponse | None:
        """The stored response for this request: the primary entry or its matching variant.

        An entry reached through redirects answers only a request whose hops would carry
        the same credentials (:mod:`vaultcache.redirect_chain`).
        """
        primary = self._read(actions.cache_key)
        if primary is None and self._older_credential_secrets:
            primary = self._read_from_before_rotation(request, actions.cache_key)
        if primary is not None and not self._answers(request, primary):
            return None
        if primary is None or primary.variant_group is None or actions.vary_matches(primary):
            return primary
        fields = varied_fields(primary)
        variant_key = self.create_key(request, vary=fields)
        variant = self._read(variant_key) if variant_key != actions.cache_key else None
        if variant is not None and variant.variant_group == primary.variant_group:
            return variant if self._answers(request, variant) else None
        return primary  # does not match: a miss, whose response joins the primary's group

    def _answers(self, request: requests.PreparedRequest, cached: CachedResponse) -> bool:
        return chain_matches(self, request, cached, self.create_key)  # type: ignore[arg-type]

    def _save(
        self,
        cached: CachedResponse,
        request: requests.PreparedRequest,
        group: str | None,
        redirect_keys: Iterable[str] = (),
    ) -> None:
        """Store `cached` under its key and, when it has Vary, under its variant key.

        Every response the session stores passes here, and is redacted here.
        """
        cached = redact_response(cached, self.settings.redacted_parameters)
        variant_key = self._join_variants(cached, request, group)
        self._write(self._save_one, cached, redirect_keys)
        if variant_key is not None:
            self._write(self._save_one, attrs.evolve(cached, cache_key=variant_key), ())

    def _join_variants(
        self, cached: CachedResponse, request: requests.PreparedRequest, group: str | None
    ) -> str | None:
        """Set `cached`'s variant group; the variant key it is also stored under, if any."""
        fields = varied_fields(cached)
        variant_key = self.create_key(request, vary=fields) if fields else cached.cache_key
        if variant_key == cached.cache_key:
            cached.variant_group = None
            return None
        cached.variant_group = group or secrets.token_hex(8)
        return variant_key

    # -- storage failures never fail a request ------------------------------------------------

    def _read(self, cache_key: str) -> CachedResponse | None:
        try:
            return self.cache.get_response(cache_key)
        except BackendError as exc:
            logger.warning("cache read failed, treated as a miss: %s", exc)
            return None

    def _read_from_before_rotation(
        self, request: requests.PreparedRequest, cache_key: str
    ) -> CachedResponse | None:
        """An entry stored under the key an older key ring gave this request; moved to `cache_key`.

        Only requests with credentials have keys that change with the primary key; for the
        others every older secret gives `cache_key` again and nothing is read.
        """
        if self.settings.key_fn is not None:
            return None
        for secret in self._older_credential_secrets:
            old_key = self.create_key(request, secret=secret)
            if old_key == cache_key:
                return None  # no credentials in this request: its key does not depend on keys
            cached = self._read(old_key)
            if cached is not None:
                cached.cache_key = cache_key
                self._write(self.cache.save_response, cached)
                self._write(self.cache.delete, old_key)
                return cached
        return None

    def _save_one(self, cached: CachedResponse, redirect_keys: Iterable[str]) -> None:
        self.cache.save_response(cached, redirect_keys=redirect_keys)

    def _write(self, operation: Callable[..., Any], *args: Any) -> None:
        try:
            operation(*args)
        except (BackendError, EncodeError) as exc:
            logger.warning("cache write failed, response not stored: %s", exc)

    # -- the miss path --------------------------------------------------------------------------

    def _fetch(
        self,
        request: requests.PreparedRequest,
        actions: CacheActions,
        cached: CachedResponse | None,
        revalidating: CachedResponse | None,
        kwargs: dict[str, Any],
        *,
        group: str | None,
    ) -> AnyResponse:
        """Send `request` (conditionally when `revalidating`), store the answer in `group`."""
        outgoing = request.copy()
        outgoing.hooks = _NO_HOOKS  # hooks run once, in _deliver, on what the caller gets
        if revalidating is not None:
            outgoing.headers.update(actions.conditional_headers(revalidating))
        try:
            response = self._send_following_redirects(outgoing, kwargs)
        except requests.RequestException:
            if actions.stale_if_error(cached):
                logger.info("origin failed; serving a stale response (stale-if-error)")
                return cached  # type: ignore[return-value]
            raise
        if actions.stale_instead_of(response, cached):
            logger.info("origin answered %s; serving a stale response", response.status_code)
            response.close()
            return cached  # type: ignore[return-value]
        if response.status_code == 304 and revalidating is not None:
            return self._revalidated(revalidating, response, actions, request)
        response = OriginalResponse.wrap(response, actions.cache_key)
        store, expires = actions.on_response(response)
        if store:
            self._store(
                response, actions, expires, request, group, stream=kwargs.get("stream", False)
            )
        return response

    def _send_following_redirects(
        self, request: requests.PreparedRequest, kwargs: dict[str, Any]
    ) -> requests.Response:
        token = _FOLLOWING_REDIRECTS.set(True)
        try:
            return super().send(request, **kwargs)  # type: ignore[misc, no-any-return]
        finally:
            _FOLLOWING_REDIRECTS.reset(token)

    def _revalidated(
        self,
        cached: CachedResponse,
        not_modified: requests.Response,
        actions: CacheActions,
        request: requests.PreparedRequest,
    ) -> CachedResponse:
        """A 304: refresh the stored entry's headers and expiry; serve it as a 200.

        The refreshed response becomes the newest under the request's key (and its variant's).
        """
        for name, value in storable_headers(not_modified.headers).items():
            if name.lower() not in _KEEP_ON_304:
                cached.headers[name] = value
        updates = storable_fields(received_fields(not_modified))
        cached.header_fields = _updated_fields(
            cached.header_fields,
            [field for field in updates if field[0].lower() not in _KEEP_ON_304],
        )
        store, expires = actions.on_response(cached)
        if store:
            cached.expires = expires
            cached.created_at = actions.now  # validated now: its age starts again
            if actions.cache_key not in cached.redirect_keys:  # else it stays at its final URL
                cached.cache_key = actions.cache_key
            self._save(cached, request, cached.variant_group)
        else:
            self._write(self.cache.delete, actions.cache_key)
        cached.revalidated = True
        return cached

    def _store(
        self,
        response: requests.Response,
        actions: CacheActions,
        expires: Any,
        request: requests.PreparedRequest,
        group: str | None,
        *,
        stream: bool,
    ) -> None:
        redirect_keys = [self.create_key(r.request) for r in response.history if r.request]
        if redirect_keys and response.request is not None:
            # Stored once, under the final URL's own key; the redirecting requests' keys
            # lead to it through cache.redirects.
            request = response.request
            response.cache_key = self.create_key(request)  # type: ignore[attr-defined]
        chain = chain_keys(response, self.create_key)
        streamed = stream and not getattr(response, "_content_consumed", True)
        cached = CachedResponse.from_response(
            response,
            cache_key=response.cache_key,  # type: ignore[attr-defined]
            expires=expires,
            created_at=actions.now,
            content=b"" if streamed else None,
        )
        omitted = {name.lower() for name in actions.omitted_fields(response)}
        if omitted:  # private="field" in a shared cache (RFC 9111 §5.2.2.7)
            for name in omitted:
                cached.headers.pop(name, None)
            cached.header_fields = [f for f in cached.header_fields if f[0].lower() not in omitted]
        cached.redirect_chain = chain
        if not streamed:
            self._save(cached, request, group, redirect_keys)
            return
        cached = redact_response(cached, self.settings.redacted_parameters)
        variant_key = self._join_variants(cached, request, group)
        try:
            sink = StreamedEntry(self.cache, cached, redirect_keys, variant_key)
        except (BackendError, EncodeError) as exc:
            logger.warning("cache write failed, response not stored: %s", exc)
            return
        response.raw = StreamRecorder(
            response.raw, encoded(response), sink, declared_length(request, response)
        )

    def _refresh_later(
        self,
        request: requests.PreparedRequest,
        actions: CacheActions,
        kwargs: dict[str, Any],
        group: str | None,
    ) -> None:
        """stale-while-revalidate: at most one background refresh per key at a time."""
        with self._refresh_lock:
            if actions.cache_key in self._refreshing:
                return
            self._refreshing.add(actions.cache_key)
            if self._refresher is None:
                self._refresher = ThreadPoolExecutor(2, thread_name_prefix="vaultcache-refresh")
        kwargs = {**kwargs, "stream": False}

        def refresh() -> None:
            try:
                self._fetch(request, actions, None, None, kwargs, group=group)
            except Exception as exc:
                # Only the type: requests' messages quote the URL, credentials in it included.
                logger.warning(
                    "background refresh of %s failed: %s", actions.cache_key, type(exc).__name__
                )
            finally:
                with self._refresh_lock:
                    self._refreshing.discard(actions.cache_key)

        self._refresher.submit(contextvars.copy_context().run, refresh)

    # -- what the caller gets -------------------------------------------------------------------

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
        if self._refresher is not None:
            self._refresher.shutdown(wait=True)
        if self.settings.autoclose:
            self.cache.close()
        super().close()  # type: ignore[misc]


class CachedSession(CacheMixin, requests.Session):  # type: ignore[misc]
    """A ``requests.Session`` with an encrypted, compressed cache. See :class:`CacheMixin`."""


class _DeferredEnvironment:
    """The arguments of a postponed ``merge_environment_settings`` call."""

    def __init__(self, *arguments: Any) -> None:
        self.arguments = arguments

    @property
    def verify(self) -> Any:
        """The ``verify`` argument of the request (None: the session's)."""
        return self.arguments[3]

    def merge(self, session: Any) -> dict[str, Any]:
        """Do the merge now, as requests would have done it."""
        token = _DEFER_ENVIRONMENT.set(False)
        try:
            return session.merge_environment_settings(*self.arguments)  # type: ignore[no-any-return]
        finally:
            _DEFER_ENVIRONMENT.reset(token)


# Fields a 304 must not overwrite in the stored response (RFC 9111 §3.2 and §4.3.4).
_KEEP_ON_304 = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "content-range"}
)


def _updated_fields(stored: HeaderFields, updates: HeaderFields) -> HeaderFields:
    """`stored` with every field named in `updates` replaced by the updates of its name, where
    the first of them stood (RFC 9111 §3.2); names new to `stored` are appended."""
    grouped: dict[str, HeaderFields] = {}
    for name, value in updates:
        grouped.setdefault(name.lower(), []).append((name, value))
    merged: HeaderFields = []
    placed: set[str] = set()
    for name, value in stored:
        key = name.lower()
        if key not in grouped:
            merged.append((name, value))
        elif key not in placed:
            merged.extend(grouped[key])
            placed.add(key)
    for key, group in grouped.items():
        if key not in placed:
            merged.extend(group)
    return merged


# Fields that describe a body, which a 304 does not have (RFC 9110 §15.4.5).
_BODY_FIELDS = frozenset({"content-length", "content-type", "content-encoding", "content-range"})


def _not_modified(cached: CachedResponse) -> CachedResponse:
    """The stored response as a 304 for a client whose validator matched."""
    headers = {k: v for k, v in cached.headers.items() if k.lower() not in _BODY_FIELDS}
    fields = [(k, v) for k, v in cached.header_fields if k.lower() not in _BODY_FIELDS]
    return attrs.evolve(
        cached,
        status_code=304,
        reason="Not Modified",
        content=b"",
        headers=headers,
        header_fields=fields,
    )


def _partial_content(cached: CachedResponse, first: int, last: int) -> CachedResponse:
    """The stored response as a 206 holding bytes `first` to `last` (RFC 9110 §15.3.7)."""
    headers = CaseInsensitiveDict(cached.headers)
    headers["Content-Range"] = f"bytes {first}-{last}/{len(cached.content)}"
    headers["Content-Length"] = str(last - first + 1)
    return attrs.evolve(
        cached,
        status_code=206,
        reason="Partial Content",
        content=cached.content[first : last + 1],
        headers=headers,
    )


def _gateway_timeout(request: requests.PreparedRequest, cache_key: str) -> OriginalResponse:
    """The 504 that ``only_if_cached`` gets when nothing usable is stored (RFC 9111 §5.2.1.7)."""
    response = requests.Response()
    response.status_code = 504
    response.reason = "Not Cached"
    response.url = request.url or ""
    response.request = request
    response._content = b""
    return OriginalResponse.wrap(response, cache_key)


def _accepted_kwargs(function: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The part of `kwargs` that `function` (the next __init__ in the MRO) accepts."""
    names = {
        parameter.name
        for parameter in inspect.signature(function).parameters.values()
        if parameter.kind
        in {inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD}
    }
    return {name: value for name, value in kwargs.items() if name in names}


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


def init_backend(cache_name: str, backend: str | BaseCache, options: dict[str, Any]) -> BaseCache:
    """The cache `backend` names (a registered backend, built with `options`), or `backend`
    itself when it is a BaseCache already."""
    if isinstance(backend, BaseCache):
        if options:
            raise TypeError(
                f"backend options {sorted(options)} cannot be used with a BaseCache instance"
            )
        return backend
    registration = get_registry().backend(backend)
    registration.ensure_available()
    cache = registration.factory(cache_name, options)
    if not isinstance(cache, BaseCache):
        raise TypeError(f"backend {backend!r} did not return a BaseCache")
    return cache
