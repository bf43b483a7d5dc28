"""What of a response may be stored: credentials redacted, hop-by-hop fields dropped."""

from __future__ import annotations

import attrs

from vaultcache import cache_keys
from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.policy.storable import storable_fields, storable_headers

__all__ = ["redact_response"]

#: Response header fields that hold a URL, which may carry a credential in its query.
URL_HEADERS = ("Location", "Content-Location")


def redact_response(cached: CachedResponse, names: tuple[str, ...]) -> CachedResponse:
    """A copy of `cached` as it may be stored; `cached` itself is left as it is.

    No credentials (`names`) in its URLs, its request (redacted by
    :func:`vaultcache.cache_keys.redact_request`) and its URL-valued header fields, and no
    hop-by-hop header fields (RFC 9111 §3.1); the same for its redirect history. Applying it
    twice changes nothing more, so every path that writes an entry can apply it.
    """
    headers = storable_headers(cached.headers)  # a new mapping
    for header in URL_HEADERS:
        if header in headers:
            headers[header] = cache_keys.redact_url(headers[header], names)
    url_fields = {name.lower() for name in URL_HEADERS}
    fields = [
        (name, cache_keys.redact_url(value, names) if name.lower() in url_fields else value)
        for name, value in storable_fields(cached.header_fields)
    ]
    return attrs.evolve(
        cached,
        headers=headers,
        header_fields=fields,
        url=cache_keys.redact_url(cached.url, names),
        request=CachedRequest.from_request(cache_keys.redact_request(cached.request, names)),
        history=[redact_response(item, names) for item in cached.history],
    )
