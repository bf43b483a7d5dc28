"""Which response header fields a cache may store (RFC 9111 §3.1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from requests.structures import CaseInsensitiveDict

from vaultcache.models import CachedResponse

__all__ = ["HOP_BY_HOP", "omit_fields", "storable_fields", "storable_headers"]

#: Fields that describe one connection or one hop, never the response (RFC 9110 §7.6.1),
#: and the proxy authentication fields, which concern the next hop only (RFC 9110 §11.7).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authentication-info",
        "proxy-authorization",
    }
)


def storable_headers(headers: Mapping[str, str]) -> CaseInsensitiveDict[str]:
    """`headers` without hop-by-hop fields and without the fields `Connection` names."""
    dropped = _dropped(headers.items())
    return CaseInsensitiveDict(
        {name: value for name, value in headers.items() if name.lower() not in dropped}
    )


def storable_fields(fields: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The same for header fields as a list of (name, value) pairs, in their order."""
    fields = list(fields)
    dropped = _dropped(fields)
    return [(name, value) for name, value in fields if name.lower() not in dropped]


def omit_fields(cached: CachedResponse, names: Iterable[str]) -> None:
    """Take the fields `names` out of `cached` (a shared cache's ``private="field"``, RFC 9111
    §5.2.2.7)."""
    omitted = {name.lower() for name in names}
    if omitted:
        for name in omitted:
            cached.headers.pop(name, None)
        cached.header_fields = [f for f in cached.header_fields if f[0].lower() not in omitted]


def _dropped(fields: Iterable[tuple[str, str]]) -> frozenset[str]:
    """Hop-by-hop names and the names every `Connection` field lists, lower-case."""
    named = {
        name.strip().lower()
        for field, value in fields
        if field.lower() == "connection"
        for name in value.split(",")
        if name.strip()
    }
    return HOP_BY_HOP | named
