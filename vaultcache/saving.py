"""What a response may keep when stored, and turning a live response into one to store.

:func:`redacted` is the one place credentials and hop-by-hop fields are taken out of a
response before it is written. :func:`to_store` lets ``BaseCache.save_response`` take what
requests-cache's does: a live ``requests.Response``, an explicit cache key and expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

import attrs
import requests

from vaultcache import cache_keys
from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.policy.storable import storable_fields, storable_headers

__all__ = ["has_redactions", "redacted", "to_store"]

#: Response fields that hold a URL, redacted as the request's URL is.
_URL_FIELDS = frozenset({"location", "content-location"})


def redacted(cached: CachedResponse, names: tuple[str, ...]) -> CachedResponse:
    """`cached` as it may be stored: no credentials in its URLs and request, no hop-by-hop
    header fields (RFC 9111 §3.1); the same for its history."""
    request = cached.request
    cached.headers = storable_headers(cached.headers)
    cached.header_fields = [
        (name, cache_keys.redact_url(value, names) if name.lower() in _URL_FIELDS else value)
        for name, value in storable_fields(cached.header_fields)
    ]
    cached.url = cache_keys.redact_url(cached.url, names)
    cached.request = CachedRequest(
        method=request.method,
        url=cache_keys.redact_url(request.url, names),
        headers=cache_keys.redact_headers(request.headers, names),
        body=cache_keys.redact_body(request.body, request.headers.get("Content-Type"), names),
    )
    for header in ("Location", "Content-Location"):
        if header in cached.headers:
            cached.headers[header] = cache_keys.redact_url(cached.headers[header], names)
    cached.history = [redacted(item, names) for item in cached.history]
    return cached


def has_redactions(request: CachedRequest) -> bool:
    """True when :func:`redacted` (or requests-cache) took a credential out of `request`:
    its key, which depends on the credential, can no longer be computed from it."""
    body = request.body or b""
    return (
        cache_keys.REDACTED in request.url
        or any(cache_keys.REDACTED in value for value in request.headers.values())
        or cache_keys.REDACTED.encode() in body
    )


def to_store(
    response: Any,
    cache_key: str | None,
    expires: datetime | None,
    redirect_keys: Iterable[str],
    *,
    key_function: Callable[[], Callable[..., str]],
    ignored_parameters: tuple[str, ...],
) -> tuple[CachedResponse, list[str]]:
    """The response to write and the redirect keys to map to it.

    A live ``requests.Response`` is copied and redacted, stored under `cache_key` or its
    (final) request's key; the keys of its redirect history lead to it. A CachedResponse is
    stored as it is, with `cache_key` and `expires` replacing its own when given.
    """
    redirect_keys = list(redirect_keys)
    if not isinstance(response, requests.Response) or isinstance(response, CachedResponse):
        if cache_key is None and expires is None:
            return cast(CachedResponse, response), redirect_keys
        return attrs.evolve(
            response,
            cache_key=cache_key or response.cache_key,
            expires=response.expires if expires is None else expires,
        ), redirect_keys
    create_key = key_function()
    if cache_key is None:
        cache_key = create_key(response.request)
    redirect_keys += [create_key(r.request) for r in response.history if r.request]
    cached = CachedResponse.from_response(response, cache_key=cache_key, expires=expires)
    return redacted(cached, ignored_parameters), redirect_keys
