"""What the cache answers a request with, from a stored response or from nothing.

A hit is the stored response, a 304 for a client whose own validator matches (RFC 9111
§4.3.2), or in an rfc9111 mode the byte range a Range request asks for (RFC 9110 §14);
``only-if-cached`` with nothing usable stored is a 504 (RFC 9111 §5.2.1.7).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs
import requests
from requests.structures import CaseInsensitiveDict

from vaultcache.models import CachedResponse, OriginalResponse
from vaultcache.policy.ranges import requested_range
from vaultcache.policy.settings import CacheSettings
from vaultcache.policy.validation import not_modified_for

__all__ = ["gateway_timeout", "hit_answer", "not_modified", "partial_content"]

#: Fields that describe a body, which a 304 does not have (RFC 9110 §15.4.5).
BODY_FIELDS: Final = frozenset(
    {"content-length", "content-type", "content-encoding", "content-range"}
)


def hit_answer(
    cached: CachedResponse, request_headers: Mapping[str, str], settings: CacheSettings
) -> CachedResponse:
    """The answer to a request that the stored response `cached` serves."""
    if settings.http_semantics and not_modified_for(request_headers, cached.headers):
        return not_modified(cached)
    if settings.rfc9111 is not None and cached.status_code == 200:
        # The size the entry records: a streamed hit's body is not read to learn it.
        part = requested_range(request_headers, cached.headers, cached.size)
        if part is not None:
            return partial_content(cached, *part)
    return cached


def not_modified(cached: CachedResponse) -> CachedResponse:
    """The stored response as a 304 for a client whose validator matched."""
    headers = {k: v for k, v in cached.headers.items() if k.lower() not in BODY_FIELDS}
    fields = [(k, v) for k, v in cached.header_fields if k.lower() not in BODY_FIELDS]
    return attrs.evolve(
        cached,
        status_code=304,
        reason="Not Modified",
        content=b"",
        headers=headers,
        header_fields=fields,
    )


def partial_content(cached: CachedResponse, first: int, last: int) -> CachedResponse:
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


def gateway_timeout(request: requests.PreparedRequest, cache_key: str) -> OriginalResponse:
    """The 504 that ``only_if_cached`` gets when nothing usable is stored (RFC 9111 §5.2.1.7)."""
    response = requests.Response()
    response.status_code = 504
    response.reason = "Not Cached"
    response.url = request.url or ""
    response.request = request
    response._content = b""
    return OriginalResponse.wrap(response, cache_key)
