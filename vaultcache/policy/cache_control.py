"""Cache-Control (RFC 9111 §5.2), and Pragma as a request's fallback (§5.4).

A malformed or contradictory directive takes its most restrictive reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

from vaultcache.policy.header_syntax import (
    MAX_DELTA_SECONDS,
    MAX_HEADER,
    delta_seconds,
    elements,
    header_value,
    is_token,
)

__all__ = ["CacheDirectives", "request_directives", "response_directives"]


def _field_names(argument: str | None, valid: bool) -> tuple[str, ...] | None:
    """The field names of a qualified no-cache / private, or None for the unqualified form."""
    if argument is None or not valid:
        return None
    names = [name.strip().lower() for name in argument.split(",")]
    names = [name for name in names if name]
    if not names or not all(is_token(name) for name in names):
        return None  # unreadable or empty list: read as the unqualified (stricter) form
    return tuple(dict.fromkeys(names))


_BOOLEANS: Final = {
    "no-store": "no_store",
    "no-transform": "no_transform",
    "must-revalidate": "must_revalidate",
    "proxy-revalidate": "proxy_revalidate",
    "must-understand": "must_understand",
    "public": "public",
    "immutable": "immutable",
    "only-if-cached": "only_if_cached",
}


_STRICT_SECONDS: Final = {"max-age": "max_age", "s-maxage": "s_maxage"}


_SMALLEST_SECONDS: Final = {
    "stale-if-error": "stale_if_error",
    "stale-while-revalidate": "stale_while_revalidate",
}


_KNOWN: Final = (
    set(_BOOLEANS)
    | set(_STRICT_SECONDS)
    | set(_SMALLEST_SECONDS)
    | {"max-stale", "min-fresh", "no-cache", "private"}
)


Occurrences = list[tuple[str | None, bool]]


def _strict_seconds(found: Occurrences) -> int:
    """max-age / s-maxage: invalid, or repeated with different values, means 0 (stale)."""
    values = {delta_seconds(argument) if valid else None for argument, valid in found}
    value = values.pop() if len(values) == 1 else None
    return 0 if value is None else value


def _max_stale(found: Occurrences) -> int | Literal["any"] | None:
    """max-stale: no argument means any staleness; the smallest valid limit wins."""
    limits: list[int] = []
    for argument, valid in found:
        seconds = MAX_DELTA_SECONDS * 2 if argument is None else delta_seconds(argument)
        if valid and seconds is not None:
            limits.append(seconds)
    if not limits:
        return None
    smallest = min(limits)
    return "any" if smallest > MAX_DELTA_SECONDS else smallest


def _valid_seconds(found: Occurrences) -> list[int]:
    values = (delta_seconds(argument) if valid else None for argument, valid in found)
    return [value for value in values if value is not None]


def _qualified(found: Occurrences) -> tuple[bool, tuple[str, ...]]:
    """(unqualified form present, field names of the qualified forms) of no-cache / private."""
    unqualified = False
    fields: list[str] = []
    for argument, valid in found:
        names = _field_names(argument, valid)
        if names is None:
            unqualified = True
        else:
            fields.extend(names)
    return unqualified, tuple(dict.fromkeys(fields))


@attrs.frozen
class CacheDirectives:
    """The directives of one Cache-Control header value (RFC 9111 §5.2), request or response.

    Build it with :meth:`parse`. Absent directives are ``None`` / ``False`` / ``()``. There is
    deliberately no serialiser: a request's own Cache-Control header is forwarded exactly as
    the user wrote it, never re-generated from this parsed form.

    ``s_maxage`` and ``proxy_revalidate`` apply only to shared caches (§5.2.2.10, §5.2.2.8):
    only ``rfc9111="shared"`` obeys them (:mod:`vaultcache.policy.freshness`).
    ``no_cache`` is the unqualified form; ``no_cache_fields`` lists the field names of the
    qualified form ``no-cache="set-cookie"`` (a cache that does not strip those fields
    should treat a non-empty list like ``no_cache``: see :attr:`revalidate_always`).
    ``private`` is set by both forms; ``private_fields`` holds the qualified form's names.
    ``max_stale`` is ``"any"`` when given without a value. ``extensions`` keeps unknown
    directives as (lowercase name, argument or None), in order.
    """

    max_age: int | None = None
    s_maxage: int | None = None
    max_stale: int | Literal["any"] | None = None
    min_fresh: int | None = None
    no_cache: bool = False
    no_cache_fields: tuple[str, ...] = ()
    no_store: bool = False
    no_transform: bool = False
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    must_understand: bool = False
    private: bool = False
    private_fields: tuple[str, ...] = ()
    public: bool = False
    immutable: bool = False
    only_if_cached: bool = False
    stale_if_error: int | None = None
    stale_while_revalidate: int | None = None
    extensions: tuple[tuple[str, str | None], ...] = ()

    @property
    def revalidate_always(self) -> bool:
        """True when a stored response must be revalidated before every use (any no-cache)."""
        return self.no_cache or bool(self.no_cache_fields)

    @property
    def understood(self) -> bool:
        """True when at least one directive other than an unknown extension was found."""
        return self != CacheDirectives(extensions=self.extensions)

    @classmethod
    def parse(cls, value: str | bytes | None) -> CacheDirectives:
        """Parse a Cache-Control value; never raises (RFC 9111 §5.2, §4.2.1).

        Names are case-insensitive; arguments may be tokens or quoted strings
        (``max-age="60"`` is accepted, §5.2). Deltas are ASCII digits only, clamped to
        2**31 (§1.2.2). Malformed or conflicting values take the most restrictive reading:
        an invalid max-age / s-maxage (``abc``, ``-5``, ``1e3``, empty, missing) or two
        different ones mean 0, i.e. stale (§4.2.1); repeated max-stale, stale-if-error and
        stale-while-revalidate keep the smallest valid value, min-fresh the largest, and
        invalid ones are ignored. A no-cache or private whose field list cannot be read is
        the unqualified form.
        """
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if not isinstance(value, str):
            return cls()
        found: dict[str, Occurrences] = {}
        extensions: list[tuple[str, str | None]] = []
        for name, argument, valid in elements(value[:MAX_HEADER]):
            if name in _KNOWN:
                found.setdefault(name, []).append((argument, valid))
            else:
                extensions.append((name, argument if valid else None))
        return cls._build(found, tuple(extensions))

    @classmethod
    def _build(
        cls, found: dict[str, Occurrences], extensions: tuple[tuple[str, str | None], ...]
    ) -> CacheDirectives:
        fields: dict[str, Any] = {
            attribute: True for name, attribute in _BOOLEANS.items() if name in found
        }
        for name, attribute in _STRICT_SECONDS.items():
            if name in found:
                fields[attribute] = _strict_seconds(found[name])
        for name, attribute in _SMALLEST_SECONDS.items():
            if valid_values := _valid_seconds(found.get(name, [])):
                fields[attribute] = min(valid_values)
        if min_fresh := _valid_seconds(found.get("min-fresh", [])):
            fields["min_fresh"] = max(min_fresh)
        if "max-stale" in found:
            fields["max_stale"] = _max_stale(found["max-stale"])
        if "no-cache" in found:
            fields["no_cache"], fields["no_cache_fields"] = _qualified(found["no-cache"])
        if "private" in found:
            fields["private"] = True
            fields["private_fields"] = _qualified(found["private"])[1]
        return cls(extensions=extensions, **fields)


def response_directives(headers: Mapping[str, str] | None) -> CacheDirectives:
    """The Cache-Control directives of a response's headers (RFC 9111 §5.2.2)."""
    return CacheDirectives.parse(header_value(headers, "Cache-Control"))


def request_directives(headers: Mapping[str, str] | None) -> CacheDirectives:
    """A request's Cache-Control directives, with ``Pragma: no-cache`` as a fallback.

    Pragma counts only when Cache-Control is absent or holds no directive this module
    understands (RFC 9111 §5.4: Pragma is ignored when Cache-Control is "present and
    understood"); then ``Pragma: no-cache`` sets ``no_cache``.
    """
    directives = CacheDirectives.parse(header_value(headers, "Cache-Control"))
    if directives.understood:
        return directives
    pragma = header_value(headers, "Pragma") or ""
    if any(name == "no-cache" for name, _, _ in elements(pragma[:MAX_HEADER])):
        return attrs.evolve(directives, no_cache=True)
    return directives
