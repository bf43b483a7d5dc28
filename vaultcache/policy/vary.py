"""The Vary header (RFC 9110 §12.5.5, RFC 9111 §4.1): which request fields a response varies on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from vaultcache.policy.header_syntax import MAX_HEADER, header_value

__all__ = ["VARY_ANY", "parse_vary", "vary_fields"]


VARY_ANY: Final = "*"
"""``Vary: *``: the response varies on things outside the request; it never matches."""


def parse_vary(value: str | None) -> tuple[str, ...] | Literal["*"]:
    """The field names of a Vary value, lowercased and de-duplicated, or ``"*"``.

    ``*`` anywhere in the list wins (RFC 9110 §12.5.5); empty elements and whitespace are
    ignored. Names are kept even when they are not valid tokens: matching on a header no
    request sends is harmless.
    """
    if not isinstance(value, str):
        return ()
    names = [name.strip(" \t").lower() for name in value[:MAX_HEADER].split(",")]
    if VARY_ANY in names:
        return VARY_ANY
    return tuple(dict.fromkeys(name for name in names if name))


def vary_fields(headers: Mapping[str, str] | None) -> tuple[str, ...] | Literal["*"]:
    """The Vary field names of response headers (see :func:`parse_vary`); () when absent."""
    return parse_vary(header_value(headers, "Vary"))
