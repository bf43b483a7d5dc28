"""Cache-Control and Pragma parsing: strict about meaning, never raising on input."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from vaultcache.policy.directives import (
    MAX_DELTA_SECONDS,
    CacheDirectives,
    request_directives,
    response_directives,
)

parse = CacheDirectives.parse


def changed(directives: CacheDirectives) -> dict[str, Any]:
    empty = CacheDirectives()
    names = [field.name for field in type(directives).__attrs_attrs__]
    return {
        name: getattr(directives, name)
        for name in names
        if getattr(directives, name) != getattr(empty, name)
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, {}),
        ("", {}),
        ("no-cache, max-age=0", {"no_cache": True, "max_age": 0}),
        ("max-age=60", {"max_age": 60}),
        ("MAX-AGE=60", {"max_age": 60}),
        ('max-age="60"', {"max_age": 60}),  # quoted form tolerated (§5.2)
        ("max-age=0060", {"max_age": 60}),
        # invalid max-age means stale (§4.2.1)
        ("max-age=abc", {"max_age": 0}),
        ("max-age=", {"max_age": 0}),
        ("max-age", {"max_age": 0}),
        ("max-age=-5", {"max_age": 0}),
        ("max-age=1e3", {"max_age": 0}),
        ("max-age=1.5", {"max_age": 0}),
        ("max-age=+5", {"max_age": 0}),
        ("max-age=\u0663", {"max_age": 0}),  # a non-ASCII digit
        ('max-age="60', {"max_age": 0, "extensions": (("60", None),)}),
        ('max-age="60"x', {"max_age": 0, "extensions": (("x", None),)}),
        ("max-age = 60", {"max_age": 0, "extensions": (("60", None),)}),
        # duplicates: equal values are fine, conflicting ones mean stale
        ("max-age=60, max-age=60", {"max_age": 60}),
        ("max-age=60, max-age=30", {"max_age": 0}),
        ("max-age=60, max-age=abc", {"max_age": 0}),
        ("s-maxage=10, s-maxage=20", {"s_maxage": 0}),
        ("s-maxage=10", {"s_maxage": 10}),
        # huge numbers clamp (§1.2.2)
        ("max-age=2147483648", {"max_age": MAX_DELTA_SECONDS}),
        ("max-age=99999999999999999999999", {"max_age": MAX_DELTA_SECONDS}),
        ("max-age=" + "9" * 10000, {"max_age": MAX_DELTA_SECONDS}),
        ("max-age=" + "0" * 10000 + "7", {"max_age": 7}),
        # whitespace, empty elements, a missing comma
        ("  ,, ,public,\t,", {"public": True}),
        ("max-age=60 no-store", {"max_age": 60, "no_store": True}),
        ("no-store\tno-cache", {"no_store": True, "no_cache": True}),
        # booleans, with or without a stray argument
        ("no-store", {"no_store": True}),
        ("No-Store=1", {"no_store": True}),
        ("must-revalidate, proxy-revalidate", {"must_revalidate": True, "proxy_revalidate": True}),
        ("immutable, no-transform", {"immutable": True, "no_transform": True}),
        ("only-if-cached", {"only_if_cached": True}),
        ("must-understand, no-store", {"must_understand": True, "no_store": True}),
        # qualified forms
        ('no-cache="Set-Cookie, X-Foo"', {"no_cache_fields": ("set-cookie", "x-foo")}),
        ("no-cache=set-cookie", {"no_cache_fields": ("set-cookie",)}),
        ('no-cache="a", no-cache', {"no_cache": True, "no_cache_fields": ("a",)}),
        ('no-cache=""', {"no_cache": True}),
        ("no-cache=", {"no_cache": True}),
        ('no-cache="not a token"', {"no_cache": True}),
        ("private", {"private": True}),
        ('private="authorization"', {"private": True, "private_fields": ("authorization",)}),
        # max-stale / min-fresh / stale-*
        ("max-stale", {"max_stale": "any"}),
        ("max-stale=30", {"max_stale": 30}),
        ("max-stale=30, max-stale", {"max_stale": 30}),
        ("max-stale=30, max-stale=10", {"max_stale": 10}),
        ("max-stale=abc", {}),
        ("min-fresh=5, min-fresh=50", {"min_fresh": 50}),
        ("min-fresh=abc", {}),
        ("stale-if-error=60, stale-if-error=30", {"stale_if_error": 30}),
        ("stale-while-revalidate=90", {"stale_while_revalidate": 90}),
        ("stale-while-revalidate=x", {}),
        # unknown directives are kept, known ones are not
        (
            'foo, bar=1, baz="q\\"uoted, with comma"',
            {"extensions": (("foo", None), ("bar", "1"), ("baz", 'q"uoted, with comma'))},
        ),
        ("max-age=60, community=UCI", {"max_age": 60, "extensions": (("community", "UCI"),)}),
        # an unterminated quote does not hide the directives after it
        (
            'no-cache="foo, no-store',
            {"no_cache": True, "no_store": True, "extensions": (("foo", None),)},
        ),
        ('"junk", no-store', {"no_store": True}),
        ('"unterminated, no-store', {"no_store": True, "extensions": (("unterminated", None),)}),
        ("=no-store", {"no_store": True}),
        ("max-\u212aage=5, n\u00f6-store", {}),  # non-ASCII names are not tokens
    ],
)
def test_parse(header: str | None, expected: dict[str, Any]) -> None:
    assert changed(parse(header)) == expected


def test_parse_accepts_bytes_and_ignores_other_types() -> None:
    assert parse(b"max-age=5").max_age == 5
    assert parse(123) == CacheDirectives()  # type: ignore[arg-type]


def test_derived_properties() -> None:
    assert parse("no-cache").revalidate_always
    assert parse('no-cache="set-cookie"').revalidate_always
    assert not parse("max-age=5").revalidate_always
    assert parse("max-age=5").understood
    assert not parse("foo, bar=2").understood
    assert not parse("").understood


def test_directives_are_frozen() -> None:
    directives = parse("max-age=5")
    with pytest.raises(AttributeError):
        directives.max_age = 10  # type: ignore[misc]


def test_pathological_input_is_fast() -> None:
    start = time.perf_counter()
    for header in ['"\\' * 30000, 'a="\\' * 20000, "," * 60000, "a=" * 30000, '"' * 60001]:
        parse(header)
    assert time.perf_counter() - start < 10  # quadratic scanning would take minutes


@given(st.text())
def test_parse_never_raises_on_any_text(header: str) -> None:
    assert isinstance(parse(header), CacheDirectives)


directive_alphabet = st.sampled_from(
    [*'", =\\\t;-', "max-age", "no-cache", "private", "max-stale", "no-store", "60", "x"]
)


@given(st.lists(directive_alphabet, max_size=30).map("".join))
def test_parse_never_raises_on_directive_like_text(header: str) -> None:
    directives = parse(header)
    for value in (directives.max_age, directives.min_fresh, directives.stale_if_error):
        assert value is None or 0 <= value <= MAX_DELTA_SECONDS


@given(st.binary())
def test_parse_never_raises_on_bytes(header: bytes) -> None:
    assert isinstance(parse(header), CacheDirectives)


# -- round trip of well-formed headers ----------------------------------------------------

BOOLEANS = {
    "no-store": "no_store",
    "no-transform": "no_transform",
    "must-revalidate": "must_revalidate",
    "proxy-revalidate": "proxy_revalidate",
    "must-understand": "must_understand",
    "public": "public",
    "immutable": "immutable",
    "only-if-cached": "only_if_cached",
    "no-cache": "no_cache",
    "private": "private",
}
SECONDS = {
    "max-age": "max_age",
    "s-maxage": "s_maxage",
    "min-fresh": "min_fresh",
    "max-stale": "max_stale",
    "stale-if-error": "stale_if_error",
    "stale-while-revalidate": "stale_while_revalidate",
}
field_name = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)


def random_case(draw: st.DrawFn, name: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in name)


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    expected: dict[str, Any] = {}
    elements: list[str] = []
    for name in draw(st.lists(st.sampled_from(sorted(BOOLEANS)), unique=True)):
        expected[BOOLEANS[name]] = True
        elements.append(random_case(draw, name))
    for name in draw(st.lists(st.sampled_from(sorted(SECONDS)), unique=True)):
        seconds = draw(st.integers(min_value=0, max_value=2**40))
        expected[SECONDS[name]] = min(seconds, MAX_DELTA_SECONDS)
        argument = f'"{seconds}"' if draw(st.booleans()) else str(seconds)
        elements.append(f"{random_case(draw, name)}={argument}")
    if draw(st.booleans()):
        names = draw(st.lists(field_name, min_size=1, max_size=3, unique=True))
        expected["no_cache_fields"] = tuple(names)
        elements.append(f'no-cache="{", ".join(names)}"')
    draw(st.randoms()).shuffle(elements)
    separators = st.sampled_from([",", ", ", " , ", ",\t", ", ,", ",,"])
    header = draw(st.sampled_from(["", " ", ", "]))
    for index, element in enumerate(elements):
        header += (draw(separators) if index else "") + element
    return header, expected


@given(well_formed())
def test_well_formed_headers_round_trip(case: tuple[str, dict[str, Any]]) -> None:
    header, expected = case
    directives = parse(header)
    for name, value in expected.items():
        assert getattr(directives, name) == value, (header, name)
    assert directives.extensions == ()


# -- request and response helpers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "no_cache"),
    [
        ({"Pragma": "no-cache"}, True),
        ({"pragma": "NO-CACHE"}, True),
        ({"Pragma": "foo, no-cache"}, True),
        ({"Pragma": "foo"}, False),
        ({"Cache-Control": "max-age=5", "Pragma": "no-cache"}, False),  # §5.4
        ({"Cache-Control": "foo", "Pragma": "no-cache"}, True),  # present but not understood
        ({"Cache-Control": "", "Pragma": "no-cache"}, True),
        ({"Cache-Control": "no-cache"}, True),
        ({}, False),
    ],
)
def test_request_directives_and_pragma(headers: dict[str, str], no_cache: bool) -> None:
    assert request_directives(headers).no_cache is no_cache
    assert request_directives(CaseInsensitiveDict(headers)).no_cache is no_cache


def test_request_directives_keep_other_directives() -> None:
    headers = {"cache-control": "max-stale=30, only-if-cached"}
    directives = request_directives(headers)
    assert directives.max_stale == 30
    assert directives.only_if_cached
    assert request_directives(None) == CacheDirectives()


def test_header_lookup_is_case_insensitive_and_joins_repeats() -> None:
    assert response_directives({"CACHE-CONTROL": "max-age=9"}).max_age == 9
    both = {"Cache-Control": "max-age=9", "cache-control": "no-store"}
    assert response_directives(both).no_store
    assert response_directives({"Cache-Control": b"no-store"}).no_store  # type: ignore[dict-item]
    assert response_directives({"Cache-Control": 5}) == CacheDirectives()  # type: ignore[dict-item]
