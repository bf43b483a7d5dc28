"""CacheActions: what to do with one request, decided from settings, options and headers.

The session asks three questions in order; this module answers them and does no I/O:

1. :meth:`CacheActions.from_request`: may the cache be read or written for this request,
   and what expiry applies? (per-request options, URL rules, session settings, and with
   ``cache_control=True`` the request's own Cache-Control / Pragma)
2. :meth:`CacheActions.on_cached`: given what is stored, serve it, revalidate it, send a
   new request, or answer 504 (only-if-cached)?
3. :meth:`CacheActions.on_response`: may this response be stored, and until when?
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
import requests

from vaultcache.cache_keys import DEFAULT_IGNORED_PARAMETERS
from vaultcache.models import CachedResponse
from vaultcache.policy import directives as cc
from vaultcache.policy.age import current_age, initial_age
from vaultcache.policy.expiration import (
    NOT_FOUND,
    get_expiration_datetime,
    get_url_expiration,
    is_do_not_cache,
)
from vaultcache.policy.settings import CacheSettings, RequestOptions

__all__ = ["HEURISTIC_FRACTION", "CacheActions", "Decision", "stored_age", "varied_fields"]

#: Share of the time since Last-Modified that a response without an explicit lifetime stays
#: fresh for (RFC 9111 §4.2.2 suggests 10%); only with cache_control=True.
HEURISTIC_FRACTION = 0.1


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
            cc.request_directives(request.headers)
            if settings.cache_control
            else cc.CacheDirectives()
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
            skip_write=uncacheable,
            only_if_cached=options.only_if_cached or directives.only_if_cached,
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
        if self.only_if_cached and self._acceptable(cached):
            return Decision.SERVE
        if self.only_if_cached:
            return Decision.GATEWAY_TIMEOUT
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
        if directives.max_stale is None or _must_revalidate(cached):
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
        ignored = self.settings.ignored_parameters
        names = DEFAULT_IGNORED_PARAMETERS if ignored is None else ignored
        lowered = {name.lower() for name in names}
        return any(field.lower() in lowered for field in fields)

    def _immutable_and_fresh(self, cached: CachedResponse) -> bool:
        """RFC 8246: a fresh immutable response is not revalidated on a refresh."""
        return (
            self.settings.cache_control
            and not self.request_directives.no_cache
            and cc.response_directives(cached.headers).immutable
            and self._acceptable(cached)
        )

    def _within_stale_while_revalidate(self, cached: CachedResponse) -> bool:
        window = _stale_window(
            self.settings.stale_while_revalidate, cached, "stale_while_revalidate"
        )
        return (
            window is not None
            and cached.expires is not None
            and not _must_revalidate(cached)
            and self.now - cached.expires <= window
        )

    def stale_if_error(self, cached: CachedResponse | None) -> bool:
        """True when `cached` may stand in for a failed request (stale-if-error)."""
        if cached is None or not self._usable(cached) or _must_revalidate(cached):
            return False
        window = _stale_window(self.settings.stale_if_error, cached, "stale_if_error")
        if window is None:
            return False
        return cached.expires is None or self.now - cached.expires <= window

    def conditional_headers(self, cached: CachedResponse) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for revalidating `cached`."""
        return cc.conditional_headers(cached.headers)

    def on_response(self, response: requests.Response) -> tuple[bool, datetime | None]:
        """Whether to store `response`, and its expiry (None: never expires)."""
        if self.skip_write or response.status_code not in self.settings.allowable_codes:
            return False, None
        if self.settings.filter_fn is not None and not self.settings.filter_fn(response):
            return False, None
        expires = get_expiration_datetime(self.expire_after, now=self.now)
        if not self.settings.cache_control:
            return True, expires
        directives = cc.response_directives(response.headers)
        if directives.no_store or cc.vary_fields(response.headers) == "*":
            return False, None
        if directives.revalidate_always:
            return True, self.now
        if directives.max_age is not None:
            age = initial_age(
                response.headers, response_time=self.now, response_delay=response.elapsed
            )
            return True, self.now + timedelta(seconds=directives.max_age) - age
        if "Expires" in response.headers:
            header_expires = cc.parse_expires(response.headers.get("Expires"), now=self.now)
            if header_expires <= self.now and not _has_validators(response):
                return False, None
            return True, header_expires
        heuristic = self._heuristic_lifetime(response)
        return True, expires if heuristic is None else self.now + heuristic

    def _heuristic_lifetime(self, response: requests.Response) -> timedelta | None:
        """RFC 9111 §4.2.2: a tenth of the time since Last-Modified, for a response with no
        explicit lifetime, when the session sets no expire_after of its own."""
        if not is_never_expire_default(self.expire_after):
            return None
        modified = cc.parse_http_date(response.headers.get("Last-Modified"))
        date = cc.parse_http_date(response.headers.get("Date")) or self.now
        if modified is None or modified >= date:
            return None
        return (date - modified) * HEURISTIC_FRACTION


def is_never_expire_default(expire_after: Any) -> bool:
    """True for the session's default expire_after (never), however it is spelled."""
    return expire_after is None or (isinstance(expire_after, int) and expire_after == -1)


def varied_fields(response: requests.Response) -> tuple[str, ...]:
    """The request fields a response varies on, when it can have sibling variants.

    Empty for no Vary and for ``Vary: *``, which no later request can match (§4.1).
    """
    fields = cc.vary_fields(response.headers)
    return () if fields == cc.VARY_ANY else fields


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


def _stale_window(setting: bool | float, cached: CachedResponse, name: str) -> timedelta | None:
    """The stale window: seconds from the setting; True: the response's directive, else any."""
    if setting is False:
        return None
    if setting is True:
        seconds = getattr(cc.response_directives(cached.headers), name)
        return timedelta.max if seconds is None else timedelta(seconds=seconds)
    return timedelta(seconds=float(setting))
