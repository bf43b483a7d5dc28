"""Validators (ETag, Last-Modified) and the conditional request headers built from them
(RFC 9111 §4.3.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from vaultcache.policy.header_syntax import header_value
from vaultcache.policy.http_dates import parse_http_date

__all__ = ["Validators", "conditional_headers", "validators"]


class Validators(NamedTuple):
    """A stored response's validators: ETag and Last-Modified, or None where absent/invalid."""

    etag: str | None
    last_modified: str | None


def _safe_header(value: str | None) -> str | None:
    # A validator is echoed back in a request header: refuse control characters (CR/LF).
    if value is None:
        return None
    text = value.strip(" \t")
    if not text or any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        return None
    return text


def validators(headers: Mapping[str, str] | None) -> Validators:
    """The ETag and Last-Modified of response headers, as text to send back verbatim.

    An ETag is kept as sent (even unquoted, as browsers do); a Last-Modified that is not a
    valid HTTP-date is dropped, since a server must ignore it in If-Modified-Since
    (RFC 9110 §13.1.3).
    """
    etag = _safe_header(header_value(headers, "ETag"))
    last_modified = _safe_header(header_value(headers, "Last-Modified"))
    if last_modified is not None and parse_http_date(last_modified) is None:
        last_modified = None
    return Validators(etag, last_modified)


def conditional_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for revalidating a response with these headers.

    Both are sent when both validators exist (RFC 9111 §4.3.1); the server gives
    If-None-Match precedence (RFC 9110 §13.2.2). Empty when the response has neither.
    """
    etag, last_modified = validators(headers)
    conditions: dict[str, str] = {}
    if etag is not None:
        conditions["If-None-Match"] = etag
    if last_modified is not None:
        conditions["If-Modified-Since"] = last_modified
    return conditions
