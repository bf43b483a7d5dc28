"""Redirect chains: which request an entry that was reached through redirects may answer.

requests adds credentials on later hops of a redirect (a cookie scoped to the target's path
or host, a Secure cookie behind http -> https, netrc credentials of the target host), so the
first request's key alone does not say who a redirected response was for. An entry reached
through redirects records the cache key of every hop as it was sent
(``CachedResponse.redirect_chain``, inside its authenticated data). It answers a request
only when the hops this session would send for that request, rebuilt by requests' own
redirect logic from the stored Locations, have exactly those keys: any credential that any
hop carried separates users, as the first request's own credentials do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from vaultcache.models import CachedResponse

__all__ = ["chain_keys", "chain_matches", "final_request"]

KeyFunction = Callable[[requests.PreparedRequest], str]


def chain_keys(response: requests.Response, create_key: KeyFunction) -> list[str]:
    """The key of every request of `response`'s redirect chain as sent, first to last.

    Empty for a response that was not redirected.
    """
    if not response.history:
        return []
    hops = [*response.history, response]
    return [create_key(hop.request) for hop in hops if hop.request is not None]


def final_request(
    response: requests.Response, request: requests.PreparedRequest, create_key: KeyFunction
) -> tuple[requests.PreparedRequest, list[str]]:
    """The request a response is stored for, and the keys of the requests redirected to it.

    A redirected response is stored once, under its final URL's own key (set as its
    ``cache_key``); the redirecting requests' keys lead to it through ``cache.redirects``.
    """
    redirect_keys = [create_key(r.request) for r in response.history if r.request]
    if redirect_keys and response.request is not None:
        request = response.request
        response.cache_key = create_key(request)  # type: ignore[attr-defined]
    return request, redirect_keys


def chain_matches(
    session: requests.Session,
    request: requests.PreparedRequest,
    cached: CachedResponse,
    create_key: KeyFunction,
) -> bool:
    """True when `cached` may answer `request`: every hop this session would send has the key
    the hop had when `cached` was fetched (always, for a response without redirects)."""
    if not cached.history:
        return True
    chain = cached.redirect_chain
    if len(chain) != len(cached.history) + 1:
        return False  # written before chains were recorded, or damaged: fetch it again
    try:
        start = chain.index(create_key(request))
    except ValueError:
        return False
    hop: requests.PreparedRequest | None = request
    for redirect, expected in zip(cached.history[start:], chain[start + 1 :], strict=True):
        hop = next_hop(session, hop, redirect) if hop is not None else None
        if hop is None or create_key(hop) != expected:
            return False
    return True


def next_hop(
    session: requests.Session, previous: requests.PreparedRequest, redirect: CachedResponse
) -> requests.PreparedRequest | None:
    """The request `session` would send after `previous` was answered with `redirect`.

    requests builds it (method, cookies, auth, proxy credentials), nothing is sent; None when
    `redirect` is not a redirect.
    """
    response = requests.Response()
    response.status_code = redirect.status_code
    response.headers = CaseInsensitiveDict(redirect.headers)
    response.url = previous.url or ""
    response.request = previous
    response._content = b""
    response._content_consumed = True  # type: ignore[attr-defined]
    proxies: Any = getattr(session, "proxies", None) or None
    hops = session.resolve_redirects(response, previous, proxies=proxies, yield_requests=True)
    built = next(hops, None)
    return built if isinstance(built, requests.PreparedRequest) else None
