"""Invalidation: which stored responses an unsafe request's answer ends (RFC 9111 §4.4)."""

from __future__ import annotations

from typing import Final
from urllib.parse import urljoin, urlsplit

import requests

__all__ = ["SAFE_METHODS", "invalidated_lookups", "invalidated_urls"]

#: Methods that are safe (RFC 9110 §9.2.1); any other, extension methods included, is unsafe.
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def invalidated_urls(method: str, url: str, response: requests.Response) -> list[str]:
    """The URLs whose stored responses the answer to `method` `url` makes invalid.

    An unsafe method (any method but GET, HEAD, OPTIONS and TRACE, extension methods such
    as ``M-SEARCH`` included) answered with a non-error status (2xx or 3xx) invalidates its
    target URI and the same-origin Location and Content-Location.
    """
    if method.upper() in SAFE_METHODS or not 200 <= response.status_code < 400:
        return []
    targets = [url]
    for name in ("Location", "Content-Location"):
        value = response.headers.get(name)
        if value:
            target = urljoin(url, value)
            if _origin(target) == _origin(url):
                targets.append(target)
    return targets


def invalidated_lookups(
    request: requests.PreparedRequest, urls: list[str]
) -> list[requests.PreparedRequest]:
    """The GET and HEAD requests for each of `urls`, as `request` would send them: the
    requests whose cache keys name the stored responses to drop."""
    lookups = []
    for url in urls:
        for method in ("GET", "HEAD"):
            lookup = request.copy()
            lookup.method, lookup.body = method, None
            lookup.prepare_url(url, None)
            lookups.append(lookup)
    return lookups


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
