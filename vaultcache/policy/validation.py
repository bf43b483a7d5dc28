"""Answering a client's own conditional request from a stored response (RFC 9111 §4.3.2)."""

from __future__ import annotations

from collections.abc import Mapping

from vaultcache.policy.directives import header_value, parse_http_date

__all__ = ["not_modified_for"]


def not_modified_for(request_headers: Mapping[str, str], stored: Mapping[str, str]) -> bool:
    """True when the request's validators match the stored response: answer with a 304.

    If-None-Match is checked with the weak comparison (RFC 9110 §8.8.3.2) and, when present,
    decides alone; otherwise If-Modified-Since is compared with Last-Modified. A request
    with neither, or with values that do not parse, gets the full response.
    """
    if_none_match = header_value(request_headers, "If-None-Match")
    if if_none_match is not None:
        etag = header_value(stored, "ETag")
        tags = [tag.strip() for tag in if_none_match.split(",") if tag.strip()]
        return "*" in tags or (etag is not None and _weak(etag) in {_weak(t) for t in tags})
    since = parse_http_date(header_value(request_headers, "If-Modified-Since"))
    modified = parse_http_date(header_value(stored, "Last-Modified"))
    return since is not None and modified is not None and modified <= since


def _weak(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag
