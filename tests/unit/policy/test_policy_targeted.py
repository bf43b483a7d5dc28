"""CDN-Cache-Control (RFC 9213): a Structured Field Dictionary of Cache-Control directives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultcache.policy.directives import CacheDirectives
from vaultcache.policy.targeted import parse_targeted, targeted_directives


def test_directives_of_a_valid_field() -> None:
    parsed = parse_targeted("max-age=600, must-revalidate, foo=bar;p=1")
    assert parsed == CacheDirectives(
        max_age=600, must_revalidate=True, extensions=(("foo", "bar"),)
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("no-store", CacheDirectives(no_store=True)),
        ("private", CacheDirectives(private=True)),
        ("no-cache", CacheDirectives(no_cache=True)),
        ("no-cache=?0, max-age=5", CacheDirectives(max_age=5)),  # an explicit false
        ('private="set-cookie"', CacheDirectives(private=True)),  # the stricter whole form
        ("max-age=1, max-age=9", CacheDirectives(max_age=9)),  # the last member wins
        ("s-maxage=60 ,  max-age=5", CacheDirectives(max_age=5, s_maxage=60)),
        ("max-age=99999999999", CacheDirectives(max_age=2**31)),
    ],
)
def test_members(value: str, expected: CacheDirectives) -> None:
    assert parse_targeted(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "max-age=10000, &&&&&",  # not a Structured Field
        'max-age="10000"',  # a string where an integer belongs
        "max-age=-1",
        "max-age=1.5",
        "max-age",  # a Boolean where an integer belongs
        "no-store=5",
        "Max-Age=5",  # keys are lowercase
        "max-age = 5",
        "max-age=5,",
        "max-age=5 no-store",
    ],
)
def test_an_invalid_field_is_ignored(value: str | None) -> None:
    assert parse_targeted(value) is None


def test_looked_up_case_insensitively_in_headers() -> None:
    headers = {"cdn-cache-control": "max-age=5", "Cache-Control": "no-store"}
    assert targeted_directives(headers, "CDN-Cache-Control") == CacheDirectives(max_age=5)
    assert targeted_directives(headers, "Other-Cache-Control") is None


@given(st.text(max_size=200))
def test_parse_targeted_never_raises(value: str) -> None:
    parsed = parse_targeted(value)
    assert parsed is None or isinstance(parsed, CacheDirectives)
