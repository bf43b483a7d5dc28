"""RFC 9111 §4.2.3 age calculation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from vaultcache.policy.age import current_age, initial_age

RECEIVED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DATE = "Fri, 02 Jan 2026 03:03:05 GMT"  # one minute before RECEIVED


def test_apparent_age_from_the_date_header() -> None:
    age = initial_age({"Date": DATE}, response_time=RECEIVED, response_delay=timedelta(0))
    assert age == timedelta(minutes=1)


def test_the_origin_age_plus_the_request_duration_when_larger() -> None:
    headers = {"Date": DATE, "Age": "100"}
    age = initial_age(headers, response_time=RECEIVED, response_delay=timedelta(seconds=2))
    assert age == timedelta(seconds=102)


def test_a_date_in_the_future_never_gives_a_negative_age() -> None:
    headers = {"Date": "Sat, 03 Jan 2026 00:00:00 GMT"}
    assert initial_age(headers, response_time=RECEIVED, response_delay=timedelta(0)) == timedelta(0)


def test_invalid_date_and_age_count_as_zero() -> None:
    headers = {"Date": "yesterday", "Age": "-5"}
    delay = timedelta(milliseconds=3)
    assert initial_age(headers, response_time=RECEIVED, response_delay=delay) == delay


def test_current_age_adds_the_resident_time() -> None:
    now = RECEIVED + timedelta(seconds=30)
    age = current_age({"Date": DATE}, response_time=RECEIVED, response_delay=timedelta(0), now=now)
    assert age == timedelta(seconds=90)


@given(st.dictionaries(st.sampled_from(["Date", "Age", "date", "AGE"]), st.text(max_size=40)))
def test_any_header_values_give_a_non_negative_age(headers: dict[str, str]) -> None:
    age = current_age(headers, response_time=RECEIVED, response_delay=timedelta(0), now=RECEIVED)
    assert age >= timedelta(0)
