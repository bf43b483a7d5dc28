"""Parsing the caching headers of requests and responses: lenient, and never raising.

Headers come from the network and are untrusted: every parser here returns a value for any
input (``None`` or an empty result for garbage) and never raises. Where the RFCs let a cache
choose how to read a malformed or contradictory header, the choice is the most restrictive
reading, so a broken header can make the cache revalidate more often but never serve a
response longer than the origin allowed (RFC 9111 §4.2.1).

Covered: Cache-Control (RFC 9111 §5.2), Pragma (§5.4), Expires (§5.3), Age (§5.1),
HTTP-date (RFC 9110 §5.6.7), the validators ETag / Last-Modified and the conditional request
headers built from them (RFC 9111 §4.3.1), and Vary (RFC 9110 §12.5.5, RFC 9111 §4.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple

import attrs
from requests.structures import CaseInsensitiveDict

__all__ = [
    "ALREADY_EXPIRED",
    "MAX_DELTA_SECONDS",
    "VARY_ANY",
    "CacheDirectives",
    "Validators",
    "conditional_headers",
    "header_value",
    "parse_age",
    "parse_expires",
    "parse_http_date",
    "parse_vary",
    "request_directives",
    "response_directives",
    "validators",
    "vary_fields",
]

MAX_DELTA_SECONDS: Final = 2**31
"""Larger delta-seconds values are read as this (RFC 9111 §1.2.2)."""

ALREADY_EXPIRED: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""What an invalid Expires value means: a time in the past (RFC 9111 §5.3)."""

VARY_ANY: Final = "*"
"""``Vary: *``: the response varies on things outside the request; it never matches."""

_TCHAR: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_SPACE: Final = frozenset(" \t\r\n\v\f")
_SEPARATOR: Final = _SPACE | {","}
_STOP: Final = _SEPARATOR | {"=", '"'}
_MAX_HEADER: Final = 64 * 1024  # longer values are read only up to this length


def _is_token(text: str) -> bool:
    return bool(text) and all(char in _TCHAR for char in text)


def _delta_seconds(text: str | None) -> int | None:
    """``delta-seconds`` (1*DIGIT, ASCII only), clamped to 2**31; None when invalid."""
    if not text or not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    # Clamp before int(): a huge digit string would be slow, or refused by int() itself.
    return MAX_DELTA_SECONDS if len(digits) > 10 else min(int(digits or "0"), MAX_DELTA_SECONDS)


def _quoted(text: str, start: int) -> tuple[str | None, int]:
    """The quoted-string at ``text[start] == '"'``: (unescaped value, index after it).

    An unterminated string gives (None, start + 1): scanning resumes just after the quote,
    so directives after a stray quote are still seen.
    """
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
        elif char == '"':
            return "".join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    return None, start + 1


def _argument(text: str, index: int, quotes: bool) -> tuple[str | None, bool, int]:
    """The argument after ``=`` at `index`: (value, valid, index after it).

    A value of None means an unterminated quoted-string (only when `quotes` is on).
    """
    if quotes and index < len(text) and text[index] == '"':
        value, end = _quoted(text, index)
        valid = value is not None and (end >= len(text) or text[end] in _SEPARATOR)
        return value, valid, end
    end = index
    while end < len(text) and text[end] not in _STOP:
        end += 1
    value = text[index:end]
    valid = _is_token(value) and (end >= len(text) or text[end] in _SEPARATOR)
    return value, valid, end


def _elements(text: str) -> Iterator[tuple[str, str | None, bool]]:
    """Split ``#( token [ "=" ( token / quoted-string ) ] )`` into (name, argument, valid).

    Commas separate elements, and so does whitespace outside quotes: the grammar allows no
    whitespace inside an element, and a missing comma (``max-age=60 no-store``) must not
    hide a directive. Whitespace around ``=`` therefore makes the argument invalid. After
    an unterminated quoted-string, quotes lose their meaning for the rest of the value, so
    the directives inside it are still seen and scanning stays linear.
    """
    index = 0
    quotes = True
    while index < len(text):
        char = text[index]
        if char in _SEPARATOR or char == "=" or (char == '"' and not quotes):
            index += 1
        elif char == '"':  # a quoted string where a name belongs: skip it
            skipped, index = _quoted(text, index)
            quotes = skipped is not None
        else:
            end = index
            while end < len(text) and text[end] not in _STOP:
                end += 1
            name = text[index:end]
            argument: str | None = None
            valid = True
            if end < len(text) and text[end] == "=":
                argument, valid, end = _argument(text, end + 1, quotes)
                if argument is None:
                    quotes = False
            index = end
            if _is_token(name):
                yield name.lower(), argument, valid


def _field_names(argument: str | None, valid: bool) -> tuple[str, ...] | None:
    """The field names of a qualified no-cache / private, or None for the unqualified form."""
    if argument is None or not valid:
        return None
    names = [name.strip().lower() for name in argument.split(",")]
    names = [name for name in names if name]
    if not names or not all(_is_token(name) for name in names):
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
    values = {_delta_seconds(argument) if valid else None for argument, valid in found}
    value = values.pop() if len(values) == 1 else None
    return 0 if value is None else value


def _max_stale(found: Occurrences) -> int | Literal["any"] | None:
    """max-stale: no argument means any staleness; the smallest valid limit wins."""
    limits: list[int] = []
    for argument, valid in found:
        seconds = MAX_DELTA_SECONDS * 2 if argument is None else _delta_seconds(argument)
        if valid and seconds is not None:
            limits.append(seconds)
    if not limits:
        return None
    smallest = min(limits)
    return "any" if smallest > MAX_DELTA_SECONDS else smallest


def _valid_seconds(found: Occurrences) -> list[int]:
    values = (_delta_seconds(argument) if valid else None for argument, valid in found)
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
        for name, argument, valid in _elements(value[:_MAX_HEADER]):
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


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value, looked up case-insensitively in any mapping; repeats are joined.

    Values that are bytes are decoded as Latin-1; other non-text values count as absent.
    """
    if not headers:
        return None
    if isinstance(headers, CaseInsensitiveDict):
        found = [headers.get(name)]
    else:
        lowered = name.lower()
        found = [
            value
            for key, value in headers.items()
            if isinstance(key, str) and key.lower() == lowered
        ]
    texts = [
        value.decode("latin-1") if isinstance(value, bytes) else value
        for value in found
        if isinstance(value, str | bytes)
    ]
    return ", ".join(texts) if texts else None


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
    if any(name == "no-cache" for name, _, _ in _elements(pragma[:_MAX_HEADER])):
        return attrs.evolve(directives, no_cache=True)
    return directives


_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_DAY: Final = r"(?:mon|tue|wed|thu|fri|sat|sun)"
_LONG_DAY: Final = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)"
)
_MONTH: Final = "(" + "|".join(_MONTHS) + ")"
_TIME: Final = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_FLAGS: Final = re.ASCII | re.IGNORECASE
# IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
_IMF_FIXDATE: Final = re.compile(
    rf"{_DAY}, +([0-9]{{1,2}}) +{_MONTH} +([0-9]{{4}}) +{_TIME} +(?:GMT|UTC)", _FLAGS
)
# rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT
_RFC850_DATE: Final = re.compile(
    rf"{_LONG_DAY}, +([0-9]{{1,2}})-{_MONTH}-([0-9]{{2}}) +{_TIME} +GMT", _FLAGS
)
# asctime-date: Sun Nov  6 08:49:37 1994
_ASCTIME_DATE: Final = re.compile(
    rf"{_DAY} +{_MONTH} +([0-9]{{1,2}}) +{_TIME} +([0-9]{{4}})", _FLAGS
)
# The same three, exactly as RFC 9110 §5.6.7 writes them (one space, two-digit day and
# hour, GMT), for Expires, whose invalid values mean "already expired" (RFC 9111 §5.3).
_STRICT_IMF_FIXDATE: Final = re.compile(
    rf"{_DAY}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT", _FLAGS
)
_STRICT_RFC850_DATE: Final = re.compile(
    rf"{_LONG_DAY}, ([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT", _FLAGS
)
_STRICT_ASCTIME_DATE: Final = re.compile(
    rf"{_DAY} {_MONTH} ([0-9]{{2}}| [0-9]) {_TIME} ([0-9]{{4}})", _FLAGS
)


def _date(year: int, month: str, day: str, clock: tuple[str, str, str]) -> datetime | None:
    hour, minute, second = (int(part) for part in clock)
    try:
        return datetime(
            year,
            _MONTHS.index(month.lower()) + 1,
            int(day),
            hour,
            minute,
            min(second, 59),  # a leap second (:60) is read as :59
            tzinfo=UTC,
        )
    except ValueError:
        return None


def parse_http_date(
    value: str | None, *, now: datetime | None = None, strict: bool = False
) -> datetime | None:
    """An HTTP-date as an aware UTC datetime, or None when it is not one; never raises.

    Accepts the three formats of RFC 9110 §5.6.7 (IMF-fixdate, rfc850-date, asctime-date),
    with month and day names in any case. Unless `strict`, also a one-digit day, runs of
    spaces, and ``UTC`` for ``GMT`` in IMF-fixdate. The day name is not checked against the
    date. A two-digit rfc850 year more than 50 years after `now` (default: the current
    time) is read as the most recent past year with the same last two digits, as §5.6.7
    requires.
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip(" \t")
    imf, asctime, rfc850 = (
        (_STRICT_IMF_FIXDATE, _STRICT_ASCTIME_DATE, _STRICT_RFC850_DATE)
        if strict
        else (_IMF_FIXDATE, _ASCTIME_DATE, _RFC850_DATE)
    )
    if match := imf.fullmatch(text):
        return _date(int(match[3]), match[2], match[1], (match[4], match[5], match[6]))
    if match := asctime.fullmatch(text):
        return _date(int(match[6]), match[1], match[2].strip(), (match[3], match[4], match[5]))
    if match := rfc850.fullmatch(text):
        current = (now or datetime.now(UTC)).year
        year = current - current % 100 + int(match[3])
        if year > current + 50:
            year -= 100
        return _date(year, match[2], match[1], (match[4], match[5], match[6]))
    return None


def parse_expires(value: str | None, *, now: datetime | None = None) -> datetime:
    """The time an Expires value names; an invalid one is :data:`ALREADY_EXPIRED`.

    RFC 9111 §5.3: invalid dates, "0" in particular, mean already expired. Only the exact
    grammar of RFC 9110 §5.6.7 is valid here (names in any case): ``UTC`` for ``GMT``, runs
    of spaces, a one-digit day or hour, a missing comma, or several values are invalid.
    That includes an empty value and ``None``: call this only when the header is present
    (an absent Expires is not an expired one). `now` is only for two-digit years.
    """
    return parse_http_date(value, now=now, strict=True) or ALREADY_EXPIRED


def parse_age(value: str | None) -> int | None:
    """The Age value in seconds (RFC 9111 §5.1), or None when absent or invalid.

    A list (``Age: 0, 7200``, or two Age lines, which arrive joined) counts by its first
    member alone; the rest is discarded, as §5.1 says. Only ASCII digits count; values are
    clamped to 2**31. An invalid first member means the header is ignored (the age is then
    computed from Date alone, §4.2.3).
    """
    if not isinstance(value, str):
        return None
    return _delta_seconds(value[:_MAX_HEADER].split(",", 1)[0].strip(" \t"))


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


def parse_vary(value: str | None) -> tuple[str, ...] | Literal["*"]:
    """The field names of a Vary value, lowercased and de-duplicated, or ``"*"``.

    ``*`` anywhere in the list wins (RFC 9110 §12.5.5); empty elements and whitespace are
    ignored. Names are kept even when they are not valid tokens: matching on a header no
    request sends is harmless.
    """
    if not isinstance(value, str):
        return ()
    names = [name.strip(" \t").lower() for name in value[:_MAX_HEADER].split(",")]
    if VARY_ANY in names:
        return VARY_ANY
    return tuple(dict.fromkeys(name for name in names if name))


def vary_fields(headers: Mapping[str, str] | None) -> tuple[str, ...] | Literal["*"]:
    """The Vary field names of response headers (see :func:`parse_vary`); () when absent."""
    return parse_vary(header_value(headers, "Vary"))
