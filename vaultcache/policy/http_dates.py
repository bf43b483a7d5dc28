"""HTTP-date (RFC 9110 §5.6.7), and the Expires (RFC 9111 §5.3) and Age (§5.1) headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from vaultcache.policy.header_syntax import MAX_HEADER, delta_seconds

__all__ = ["ALREADY_EXPIRED", "parse_age", "parse_expires", "parse_http_date"]


ALREADY_EXPIRED: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""What an invalid Expires value means: a time in the past (RFC 9111 §5.3)."""


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


# asctime-date: Sun Nov  6 08:49:37 1994
_ASCTIME_DATE: Final = re.compile(
    rf"{_DAY} +{_MONTH} +([0-9]{{1,2}}) +{_TIME} +([0-9]{{4}})", _FLAGS
)


# The same three, exactly as RFC 9110 §5.6.7 writes them (one space, two-digit day and
# hour, GMT), for Expires, whose invalid values mean "already expired" (RFC 9111 §5.3).
_STRICT_IMF_FIXDATE: Final = re.compile(
    rf"{_DAY}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT", _FLAGS
)


_STRICT_ASCTIME_DATE: Final = re.compile(
    rf"{_DAY} {_MONTH} ([0-9]{{2}}| [0-9]) {_TIME} ([0-9]{{4}})", _FLAGS
)


# rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT
_RFC850_DATE: Final = re.compile(
    rf"{_LONG_DAY}, +([0-9]{{1,2}})-{_MONTH}-([0-9]{{2}}) +{_TIME} +GMT", _FLAGS
)
_STRICT_RFC850_DATE: Final = re.compile(
    rf"{_LONG_DAY}, ([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT", _FLAGS
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
    return delta_seconds(value[:MAX_HEADER].split(",", 1)[0].strip(" \t"))
