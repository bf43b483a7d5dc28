"""Answering a Range request from a complete stored response (RFC 9110 §14, RFC 9111 §3.4).

Only the simple case is served from the cache: one byte range of a stored 200 whose body is
not content-coded, with no If-Range. Anything else (several ranges, other units, a range
that cannot be satisfied) gets the whole stored response, which RFC 9110 §14.2 allows: a
server may ignore Range.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from vaultcache.policy.directives import header_value

__all__ = ["requested_range"]

_BYTE_RANGE: Final = re.compile(r"bytes=([0-9]{0,15})-([0-9]{0,15})", re.ASCII | re.IGNORECASE)


def requested_range(
    request_headers: Mapping[str, str], response_headers: Mapping[str, str], length: int
) -> tuple[int, int] | None:
    """(first, last) byte positions of the one range a request asks of a body of `length`.

    None when the request has no Range, or one this cache answers with the whole response.
    """
    value = header_value(request_headers, "Range")
    if value is None or header_value(request_headers, "If-Range") is not None:
        return None
    encoding = (header_value(response_headers, "Content-Encoding") or "identity").strip()
    if encoding.lower() != "identity":
        return None
    match = _BYTE_RANGE.fullmatch(value.strip(" \t"))
    if match is None or not (match[1] or match[2]) or length == 0:
        return None
    if not match[1]:  # a suffix: the last N bytes
        suffix = int(match[2])
        return None if suffix == 0 else (max(0, length - suffix), length - 1)
    first = int(match[1])
    last = length - 1 if not match[2] else min(int(match[2]), length - 1)
    if first >= length or last < first:
        return None
    return first, last
