"""Which request headers a key matches: named ones, or all but the volatile ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from vaultcache.cache_keys.bodies import MULTIPART_BOUNDARY, multipart_boundary
from vaultcache.cache_keys.fields import Credential, as_text, lowered_names

__all__ = ["VOLATILE_HEADERS", "header_parts"]


VOLATILE_HEADERS: Final = frozenset(
    {
        # Hop-by-hop and framing: they describe the connection, not the resource.
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
        # Cache control and the conditions the cache itself adds when revalidating.
        "cache-control",
        "pragma",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
        # Different on every request by design.
        "date",
        "traceparent",
        "tracestate",
        "x-request-id",
        "x-correlation-id",
        "x-amzn-trace-id",
    }
)
"""Headers that ``match_headers=True`` leaves out of the key."""


def header_parts(
    headers: Mapping[str, str],
    match_headers: Iterable[str] | bool | None,
    names: frozenset[str],
    share_credentials: bool,
    *,
    shared: frozenset[str] = frozenset(),
    dropped: frozenset[str] = frozenset(),
) -> tuple[list[tuple[str, str]], list[Credential]]:
    """(matched headers, credentials) of a request's headers; `shared` credential headers
    count only when matched; `dropped` are never matched."""
    match_all = match_headers is True
    matched = (
        frozenset() if isinstance(match_headers, bool | None) else lowered_names(match_headers)
    )
    parts: list[tuple[str, str]] = []
    credentials: list[Credential] = []
    for raw_name, raw_value in headers.items():
        name, value = as_text(raw_name).lower(), as_text(raw_value).strip()
        if name in names:
            # Named explicitly (as from a Vary header), a credential header always counts.
            if not (share_credentials or name in shared) or name in matched:
                credentials.append(("header", name, value))
        elif name in dropped:
            continue
        elif name in matched or (match_all and name not in VOLATILE_HEADERS):
            boundary = multipart_boundary(value) if name == "content-type" else None
            if boundary is not None:
                value = value.replace(as_text(boundary), MULTIPART_BOUNDARY.decode())
            parts.append((name, value))
    return sorted(parts), credentials
