"""Expiration values and per-URL expiration rules."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultcache.errors import ConfigError
from vaultcache.policy.expiration import (
    DO_NOT_CACHE,
    EXPIRE_IMMEDIATELY,
    NEVER_EXPIRE,
    NOT_FOUND,
    get_expiration_datetime,
    get_url_expiration,
    is_do_not_cache,
    is_expire_immediately,
    validate_expiration,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_constants_are_those_of_requests_cache_1x() -> None:
    requests_cache_expiration = pytest.importorskip("requests_cache.policy.expiration")
    assert NEVER_EXPIRE == requests_cache_expiration.NEVER_EXPIRE == -1
    assert EXPIRE_IMMEDIATELY == requests_cache_expiration.EXPIRE_IMMEDIATELY == 0
    assert DO_NOT_CACHE == requests_cache_expiration.DO_NOT_CACHE
    assert repr(NOT_FOUND) == "NOT_FOUND"


@pytest.mark.parametrize("value", [None, NEVER_EXPIRE, -1.0, "never", "NEVER", "-1", 10**400])
def test_never(value: object) -> None:
    assert get_expiration_datetime(value, now=NOW) is None


@pytest.mark.parametrize(
    ("value", "delta"),
    [
        (60, timedelta(seconds=60)),
        (1.5, timedelta(seconds=1.5)),
        (timedelta(hours=1), timedelta(hours=1)),
        ("90", timedelta(seconds=90)),
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        (" 2H ", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("0.5h", timedelta(minutes=30)),
        (1e-9, timedelta(microseconds=1)),  # positive, however small, is not "do not cache"
    ],
)
def test_durations(value: object, delta: timedelta) -> None:
    assert get_expiration_datetime(value, now=NOW) == NOW + delta


@pytest.mark.parametrize("value", [DO_NOT_CACHE, "do-not-cache", "Do_Not_Cache"])
def test_do_not_cache(value: object) -> None:
    assert is_do_not_cache(value)
    assert not is_expire_immediately(value)
    assert get_expiration_datetime(value, now=NOW) == NOW


@pytest.mark.parametrize(
    "value",
    [
        EXPIRE_IMMEDIATELY,
        0,
        0.0,
        timedelta(0),
        "0",
        "0s",
        "EXPIRE_IMMEDIATELY",
        "expire-immediately",
        # requests-cache: an expiry in the past, so stored already stale (-1 alone is never).
        -5,
        -0.5,
        -2,
        timedelta(seconds=-1),
    ],
)
def test_zero_and_negative_durations_expire_immediately(value: object) -> None:
    assert is_expire_immediately(value)
    assert not is_do_not_cache(value)
    assert get_expiration_datetime(value, now=NOW) == NOW


@pytest.mark.parametrize(
    "value", [None, -1, 0, 1, 0.1, "never", "1s", False, True, "junk", object(), -5, [0]]
)
def test_is_do_not_cache_false(value: object) -> None:
    assert not is_do_not_cache(value)


def test_datetimes_are_utc() -> None:
    naive = datetime(2030, 1, 1, 8, 0)
    assert get_expiration_datetime(naive, now=NOW) == datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    plus_two = datetime(2030, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    result = get_expiration_datetime(plus_two, now=NOW)
    assert result == datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    assert result is not None
    assert result.tzinfo is UTC
    past = datetime(2000, 1, 1, tzinfo=UTC)
    assert get_expiration_datetime(past, now=NOW) == past  # allowed: stored already expired


def test_naive_now_is_utc_and_default_now_is_current_time() -> None:
    naive_now = NOW.replace(tzinfo=None)
    assert get_expiration_datetime(60, now=naive_now) == NOW + timedelta(seconds=60)
    before = datetime.now(UTC)
    result = get_expiration_datetime(60)
    after = datetime.now(UTC)
    assert result is not None
    assert before + timedelta(seconds=60) <= result <= after + timedelta(seconds=60)


def test_past_year_9999_means_never() -> None:
    assert get_expiration_datetime(timedelta.max, now=NOW) is None
    assert get_expiration_datetime(10**12, now=NOW) is None
    assert get_expiration_datetime(datetime.max, now=NOW) == datetime.max.replace(tzinfo=UTC)
    edge = datetime.min.replace(tzinfo=timezone(timedelta(hours=5)))
    assert get_expiration_datetime(edge, now=NOW) == datetime.min.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (True, "bool"),
        (False, "bool"),
        ("soon", "str"),
        ("-5s", "str"),
        ("5 years", "str"),
        ("", "str"),
        (float("nan"), "float"),
        (float("inf"), "float"),
        (object(), "object"),
        ([60], "list"),
        (b"60", "bytes"),
    ],
)
def test_invalid_values(value: object, type_name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        get_expiration_datetime(value, now=NOW)
    assert caught.value.key == "expire_after"
    assert caught.value.expected
    assert type_name in str(caught.value)


def test_invalid_value_names_the_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_expiration("soon", name="urls_expire_after['example.com']")
    assert caught.value.key == "urls_expire_after['example.com']"


def test_canonical_forms() -> None:
    assert validate_expiration(None) is None
    assert validate_expiration("never") is None
    assert validate_expiration(0.0) == EXPIRE_IMMEDIATELY
    assert validate_expiration(timedelta(0)) == EXPIRE_IMMEDIATELY
    assert validate_expiration(DO_NOT_CACHE) == DO_NOT_CACHE
    assert validate_expiration(30) == timedelta(seconds=30)
    assert validate_expiration("2h") == timedelta(hours=2)
    assert validate_expiration("expire_immediately") == EXPIRE_IMMEDIATELY
    assert validate_expiration(datetime(2030, 1, 1)) == datetime(2030, 1, 1, tzinfo=UTC)


valid_values = st.one_of(
    st.none(),
    st.just(NEVER_EXPIRE),
    st.just(DO_NOT_CACHE),
    st.just(EXPIRE_IMMEDIATELY),
    st.integers(min_value=1, max_value=10**20),
    st.floats(min_value=0, max_value=1e15, allow_nan=False),
    st.timedeltas(min_value=timedelta(0)),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.builds(
        lambda number, unit: f"{number}{unit}",
        st.integers(min_value=0, max_value=10**6),
        st.sampled_from(["", "s", "m", "h", "d", "w"]),
    ),
)


@given(valid_values)
def test_validation_is_idempotent_and_expiry_is_aware(value: object) -> None:
    canonical = validate_expiration(value)
    assert validate_expiration(canonical) == canonical
    assert is_do_not_cache(value) == is_do_not_cache(canonical)
    expires = get_expiration_datetime(value, now=NOW)
    assert expires is None or expires.utcoffset() == timedelta(0)


@given(st.one_of(st.text(), st.integers(), st.floats(), st.binary(), st.booleans()))
def test_anything_is_valid_or_a_config_error(value: object) -> None:
    assert isinstance(is_do_not_cache(value), bool)
    with contextlib.suppress(ConfigError):
        get_expiration_datetime(value, now=NOW)


# -- per-URL rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("example.com/api/*", "https://example.com/api/v1/items", True),
        ("example.com/api/*", "http://example.com/api/v1/items?page=2", True),
        ("example.com/api/*", "https://example.com/other", False),
        ("example.com/api/*", "https://example.com/API/v1", False),  # paths are case-sensitive
        ("https://example.com", "https://example.com/x", True),
        ("https://example.com", "http://example.com/x", False),
        ("HTTPS://Example.COM/api", "https://EXAMPLE.com/api", True),
        ("example.com", "https://example.com", True),
        ("example.com", "https://example.com/anything/at/all?q=1#f", True),
        ("example.com", "https://example.com?q=1", True),
        ("example.com", "https://example.com.evil.org/", False),
        ("example.com", "https://notexample.com/", False),
        ("example.com", "https://api.example.com/", False),
        ("*.example.com", "https://api.example.com/x", True),
        ("*.example.com", "https://example.com/x", False),
        ("example.com/static", "https://example.com/static", True),
        ("example.com/static", "https://example.com/static/app.js", True),
        ("example.com/static", "https://example.com/staticfiles", False),
        ("example.com/static/", "https://example.com/static/app.js", True),
        ("example.com/", "https://example.com/x", True),
        ("example.com", "https://example.com:8443/x", True),  # no port: any port
        ("example.com:8443", "https://example.com:8443/x", True),
        ("example.com:8443", "https://example.com:9000/x", False),
        ("example.com:8443", "https://example.com/x", False),
        ("example.com:443", "https://example.com:443/x", True),
        ("example.com", "https://user:secret@example.com/x", True),
        ("[::1]:8080", "http://[::1]:8080/x", True),
        ("[::1]", "http://[::1]/x", True),
        ("[::1]", "http://1/x", False),  # brackets are literal in a host
        ("*", "https://anything.org/at/all", True),
        ("*/api/*", "https://anything.org/api/x", True),
        ("example.com/a?c", "https://example.com/abc", True),  # ? is a glob
        ("example.com/items/*.json", "https://example.com/items/1.json", True),
        ("example.com/items/*.json", "https://example.com/items/1.xml", False),
        ("example.com/api/*", "example.com/api/x", True),  # a URL without a scheme
    ],
)
def test_url_patterns(pattern: str, url: str, matches: bool) -> None:
    result = get_url_expiration(url, {pattern: 60})
    assert (result == 60) is matches
    assert (result is NOT_FOUND) is not matches


def test_first_match_wins_in_mapping_order() -> None:
    rules = {"example.com/api/slow/*": 3600, "example.com/api/*": 60, "*": NEVER_EXPIRE}
    assert get_url_expiration("https://example.com/api/slow/x", rules) == 3600
    assert get_url_expiration("https://example.com/api/fast/x", rules) == 60
    assert get_url_expiration("https://other.org/", rules) == NEVER_EXPIRE
    reordered = {"example.com/api/*": 60, "example.com/api/slow/*": 3600}
    assert get_url_expiration("https://example.com/api/slow/x", reordered) == 60


def test_not_found_is_distinct_from_never() -> None:
    assert get_url_expiration("https://example.com/", {"example.com": None}) is None
    assert get_url_expiration("https://example.com/", {}) is NOT_FOUND
    assert get_url_expiration("https://example.com/", None) is NOT_FOUND
    assert get_url_expiration("https://example.com/", {"other.org": 5}) is NOT_FOUND


@given(st.text(), st.text())
def test_url_matching_never_raises(url: str, pattern: str) -> None:
    result = get_url_expiration(url, {pattern: 1})
    assert result == 1 or result is NOT_FOUND
    assert get_url_expiration(url, {"*": 1}) == 1
