"""Vary: a stored response answers only requests that match it on the fields it varies on."""

from __future__ import annotations

from typing import Any

import pytest

from vaultcache.session import CachedSession


def test_vary_accept_serves_only_matching_requests(session: CachedSession, origin: Any) -> None:
    path = "/data/vary-accept"
    url = origin.url(path, vary="Accept")
    as_json = {"Accept": "application/json"}
    as_text = {"Accept": "text/plain"}

    first = session.get(url, headers=as_json)
    hit = session.get(url, headers=as_json)
    other = session.get(url, headers=as_text)

    assert first.json()["vary:accept"] == "application/json"
    assert hit.from_cache
    assert hit.json()["vary:accept"] == "application/json"
    assert other.from_cache is False
    assert other.json()["vary:accept"] == "text/plain"
    assert origin.hits(path) == 2


def test_vary_comparison_ignores_whitespace_differences(
    session: CachedSession, origin: Any
) -> None:
    url = origin.url("/data/vary-whitespace", vary="Accept")

    session.get(url, headers={"Accept": "text/html,  application/json"})
    hit = session.get(url, headers={"Accept": "text/html, application/json"})

    assert hit.from_cache


def test_vary_on_a_header_the_request_lacks(session: CachedSession, origin: Any) -> None:
    path = "/data/vary-absent"
    url = origin.url(path, vary="X-Flavour")

    session.get(url)
    hit = session.get(url)
    flavoured = session.get(url, headers={"X-Flavour": "mint"})

    assert hit.from_cache
    assert flavoured.from_cache is False
    assert flavoured.json()["vary:x-flavour"] == "mint"


@pytest.mark.parametrize("cache_control", [True, False], ids=["cc-on", "cc-off"])
def test_vary_star_never_matches(make_session: Any, origin: Any, cache_control: bool) -> None:
    session = make_session(cache_control=cache_control)
    path = "/data/vary-star"
    url = origin.url(path, vary="*")

    session.get(url)
    again = session.get(url)

    assert again.from_cache is False
    assert origin.hits(path) == 2


def test_match_headers_keeps_vary_variants_side_by_side(make_session: Any, origin: Any) -> None:
    """With Accept in the key, each variant has its own entry and neither evicts the other."""
    session = make_session(match_headers=["Accept"])
    path = "/data/vary-side-by-side"
    url = origin.url(path, vary="Accept")

    for _ in range(2):
        session.get(url, headers={"Accept": "application/json"})
        session.get(url, headers={"Accept": "text/plain"})

    assert origin.hits(path) == 2
    assert session.cache.response_count() == 2


def test_vary_on_a_credential_header_hits_for_the_same_user_only(
    session: CachedSession, origin: Any
) -> None:
    """Stored credentials are redacted, yet the same user's Vary: Authorization still matches."""
    path = "/data/vary-authorization"
    url = origin.url(path, vary="Authorization")
    alice = {"Authorization": "Bearer alice-token"}
    bob = {"Authorization": "Bearer bob-token"}

    session.get(url, headers=alice)
    alice_again = session.get(url, headers=alice)
    bob_first = session.get(url, headers=bob)

    assert alice_again.from_cache
    assert bob_first.from_cache is False
    assert origin.hits(path) == 2


def test_vary_cookie_hits_while_the_cookie_is_unchanged(
    session: CachedSession, origin: Any
) -> None:
    path = "/data/vary-cookie"
    url = origin.url(path, vary="Cookie")
    session.cookies.set("sid", "one")

    session.get(url)
    same = session.get(url)
    session.cookies.set("sid", "two")
    changed = session.get(url)

    assert same.from_cache
    assert changed.from_cache is False
    assert origin.hits(path) == 2
