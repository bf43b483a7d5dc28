"""Targeted cache-control fields (RFC 9213): ``CDN-Cache-Control`` for a cache acting as a CDN.

A targeted field is a Structured Field Dictionary (RFC 8941 §3.2) holding Cache-Control
directives. A cache that obeys one uses it, when it is present and valid, *instead of*
Cache-Control and Expires (RFC 9213 §2.1); an invalid one is ignored as if absent. Like the
rest of :mod:`vaultcache.policy`, parsing never raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from vaultcache.policy.directives import CacheDirectives, header_value

__all__ = ["parse_targeted", "targeted_directives"]

_MAX_FIELD: Final = 16 * 1024  # a longer field is treated as invalid
_KEY: Final = r"[a-z*][a-z0-9_.*-]*"
_BARE_ITEM: Final = (
    r"(?:-?[0-9]{1,12}\.[0-9]{1,3}"  # decimal
    r"|-?[0-9]{1,15}"  # integer
    r'|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\\"])*"'  # string
    r"|[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*"  # token
    r"|:[A-Za-z0-9+/=]*:"  # byte sequence
    r"|\?[01])"  # boolean
)
_PARAMETERS: Final = rf"(?:;[ ]*{_KEY}(?:={_BARE_ITEM})?)*"
_INNER_LIST: Final = rf"\((?:[ ]*{_BARE_ITEM}{_PARAMETERS})*[ ]*\)"
_MEMBER: Final = re.compile(
    rf"({_KEY})(?:=({_INNER_LIST}|{_BARE_ITEM}){_PARAMETERS}|({_PARAMETERS}))", re.ASCII
)
_SEPARATOR: Final = re.compile(r"[ \t]*,[ \t]*", re.ASCII)
_INTEGER: Final = re.compile(r"[0-9]{1,15}", re.ASCII)

#: Cache-Control directives that take a number of seconds.
_SECONDS: Final = {"max-age": "max_age", "s-maxage": "s_maxage"}
_SMALLEST: Final = {
    "stale-if-error": "stale_if_error",
    "stale-while-revalidate": "stale_while_revalidate",
}
#: Cache-Control directives that take no argument (a Boolean in a Structured Field).
_FLAGS: Final = {
    "no-store": "no_store",
    "no-cache": "no_cache",
    "private": "private",
    "public": "public",
    "must-revalidate": "must_revalidate",
    "proxy-revalidate": "proxy_revalidate",
    "must-understand": "must_understand",
    "immutable": "immutable",
    "no-transform": "no_transform",
}


def _members(text: str) -> dict[str, str | None] | None:
    """The keys and values of a Structured Field Dictionary, or None when it is invalid."""
    text = text.strip(" ")
    members: dict[str, str | None] = {}
    position = 0
    while position < len(text):
        match = _MEMBER.match(text, position)
        if match is None:
            return None
        members[match[1]] = match[2]  # a repeated key: the last one wins (RFC 8941 §4.2.2)
        position = match.end()
        if position == len(text):
            break
        separator = _SEPARATOR.match(text, position)
        if separator is None or separator.end() == len(text):
            return None  # junk after a member, or a trailing comma
        position = separator.end()
    return members


def _directive(name: str, value: str | None, fields: dict[str, Any]) -> bool:
    """Add one member to `fields`; False when its value has the wrong type for its name."""
    if name in _SECONDS or name in _SMALLEST:
        if value is None or not _INTEGER.fullmatch(value):
            return False
        fields[_SECONDS.get(name) or _SMALLEST[name]] = min(int(value), 2**31)
    elif name in _FLAGS:
        # no-cache / private with a list of field names: read as the stricter unqualified form.
        qualified = name in {"no-cache", "private"} and value is not None and value[:1] == '"'
        if value not in {None, "?0", "?1"} and not qualified:
            return False
        if value != "?0":
            fields[_FLAGS[name]] = True
    return True


def parse_targeted(value: str | None) -> CacheDirectives | None:
    """The directives of a targeted field's value; None when absent, empty or invalid.

    Invalid means not a Structured Field Dictionary, or a known directive with a value of
    the wrong type (``max-age="60"``): RFC 9213 §2.1 then has the whole field ignored.
    Unknown directives are kept as extensions.
    """
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_FIELD:
        return None
    members = _members(value)
    if not members:
        return None
    fields: dict[str, Any] = {}
    extensions: list[tuple[str, str | None]] = []
    for name, argument in members.items():
        if name not in _SECONDS and name not in _SMALLEST and name not in _FLAGS:
            extensions.append((name, argument))
        elif not _directive(name, argument, fields):
            return None
    return CacheDirectives(extensions=tuple(extensions), **fields)


def targeted_directives(headers: Mapping[str, str] | None, field: str) -> CacheDirectives | None:
    """The directives of the targeted `field` in response `headers` (see parse_targeted)."""
    return parse_targeted(header_value(headers, field))
