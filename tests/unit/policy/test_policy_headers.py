"""HTTP-date, Expires, Age, validators and Vary: parsed strictly, never raising."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from vaultcache.policy.directives import (
    ALREADY_EXPIRED,
    MAX_DELTA_SECONDS,
    VARY_ANY,
    Validators,
    conditional_headers,
    parse_age,
    parse_expires,
    parse_http_date,
    parse_vary,
    validators,
    vary_fields,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NOV_6_1994 = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # rfc850-date
        "Sun Nov  6 08:49:37 1994",  # asctime-date
        "sun, 06 nov 1994 08:49:37 gmt",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "  Sun, 06  Nov 1994 08:49:37 GMT\t",
        "Sun Nov 06 08:49:37 1994",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Mon, 06 Nov 1994 08:49:37 GMT",  # the day name is not checked
    ],
)
def test_http_date_formats(value: str) -> None:
    assert parse_http_date(value, now=NOW) == NOV_6_1994


def test_leap_second_reads_as_59() -> None:
    assert parse_http_date("Sun, 06 Nov 1994 23:59:60 GMT") == datetime(
        1994, 11, 6, 23, 59, 59, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "0",
        "-1",
        "garbage",
        "Sun, 06 Nov 1994 08:49:37",  # no zone
        "Sun, 06 Nov 1994 08:49:37 +0000",  # numeric zones are not HTTP-dates
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:61:00 GMT",
        "Sun, 06 Nov 0000 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, \u0660\u0666 Nov 1994 08:49:37 GMT",  # non-ASCII digits
        "Sun, 06 Nov 1994 08:49:37 GMT" + " " * 100,
        "1994-11-06T08:49:37Z",
    ],
)
def test_invalid_http_dates(value: str | None) -> None:
    assert parse_http_date(value, now=NOW) is None
    assert parse_expires(value, now=NOW) == ALREADY_EXPIRED


def test_rfc850_two_digit_year_is_at_most_50_years_ahead() -> None:
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now=NOW) == NOV_6_1994
    in_2070 = parse_http_date("Thursday, 06-Nov-70 08:49:37 GMT", now=NOW)
    assert in_2070 is not None
    assert in_2070.year == 2070
    in_1980 = parse_http_date("Thursday, 06-Nov-80 08:49:37 GMT", now=NOW)
    assert in_1980 is not None
    assert in_1980.year == 1980
    later = datetime(2090, 1, 1, tzinfo=UTC)
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now=later) == NOV_6_1994.replace(
        year=2094
    )


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)))
def test_imf_and_asctime_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    assert parse_http_date(format_datetime(moment, usegmt=True)) == moment
    assert parse_http_date(moment.strftime("%a %b %d %H:%M:%S %Y")) == moment


@given(st.datetimes(min_value=datetime(1975, 1, 1), max_value=datetime(2073, 12, 31)))
def test_rfc850_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    assert parse_http_date(moment.strftime("%A, %d-%b-%y %H:%M:%S GMT"), now=NOW) == moment


@given(st.text(max_size=80))
def test_parse_http_date_never_raises(value: str) -> None:
    result = parse_http_date(value)
    assert result is None or result.tzinfo is UTC
    assert parse_expires(value).tzinfo is UTC


@pytest.mark.parametrize("value", ["", " ", "0", "-1", "garbage", "Thu, 01 Jan 1970 00:00:00 GMT"])
def test_expires_invalid_is_already_expired(value: str) -> None:
    expires = parse_expires(value, now=NOW)
    assert expires == ALREADY_EXPIRED
    assert expires < NOW


def test_expires_valid() -> None:
    assert parse_expires("Sun, 06 Nov 1994 08:49:37 GMT") == NOV_6_1994
    future = "Wed, 01 May 2030 12:00:00 GMT"
    assert parse_expires(future) == datetime(2030, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "age"),
    [
        (None, None),
        ("", None),
        ("60", 60),
        (" 60 ", 60),
        ("0", 0),
        ("abc", None),
        ("-1", None),
        ("1.5", None),
        ("1e3", None),
        ("+5", None),
        ("\u0663", None),
        ("10, 20", 10),  # the first member counts (RFC 9111 §5.1)
        ("0, 7200", 0),
        ("x, 5", None),  # an invalid first member: the header is ignored
        ("9" * 5000, MAX_DELTA_SECONDS),
        ("2147483649", MAX_DELTA_SECONDS),
    ],
)
def test_parse_age(value: str | None, age: int | None) -> None:
    assert parse_age(value) == age


@given(st.text())
def test_parse_age_never_raises(value: str) -> None:
    age = parse_age(value)
    assert age is None or 0 <= age <= MAX_DELTA_SECONDS


# -- validators ---------------------------------------------------------------------------

LAST_MODIFIED = "Sun, 06 Nov 1994 08:49:37 GMT"


def test_validators() -> None:
    headers = {"ETag": '"abc"', "Last-Modified": LAST_MODIFIED}
    assert validators(headers) == Validators('"abc"', LAST_MODIFIED)
    assert validators(CaseInsensitiveDict(headers)) == ('"abc"', LAST_MODIFIED)
    assert validators({"etag": 'W/"v1"'}) == Validators('W/"v1"', None)
    assert validators({"ETag": "unquoted"}).etag == "unquoted"  # echoed as sent
    assert validators({}) == Validators(None, None)
    assert validators(None) == Validators(None, None)


@pytest.mark.parametrize("etag", ["", "  ", '"a"\r\nX-Injected: 1', '"a\x00"', '"\x7f"'])
def test_unsafe_or_empty_etags_are_dropped(etag: str) -> None:
    assert validators({"ETag": etag}).etag is None


def test_invalid_last_modified_is_dropped() -> None:
    assert validators({"Last-Modified": "yesterday"}).last_modified is None
    assert validators({"Last-Modified": "0"}).last_modified is None


def test_conditional_headers() -> None:
    both = {"ETag": '"abc"', "Last-Modified": LAST_MODIFIED}
    assert conditional_headers(both) == {
        "If-None-Match": '"abc"',
        "If-Modified-Since": LAST_MODIFIED,
    }
    assert conditional_headers({"etag": '"abc"'}) == {"If-None-Match": '"abc"'}
    assert conditional_headers({"last-modified": LAST_MODIFIED}) == {
        "If-Modified-Since": LAST_MODIFIED
    }
    assert conditional_headers({"Content-Type": "text/plain"}) == {}


@given(st.dictionaries(st.sampled_from(["ETag", "Last-Modified", "etag", "X"]), st.text()))
def test_conditional_headers_never_raise_and_are_safe(headers: dict[str, str]) -> None:
    for value in conditional_headers(headers).values():
        assert value
        assert "\r" not in value
        assert "\n" not in value


# -- Vary ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("Accept-Encoding", ("accept-encoding",)),
        ("Accept-Encoding, User-Agent", ("accept-encoding", "user-agent")),
        ("  ,  , Accept ,,\tCookie ", ("accept", "cookie")),
        ("Accept, ACCEPT, accept", ("accept",)),
        ("*", VARY_ANY),
        ("Accept, *", VARY_ANY),
        (" * ", VARY_ANY),
    ],
)
def test_parse_vary(value: str | None, expected: object) -> None:
    assert parse_vary(value) == expected


def test_vary_fields_from_headers() -> None:
    assert vary_fields({"vary": "Accept, Origin"}) == ("accept", "origin")
    assert vary_fields(CaseInsensitiveDict({"Vary": "*"})) == "*"
    assert vary_fields({}) == ()
    assert vary_fields(None) == ()


@given(st.text())
def test_parse_vary_never_raises(value: str) -> None:
    result = parse_vary(value)
    if result != VARY_ANY:
        assert all(name and name == name.lower() and "," not in name for name in result)
        assert len(set(result)) == len(result)


def test_expired_constant_is_aware_and_in_the_past() -> None:
    assert ALREADY_EXPIRED.tzinfo is UTC
    assert datetime.now(UTC) - timedelta(days=365) > ALREADY_EXPIRED


# -- Expires is strict (RFC 9111 §5.3, RFC 9110 §5.6.7) ---------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 UTC",  # UTC is not GMT
        "Sun, 06 Nov 1994 08:49:37 AEST",
        "Sun,  06 Nov 1994 08:49:37 GMT",  # a run of spaces
        "Sun, 06 Nov 1994  08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",  # a one-digit day
        "Sun, 06 Nov 1994 8:49:37 GMT",  # a one-digit hour
        "Sun 06 Nov 1994 08:49:37 GMT",  # no comma
        "Sun, 06-Nov-1994 08:49:37 GMT",  # dashes in an IMF-fixdate
        "Sun, 06 Nov 1994 08.49.37 GMT",  # periods in the time
        "Sun, 06 Nov 94 08:49:37 GMT",  # a two-digit year in an IMF-fixdate
    ],
)
def test_expires_in_a_lenient_form_is_already_expired(value: str) -> None:
    assert parse_expires(value) == ALREADY_EXPIRED


def test_the_lenient_forms_still_parse_as_other_dates() -> None:
    """Date and Last-Modified keep the lenient reading: only Expires must be exact."""
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC") == NOV_6_1994
    assert parse_http_date("Sun,  6 Nov 1994 08:49:37 GMT") == NOV_6_1994


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "sun, 06 nov 1994 08:49:37 gmt",  # names in any case
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Sun Nov 06 08:49:37 1994",
    ],
)
def test_expires_in_the_three_exact_formats_parses(value: str) -> None:
    assert parse_expires(value, now=datetime(2000, 1, 1, tzinfo=UTC)) == NOV_6_1994
