"""Which response header fields a cache may store (RFC 9111 §3.1)."""

from __future__ import annotations

from collections.abc import Mapping

from requests.structures import CaseInsensitiveDict

__all__ = ["HOP_BY_HOP", "storable_headers"]

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
    named = {
        name.strip().lower()
        for value in _values(headers, "connection")
        for name in value.split(",")
        if name.strip()
    }
    dropped = HOP_BY_HOP | named
    return CaseInsensitiveDict(
        {name: value for name, value in headers.items() if name.lower() not in dropped}
    )


def _values(headers: Mapping[str, str], wanted: str) -> list[str]:
    return [value for name, value in headers.items() if name.lower() == wanted]
