"""How old a stored response is (RFC 9111 §4.2.3), for the Age header and freshness checks."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from vaultcache.policy.directives import header_value, parse_age, parse_http_date

__all__ = ["current_age", "initial_age"]

_ZERO = timedelta(0)


@functools.lru_cache(maxsize=256)
def _date(value: str | None, year: int) -> datetime | None:
    """``parse_http_date(value)`` in `year` (which reads two-digit years), remembered: a
    stored response's Date is read again on every hit."""
    return parse_http_date(value, now=datetime(year, 7, 1, tzinfo=UTC))


def initial_age(
    headers: Mapping[str, str], *, response_time: datetime, response_delay: timedelta
) -> timedelta:
    """The corrected initial age of a response received at `response_time`.

    The larger of the apparent age (`response_time` minus the Date header, never negative)
    and the origin's Age header plus `response_delay`, the time the request took: RFC 9111
    §4.2.3. A missing or invalid Date or Age counts as zero.
    """
    date = _date(header_value(headers, "Date"), datetime.now(UTC).year)
    apparent = max(_ZERO, response_time - date) if date is not None else _ZERO
    corrected = timedelta(seconds=parse_age(header_value(headers, "Age")) or 0) + max(
        _ZERO, response_delay
    )
    return max(apparent, corrected)


def current_age(
    headers: Mapping[str, str],
    *,
    response_time: datetime,
    response_delay: timedelta,
    now: datetime,
) -> timedelta:
    """The age of a stored response at `now`: its initial age plus its resident time."""
    resident = max(_ZERO, now - response_time)
    return (
        initial_age(headers, response_time=response_time, response_delay=response_delay) + resident
    )
