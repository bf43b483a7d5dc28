"""Turning a live response into one to store, as requests-cache's ``save_response`` takes it.

:func:`to_store` lets ``BaseCache.save_response`` take a live ``requests.Response``, an
explicit cache key and expiry; :func:`has_redactions` tells a request that lost credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

import attrs
import requests

from vaultcache import cache_keys
from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.redaction import redact_response
from vaultcache.redirect_chain import chain_keys

__all__ = ["has_redactions", "to_store"]


def has_redactions(request: CachedRequest) -> bool:
    """True when redaction (:mod:`vaultcache.redaction`, or requests-cache's) took a credential
    out of `request`:
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
    create_key: Callable[..., str],
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
    if cache_key is None:
        cache_key = create_key(response.request)
    redirect_keys += [create_key(r.request) for r in response.history if r.request]
    cached = CachedResponse.from_response(response, cache_key=cache_key, expires=expires)
    cached.redirect_chain = chain_keys(response, create_key)
    return redact_response(cached, ignored_parameters), redirect_keys
