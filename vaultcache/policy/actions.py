"""CacheActions: what to do with one request, decided from settings, options and headers.

The session asks three questions in order; this module answers them and does no I/O:

1. :meth:`CacheActions.from_request`: may the cache be read or written for this request,
   and what expiry applies? (per-request options, URL rules, session settings, and with
   ``cache_control=True`` the request's own Cache-Control / Pragma)
2. :meth:`CacheActions.on_cached`: given what is stored, serve it, revalidate it, send a
   new request, or answer 504 (only-if-cached)?
3. :meth:`CacheActions.on_response`: may this response be stored, and until when?

and then the outcomes the session carries out: :meth:`CacheActions.answer` (a stored
response, a 304 or a range of it), :meth:`CacheActions.on_not_modified` (a 304 merged into
the stored response), :meth:`CacheActions.variant_to_read` (Vary, RFC 9111 §4.1) and
:meth:`CacheActions.invalidations` (what an unsafe request's answer ends, RFC 9111 §4.4).
With ``rfc9111="private"`` or ``"shared"`` the answers follow RFC 9111 for that kind of
cache (:mod:`vaultcache.policy.freshness`); with ``cache_control=True`` alone they keep
requests-cache's private-cache semantics, where ``expire_after`` is the lifetime of
responses that give none.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
import requests

from vaultcache.models import CachedResponse
from vaultcache.policy import directives as cc
from vaultcache.policy.age import current_age, initial_age
from vaultcache.policy.answers import hit_answer
from vaultcache.policy.expiration import (
    NOT_FOUND,
    get_expiration_datetime,
    get_url_expiration,
    is_do_not_cache,
)
from vaultcache.policy.freshness import (
    HEURISTIC_FRACTION,
    HEURISTICALLY_CACHEABLE,
    ResponseRules,
    explicit_expires_lifetime,
    heuristic_lifetime,
)
from vaultcache.policy.invalidation import invalidated_lookups, invalidated_urls
from vaultcache.policy.revalidation import merge_not_modified
from vaultcache.policy.settings import CacheSettings, RequestOptions
from vaultcache.policy.variants import variant_key

__all__ = ["HEURISTIC_FRACTION", "CacheActions", "Decision", "stored_age"]


#: A request's directives when headers do not decide (frozen, so one serves every request).
_NO_DIRECTIVES = cc.CacheDirectives()


class Decision(enum.Enum):
    """What to do once the stored response (if any) is known."""

    SERVE = "serve"
    REVALIDATE = "revalidate"
    SEND = "send"
    GATEWAY_TIMEOUT = "504"
    SERVE_STALE_AND_REFRESH = "serve-stale-and-refresh"


@attrs.define
class CacheActions:
    """The cache's plan for one request."""

    cache_key: str
    settings: CacheSettings
    now: datetime
    skip_read: bool = False
    skip_write: bool = False
    only_if_cached: bool = False
    revalidate: bool = False
    expire_after: Any = -1
    request_directives: cc.CacheDirectives = attrs.field(factory=cc.CacheDirectives)
    stored_headers: Callable[[], Mapping[str, str]] | None = None
    request_headers: Mapping[str, str] = attrs.field(factory=dict)
    variant_key: Callable[[tuple[str, ...]], str] | None = None

    @classmethod
    def from_request(
        cls,
        cache_key: str,
        request: requests.PreparedRequest,
        *,
        settings: CacheSettings,
        options: RequestOptions,
        now: datetime,
        stored_headers: Callable[[], Mapping[str, str]] | None = None,
        variant_key: Callable[[tuple[str, ...]], str] | None = None,
    ) -> CacheActions:
        """Plan from the request alone.

        `stored_headers` gives the request's headers as they would be stored (credentials
        redacted), for comparing with a stored response's Vary; it is called only then.
        `variant_key` gives this request's key for a list of Vary fields (credentials mixed
        in as keyed digests of their real values), for a Vary on a credential header.
        """
        expire_after = options.expire_after
        if expire_after is None:
            by_url = get_url_expiration(request.url or "", settings.urls_expire_after)
            expire_after = settings.expire_after if by_url is NOT_FOUND else by_url
        directives = (
            cc.request_directives(request.headers) if settings.http_semantics else _NO_DIRECTIVES
        )
        uncacheable = (
            settings.disabled
            or (request.method or "GET").upper() not in settings.allowable_methods
            or is_do_not_cache(expire_after)
            or directives.no_store
        )
        return cls(
            cache_key=cache_key,
            settings=settings,
            now=now,
            skip_read=uncacheable or options.force_refresh,
            skip_write=uncacheable or settings.read_only,
            only_if_cached=(
                options.only_if_cached or settings.only_if_cached or directives.only_if_cached
            ),
            revalidate=(
                options.refresh
                or settings.always_revalidate
                or directives.no_cache
                or directives.max_age == 0
            ),
            expire_after=expire_after,
            request_directives=directives,
            stored_headers=stored_headers,
            request_headers=request.headers,
            variant_key=variant_key,
        )

    def on_cached(self, cached: CachedResponse | None) -> Decision:
        """Decide from the stored response (None when nothing usable is stored)."""
        if cached is not None and not self._usable(cached):
            cached = None
        if cached is None:
            return Decision.GATEWAY_TIMEOUT if self.only_if_cached else Decision.SEND
        if self.only_if_cached:
            # A stale response that stale_if_error allows beats a 504, as in requests-cache.
            usable = self._acceptable(cached) or self.stale_if_error(cached)
            return Decision.SERVE if usable else Decision.GATEWAY_TIMEOUT
        if self.revalidate and not self._immutable_and_fresh(cached):
            return Decision.REVALIDATE if _has_validators(cached) else Decision.SEND
        if self._acceptable(cached):
            return Decision.SERVE
        if self._within_stale_while_revalidate(cached):
            return Decision.SERVE_STALE_AND_REFRESH
        return Decision.REVALIDATE if _has_validators(cached) else Decision.SEND

    def _acceptable(self, cached: CachedResponse) -> bool:
        """Fresh enough for this request (request max-age / max-stale / min-fresh honoured)."""
        directives = self.request_directives
        now = self.now
        if directives.max_age is not None and stored_age(cached, now) > timedelta(
            seconds=directives.max_age
        ):
            return False
        if cached.expires is None:
            return True
        fresh_until = now
        if directives.min_fresh is not None:
            fresh_until = now + timedelta(seconds=directives.min_fresh)
        if cached.expires > fresh_until:
            return True
        if directives.max_stale is None or self._never_stale(cached):
            return False
        if directives.max_stale == "any":
            return True
        return now - cached.expires <= timedelta(seconds=int(directives.max_stale))

    def _usable(self, cached: CachedResponse) -> bool:
        """The stored response matches this request's Vary fields and passes filter_fn."""
        filter_fn = self.settings.filter_fn
        return self.vary_matches(cached) and (filter_fn is None or bool(filter_fn(cached)))

    def vary_matches(self, cached: CachedResponse) -> bool:
        """RFC 9111 §4.1: every field the stored response varies on must match this request."""
        fields = cc.vary_fields(cached.headers)
        if fields == "*":
            return False
        if not fields:
            return True
        if self.variant_key is not None and self._credential_fields(fields):
            # Stored credentials are redacted: compare keyed digests of the real values, which
            # the variant key holds, with the key the stored response is bound to.
            return cached.cache_key == self.variant_key(fields)
        current = self.stored_headers() if self.stored_headers else self.request_headers
        stored = cached.request.headers
        return all(_normalized(stored.get(f)) == _normalized(current.get(f)) for f in fields)

    def _credential_fields(self, fields: tuple[str, ...]) -> bool:
        lowered = {name.lower() for name in self.settings.credential_parameters}
        return any(field.lower() in lowered for field in fields)

    def _immutable_and_fresh(self, cached: CachedResponse) -> bool:
        """RFC 8246: a fresh immutable response is not revalidated on a refresh."""
        return (
            self.settings.http_semantics
            and not self.request_directives.no_cache
            and cc.response_directives(cached.headers).immutable
            and self._acceptable(cached)
        )

    def _within_stale_while_revalidate(self, cached: CachedResponse) -> bool:
        window = self._stale_window(
            self.settings.stale_while_revalidate, cached, "stale_while_revalidate"
        )
        return (
            window is not None
            and cached.expires is not None
            and not self._never_stale(cached)
            and self.now - cached.expires <= window
        )

    def _stale_window(
        self, setting: bool | float, cached: CachedResponse, name: str
    ) -> timedelta | None:
        """The stale window: seconds from the setting; True: the response's directive, else
        any. False: none, except in an rfc9111 mode, where the origin's own
        ``stale-while-revalidate`` / ``stale-if-error`` (RFC 5861) grants one."""
        seconds = getattr(self.response_rules_of(cached).directives, name)
        if setting is False:
            if self.settings.rfc9111 is None or seconds is None:
                return None
            return timedelta(seconds=seconds)
        if setting is True:
            return timedelta.max if seconds is None else timedelta(seconds=seconds)
        return timedelta(seconds=float(setting))

    def stale_if_error(self, cached: CachedResponse | None) -> bool:
        """True when `cached` may stand in for a failed request (stale-if-error)."""
        if cached is None or not self._usable(cached) or self._never_stale(cached):
            return False
        window = self._stale_window(self.settings.stale_if_error, cached, "stale_if_error")
        if window is None:
            return False
        return cached.expires is None or self.now - cached.expires <= window

    def stale_instead_of(self, response: requests.Response, cached: CachedResponse | None) -> bool:
        """True when `response` is an error and `cached` may stand in for it.

        An error is a 5xx (RFC 5861 §4), or a status of 400 or more that the allowed codes
        do not list (as requests-cache counts errors).
        """
        status = response.status_code
        error = status >= 500 or (status >= 400 and not self.settings.code_allowed(status))
        return error and self.stale_if_error(cached)

    def conditional_headers(self, cached: CachedResponse) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for revalidating `cached`."""
        return cc.conditional_headers(cached.headers)

    def on_response(self, response: requests.Response) -> tuple[bool, datetime | None]:
        """Whether to store `response`, and its expiry (None: never expires)."""
        settings = self.settings
        if self.skip_write or not settings.code_allowed(response.status_code):
            return False, None
        if settings.filter_fn is not None and not settings.filter_fn(response):
            return False, None
        expires = get_expiration_datetime(self.expire_after, now=self.now)
        if settings.rfc9111 is not None:
            return self._rfc9111_expiry(response, cap=expires)
        if not settings.cache_control:
            return True, expires
        directives = cc.response_directives(response.headers)
        if directives.no_store or cc.vary_fields(response.headers) == "*":
            return False, None
        if directives.revalidate_always:
            return True, self.now
        age = initial_age(response.headers, response_time=self.now, response_delay=response.elapsed)
        if directives.max_age is not None:
            return True, self.now + timedelta(seconds=directives.max_age) - age
        lifetime = explicit_expires_lifetime(response.headers, response_time=self.now)
        if lifetime is not None:
            fresh_until = self.now + lifetime - age
            if fresh_until <= self.now and not _has_validators(response):
                return False, None
            return True, fresh_until
        heuristic = self._heuristic_lifetime(response)
        return True, expires if heuristic is None else self.now + heuristic

    def _rfc9111_expiry(
        self, response: requests.Response, *, cap: datetime | None
    ) -> tuple[bool, datetime | None]:
        """RFC 9111 §3 and §4.2 as a private or shared cache; `cap` is expire_after's expiry.

        A response without explicit freshness (and no heuristic one, §4.2.2) is stale at
        once: stored only when it has a validator, so it can be revalidated (§4.3).
        """
        rules = self.response_rules_of(response)
        authorization = cc.header_value(self.request_headers, "Authorization") is not None
        if not rules.storable(response.status_code, response.headers, authorization=authorization):
            return False, None
        if cc.vary_fields(response.headers) == cc.VARY_ANY:
            return False, None
        if rules.revalidate_always:
            return True, self.now
        lifetime = rules.lifetime(response.headers, response.status_code, response_time=self.now)
        age = initial_age(response.headers, response_time=self.now, response_delay=response.elapsed)
        fresh_until = self.now + lifetime - age
        if cap is not None:
            fresh_until = min(fresh_until, cap)
        if fresh_until <= self.now and not _has_validators(response):
            return False, None
        return True, fresh_until

    def response_rules_of(self, response: requests.Response) -> ResponseRules:
        """What RFC 9111 lets this cache (private or shared) do with `response`."""
        return ResponseRules.of(response.headers, self.settings)

    def omitted_fields(self, response: requests.Response) -> tuple[str, ...]:
        """Header fields of `response` that must not be stored with it (shared: private=...)."""
        if self.settings.rfc9111 is None:
            return ()
        return self.response_rules_of(response).omitted_fields

    def invalidations(
        self, request: requests.PreparedRequest, response: requests.Response
    ) -> list[requests.PreparedRequest]:
        """RFC 9111 §4.4: the lookups whose stored responses the answer to an unsafe request
        ends (:mod:`vaultcache.policy.invalidation`); only when headers decide
        (``cache_control`` or an rfc9111 mode)."""
        if not self.settings.http_semantics:
            return []
        urls = invalidated_urls(request.method or "GET", request.url or "", response)
        return invalidated_lookups(request, urls)

    def on_not_modified(self, cached: CachedResponse, not_modified: requests.Response) -> bool:
        """RFC 9111 §4.3.4: refresh `cached` with the 304 that validated it. True when it is
        to be stored again (its expiry, age and key renewed), False when it is to be deleted.
        """
        merge_not_modified(cached, not_modified)
        store, expires = self.on_response(cached)
        if store:
            cached.expires = expires
            cached.created_at = self.now  # validated now: its age starts again
            if self.cache_key not in cached.redirect_keys:  # else it stays at its final URL
                cached.cache_key = self.cache_key
        return store

    def variant_to_read(self, primary: CachedResponse) -> str | None:
        """RFC 9111 §4.1: the variant key to read when the stored `primary` response varies
        in a way this request does not match; None when `primary` is the one to consider."""
        if primary.variant_group is None or self.variant_key is None or self.vary_matches(primary):
            return None
        return variant_key(primary, self.cache_key, self.variant_key)

    def answer(self, cached: CachedResponse) -> CachedResponse:
        """What a hit on `cached` answers (:func:`vaultcache.policy.answers.hit_answer`)."""
        return hit_answer(cached, self.request_headers, self.settings)

    def _never_stale(self, cached: CachedResponse) -> bool:
        """True when `cached` must not be served stale (must-revalidate and its kin)."""
        if self.settings.rfc9111 is not None:
            return self.response_rules_of(cached).never_stale
        return _must_revalidate(cached)

    def _heuristic_lifetime(self, response: requests.Response) -> timedelta | None:
        """RFC 9111 §4.2.2: a tenth of the time since Last-Modified, for a response with no
        explicit lifetime and a heuristically cacheable status code (RFC 9110 §15.1), when
        the session sets no expire_after of its own."""
        if not is_never_expire_default(self.expire_after):
            return None
        if response.status_code not in HEURISTICALLY_CACHEABLE:
            return None
        return heuristic_lifetime(response.headers, response_time=self.now)


def is_never_expire_default(expire_after: Any) -> bool:
    """True for the session's default expire_after (never), however it is spelled."""
    return expire_after is None or (isinstance(expire_after, int) and expire_after == -1)


def stored_age(cached: CachedResponse, now: datetime) -> timedelta:
    """The current age of a stored response (RFC 9111 §4.2.3)."""
    return current_age(
        cached.headers, response_time=cached.created_at, response_delay=cached.elapsed, now=now
    )


def _normalized(value: str | None) -> str | None:
    """A header value with whitespace runs folded, for Vary comparison (§4.1)."""
    return None if value is None else " ".join(value.split())


def _has_validators(response: requests.Response) -> bool:
    return "ETag" in response.headers or "Last-Modified" in response.headers


def _must_revalidate(cached: CachedResponse) -> bool:
    directives = cc.response_directives(cached.headers)
    return directives.must_revalidate or directives.revalidate_always
