"""Expiration values: what ``expire_after`` may be, and when an entry written now expires.

An expiration value (:data:`ExpirationTime`) is one of:

- ``None``, :data:`NEVER_EXPIRE` (``-1``) or ``"never"``: the entry never expires.
- :data:`EXPIRE_IMMEDIATELY` (``0``): the response is stored but is stale from the start, so
  every later use revalidates it (a conditional request when it has an ETag or
  Last-Modified, RFC 9111 §4.3). Every spelling of a zero duration means the same (``0.0``,
  ``timedelta(0)``, ``"0"``, ``"0s"``, ``"expire-immediately"``), as in requests-cache 1.x.
  So does any other negative duration (``-5``, ``timedelta(seconds=-1)``): an expiry in the
  past.
- :data:`DO_NOT_CACHE` (the integer ``0x0D0E0200020704``, or ``"do-not-cache"``): the
  response is not stored at all. The same constant as requests-cache 1.x.
- A positive number of seconds (int or float), a positive ``timedelta``, or a duration string
  ``"90"``, ``"90s"``, ``"15m"``, ``"2h"``, ``"7d"``, ``"1w"`` (for config files, which have no
  ``None`` and no ``timedelta``).
- A ``datetime``: an absolute expiry. A naive datetime is taken as UTC.

Durations so long that the expiry would fall after the year 9999 mean "never". Anything
else (NaN, infinity, booleans, other types, unknown strings) is a
:class:`~vaultcache.errors.ConfigError` that names the setting and the value's type.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Final, Literal, TypeAlias

from vaultcache.errors import ConfigError, ConfigTypeError

__all__ = [
    "DO_NOT_CACHE",
    "EXPIRE_IMMEDIATELY",
    "NEVER_EXPIRE",
    "NOT_FOUND",
    "ExpirationTime",
    "NotFound",
    "URLPattern",
    "get_expiration_datetime",
    "get_url_expiration",
    "is_do_not_cache",
    "is_expire_immediately",
    "validate_expiration",
]

NEVER_EXPIRE: Final = -1
EXPIRE_IMMEDIATELY: Final = 0
#: requests-cache 1.x's value (RFC 4824 for "DO NOT CACHE"): an int no real duration uses.
DO_NOT_CACHE: Final = 0x0D0E0200020704

ExpirationTime: TypeAlias = int | float | str | datetime | timedelta | None
"""What ``expire_after`` (session, per URL, per request) may be set to."""


class NotFound(enum.Enum):
    """The type of :data:`NOT_FOUND`: no URL pattern matched (distinct from ``None``, never)."""

    NOT_FOUND = "not-found"

    def __repr__(self) -> str:
        return "NOT_FOUND"


NOT_FOUND: Final = NotFound.NOT_FOUND

_EXPECTED = (
    "None/-1 (never), 0 (expire immediately), DO_NOT_CACHE, seconds, a timedelta, "
    "a datetime, or a duration such as '90s', '15m', '2h', '7d'"
)
_KEYWORDS: Final[dict[str, ExpirationTime]] = {
    "never": None,
    "-1": None,
    "do-not-cache": DO_NOT_CACHE,
    "expire-immediately": EXPIRE_IMMEDIATELY,
}
_UNITS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"([0-9]{1,30}(?:\.[0-9]{1,30})?)\s*([smhdw]?)", re.ASCII)
_ONE_MICROSECOND = timedelta(microseconds=1)
_DEFAULT_PORTS: Final = {"http": "80", "https": "443"}


def _error(message: str, value: object, name: str) -> ConfigError:
    # The value itself is left out: it may be a long or sensitive string. Its type is enough.
    kind = ConfigError if isinstance(value, int | float | str) else ConfigTypeError
    return kind(
        f"{message} (got a value of type {type(value).__name__})", key=name, expected=_EXPECTED
    )


def _as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # within a day of datetime.min or datetime.max
        edge = datetime.min if value.year == 1 else datetime.max
        return edge.replace(tzinfo=UTC)


def _from_seconds(seconds: float, original: object, name: str) -> ExpirationTime:
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise _error(f"{name} must be a finite number of seconds", original, name)
    if seconds == NEVER_EXPIRE:
        return None
    if seconds <= 0:
        return EXPIRE_IMMEDIATELY  # zero, or an expiry in the past: stored, already stale
    try:
        # A positive duration too small for a timedelta still expires, just very soon.
        return max(timedelta(seconds=seconds), _ONE_MICROSECOND)
    except OverflowError:
        return None  # longer than a timedelta can hold: never, in practice


def _from_text(text: str, name: str) -> ExpirationTime:
    word = text.strip().lower().replace("_", "-")
    if word in _KEYWORDS:
        return _KEYWORDS[word]
    match = _DURATION.fullmatch(word)
    if match is None:
        raise _error(f"{name} is not a known keyword or duration", text, name)
    return _from_seconds(float(match[1]) * _UNITS[match[2]], text, name)


def validate_expiration(value: object, *, name: str = "expire_after") -> ExpirationTime:
    """Check an expiration value and return its canonical form; raise ConfigError if invalid.

    The canonical forms are ``None`` (never), :data:`DO_NOT_CACHE`, :data:`EXPIRE_IMMEDIATELY`
    (both ints), a positive ``timedelta``, or an aware UTC ``datetime``. `name` labels error
    messages.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise _error(f"{name} must be a number of seconds, not a boolean", value, name)
    if type(value) is int and value == DO_NOT_CACHE:
        return DO_NOT_CACHE
    if isinstance(value, int | float):
        return _from_seconds(value, value, name)
    if isinstance(value, timedelta):
        return value if value > timedelta(0) else EXPIRE_IMMEDIATELY
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, str):
        return _from_text(value, name)
    raise _error(f"{name} has an unsupported type", value, name)


def get_expiration_datetime(
    expire_after: object, *, now: datetime | None = None, name: str = "expire_after"
) -> datetime | None:
    """When an entry stored at `now` expires (aware UTC), or None for never.

    :data:`DO_NOT_CACHE` and :data:`EXPIRE_IMMEDIATELY` both give `now` (already stale); a
    caller checks :func:`is_do_not_cache` first to skip storing. `now` defaults to the
    current UTC time; naive datetimes are taken as UTC.
    """
    value = validate_expiration(expire_after, name=name)
    start = datetime.now(UTC) if now is None else _as_utc(now)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, timedelta):
        try:
            return start + value
        except OverflowError:
            return None  # past the year 9999: never, in practice
    return start


def _canonical_or_invalid(value: object) -> ExpirationTime | NotFound:
    try:
        return validate_expiration(value)
    except ConfigError:
        return NOT_FOUND


def is_do_not_cache(value: object) -> bool:
    """True when `value` means "do not store the response" (:data:`DO_NOT_CACHE`); never raises."""
    canonical = _canonical_or_invalid(value)
    return type(canonical) is int and canonical == DO_NOT_CACHE


def is_expire_immediately(value: object) -> bool:
    """True when `value` is :data:`EXPIRE_IMMEDIATELY` in any spelling (any zero or negative
    duration but -1); never raises."""
    canonical = _canonical_or_invalid(value)
    return type(canonical) is int and canonical == EXPIRE_IMMEDIATELY


def _split_url(url: str, *, pattern: bool = False) -> tuple[str | None, str, str | None]:
    """(scheme or None, authority, path or None) of a URL or URL pattern; never raises.

    In a pattern, ``?`` is a glob character, not the start of a query.
    """
    scheme: str | None = None
    if "://" in url:
        scheme, _, url = url.partition("://")
        scheme = scheme.lower()
    ends = "/" if pattern else "/?#"
    cut = min((i for i in (url.find(c) for c in ends) if i >= 0), default=len(url))
    authority, rest = url[:cut], url[cut:]
    authority = authority.rpartition("@")[2].lower()  # userinfo never takes part in a match
    if pattern or not rest.startswith("/"):
        return scheme, authority, rest or None
    return scheme, authority, rest.split("?", 1)[0].split("#", 1)[0]


def _host_forms(authority: str, scheme: str | None) -> tuple[str, str]:
    """(host without port, host with any non-default port) of a URL's authority."""
    host, sep, port = authority.rpartition(":")
    if not sep or "]" in port:
        return authority, authority  # no port (or an IPv6 address without one)
    if not (port.isascii() and port.isdigit()):
        return (host, host) if not port else (authority, authority)
    if port.lstrip("0") == _DEFAULT_PORTS.get(scheme or ""):
        return host, host
    return host, authority


def _glob_host(pattern: str) -> str:
    # In the host part only * and ? are wildcards, so an IPv6 "[::1]" matches literally.
    return pattern.replace("[", "\0").replace("]", "[]]").replace("\0", "[[]")


def _url_matches(url: str, pattern: str) -> bool:
    scheme, authority, path = _split_url(url)
    p_scheme, p_host, p_path = _split_url(pattern, pattern=True)
    if p_scheme is not None and not fnmatchcase(scheme or "", p_scheme):
        return False
    host, host_port = _host_forms(authority, scheme)
    glob = _glob_host(p_host)
    if not any(fnmatchcase(form, glob) for form in (host, host_port, authority)):
        return False
    if p_path is None:
        return True  # a bare host matches the whole site
    path = path or "/"
    return fnmatchcase(path, p_path) or fnmatchcase(path, p_path.rstrip("/") + "/*")


URLPattern: TypeAlias = str | re.Pattern[str]
"""A ``urls_expire_after`` key: a glob string, or a compiled regular expression."""


def get_url_expiration(
    url: str, urls_expire_after: Mapping[URLPattern, ExpirationTime] | None
) -> ExpirationTime | Literal[NotFound.NOT_FOUND]:
    """The value of the first pattern (in mapping order) that matches `url`, else NOT_FOUND.

    Patterns are globs (``*``, ``?``, ``[...]`` in the path) matched against the URL without
    its scheme, so ``example.com/api/*`` matches http and https; a pattern may start with a
    scheme (``https://example.com``) to match only that one. The host (and scheme) match
    case-insensitively, the path case-sensitively; userinfo, query and fragment are not
    matched. A pattern with no path (``example.com``, ``*.example.com``) matches the whole
    site; a pattern with a path also matches everything below it (``example.com/static``
    matches ``/static`` and ``/static/app.js`` but not ``/staticfiles``). A pattern without a
    port matches any port. A compiled ``re.Pattern`` matches if it is found anywhere in the
    whole URL (``pattern.search(url)``), as in requests-cache.
    """
    for pattern, value in (urls_expire_after or {}).items():
        if isinstance(pattern, re.Pattern):
            if pattern.search(url):
                return value
        elif _url_matches(url, pattern):
            return value
    return NOT_FOUND
