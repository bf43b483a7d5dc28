"""One check per value type: it takes what a file may hold, normalized, or says what is expected."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from vaultcache.allow_list import DISTRIBUTION_EXPECTED, DISTRIBUTION_NAME
from vaultcache.config.problems import wrong
from vaultcache.config.value_types import (
    ByteSize,
    CacheName,
    Count,
    Distribution,
    Duration,
    Expiry,
    Method,
    Name,
    Rfc9111,
    Seconds,
    Spec,
    StatusCode,
    Text,
)
from vaultcache.errors import ConfigError, SpecError
from vaultcache.policy.expiration import ExpirationTime, validate_expiration
from vaultcache.policy.settings import RFC9111_MODES
from vaultcache.serializers.builder import parse_spec

__all__ = ["VALUE_CHECKS"]

#: Type (a class or an ``Annotated`` value type) -> the check that structures a value of it.
VALUE_CHECKS: dict[object, Callable[[Any], Any]] = {}


def _checks(annotation: object) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    def register(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        VALUE_CHECKS[annotation] = function
        return function

    return register


@_checks(str)
def _string(value: object) -> str:
    if not isinstance(value, str):
        raise wrong("a string", value)
    return value


@_checks(bool)
def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise wrong("true or false", value)
    return value


@_checks(int)
def _integer(value: object) -> int:
    if type(value) is not int:
        raise wrong("an integer", value)
    return value


@_checks(CacheName)
def _cache_name(value: object) -> str:
    if not isinstance(value, str):
        raise wrong("a cache name or path", value)
    # TOML has no shell to expand "~", and a literal "~" directory is never what is meant.
    return os.path.expanduser(value) if value.startswith("~") else value


@_checks(Text)
def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise wrong("a non-empty string", value)
    return value


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}")


@_checks(Name)
def _name(value: object) -> str:
    expected = "a name: a letter, then letters, digits, '-' or '_'"
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise wrong(expected, value)
    return value.lower()


@_checks(Distribution)
def _distribution(value: object) -> str:
    if not isinstance(value, str) or not DISTRIBUTION_NAME.fullmatch(value):
        raise wrong(DISTRIBUTION_EXPECTED, value)
    return value


@_checks(Method)
def _method(value: object) -> str:
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise wrong("an HTTP method such as 'GET'", value)
    return value.upper()


@_checks(Rfc9111)
def _rfc9111(value: object) -> str:
    if value not in RFC9111_MODES:
        raise wrong("'private' or 'shared'", value)
    return str(value)


@_checks(StatusCode)
def _status_code(value: object) -> int:
    if type(value) is not int or not 100 <= value <= 599:
        raise wrong("an HTTP status code (an integer from 100 to 599)", value)
    return value


@_checks(Count)
def _count(value: object) -> int:
    # A bound of 0 would keep nothing: vaultcache.retention refuses it, so it is refused here,
    # where the error can name the file.
    if type(value) is not int or value < 1:
        raise wrong("an integer >= 1", value)
    return value


_SIZE = re.compile(r"([0-9]{1,20}(?:\.[0-9]{1,20})?)\s*([KMGTP]?)(I?)B?", re.IGNORECASE)


@_checks(ByteSize)
def _byte_size(value: object) -> int:
    expected = "a number of bytes >= 1, or a size such as '500MB' or '2GiB'"
    if type(value) is int and value >= 1:
        return value
    match = _SIZE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or (match[3] and not match[2]):
        raise wrong(expected, value)
    power = " KMGTP".index(match[2].upper() or " ")
    base = 1024 if match[3] else 1000
    size = int(Decimal(match[1]) * base**power)  # Decimal: "8.2GB" is 8200000000, not 8199999999
    if size < 1:
        raise wrong(expected, value)
    return size


@_checks(Duration)
def _duration(value: object) -> timedelta:
    expected = "a duration such as '30d' or '12h', or seconds > 0"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise wrong(expected, value)
    try:
        canonical = validate_expiration(value, name="duration")
    except ConfigError:
        raise wrong(expected, value) from None
    if not isinstance(canonical, timedelta):
        raise wrong(expected, value)
    return canonical


_EXPIRY_EXPECTED = (
    "seconds (-1: never, 0: expire immediately), a duration such as '15m', '2h' or '7d', "
    "'never', 'do-not-cache', 'expire-immediately', or a TOML datetime"
)


@_checks(Expiry)
def _expiry(value: object) -> ExpirationTime:
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, int | float | str | datetime):
        raise wrong(_EXPIRY_EXPECTED, value)
    if isinstance(value, int | float) and value < 0 and value != -1:
        # The Python API takes these as an expiry in the past (as requests-cache does); in a
        # file they are a typo far more often than a wish.
        raise wrong(_EXPIRY_EXPECTED, value)
    try:
        return validate_expiration(value)
    except ConfigError:
        raise wrong(_EXPIRY_EXPECTED, value) from None


@_checks(Seconds)
def _seconds(value: object) -> bool | float:
    expected = "true, false, or seconds >= 0 (a number or a duration such as '5m')"
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and _fits_timedelta(value) and value >= 0:
        return float(value)
    if isinstance(value, str):
        try:
            canonical = validate_expiration(value, name="seconds")
        except ConfigError:
            canonical = None
        if isinstance(canonical, timedelta):
            return canonical.total_seconds()
    raise wrong(expected, value)


def _fits_timedelta(seconds: float) -> bool:
    """Whether `seconds` is finite and small enough for the session to make a timedelta."""
    try:
        timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        return False
    return True


_SPEC_NAME = re.compile(r"[a-z][a-z0-9_-]*")


@_checks(Spec)
def _spec(value: object) -> str:
    expected = "a serializer spec such as 'zstd+aesgcm'"
    if not isinstance(value, str):
        raise wrong(expected, value)
    try:
        names = parse_spec(value)
    except SpecError as exc:
        raise wrong(expected, value, exc.reason) from None
    bad = [name for name in names if not _SPEC_NAME.fullmatch(name)]
    if bad:
        raise wrong(expected, value, "stage names are a letter, then letters, digits, - or _")
    return value
