"""Redirect chains: one stored response, and every redirecting URL leads to it."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from vaultcache.models.response import MAX_REDIRECT_KEYS
from vaultcache.session import CachedSession


def _key(session: CachedSession, url: str) -> str:
    return session.create_key(requests.Request("GET", url).prepare())


@pytest.mark.parametrize("code", [301, 302, 307])
def test_redirect_chain_stores_the_final_response_once(
    session: CachedSession, origin: Any, code: int
) -> None:
    start = origin.url("/redirect/3/data/chain", code=code)

    response = session.get(start)

    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [code] * 3
    assert response.json()["path"] == "/data/chain"
    assert session.cache.response_count() == 1
    (stored,) = session.cache.responses.values()
    assert stored.cache_key == _key(session, response.url)
    assert stored.url == response.url
    assert session.cache.redirects[_key(session, start)] == stored.cache_key


def test_redirects_map_each_redirect_url_to_the_stored_response(
    session: CachedSession, origin: Any
) -> None:
    hops = [
        origin.url("/redirect/3/data/mapped"),
        origin.url("/redirect/2/data/mapped"),
        origin.url("/redirect/1/data/mapped"),
    ]

    response = session.get(hops[0])

    stored_key = response.cache_key
    assert stored_key in session.cache.responses
    redirects = dict(session.cache.redirects)
    assert stored_key == _key(session, origin.url("/data/mapped"))
    for hop in hops:
        assert redirects[_key(session, hop)] == stored_key
    assert set(redirects.values()) == {stored_key}


def test_requesting_a_redirect_url_again_is_a_hit(session: CachedSession, origin: Any) -> None:
    first = session.get(origin.url("/redirect/2/data/again"))

    from_start = session.get(origin.url("/redirect/2/data/again"))
    from_middle = session.get(origin.url("/redirect/1/data/again"))

    assert from_start.from_cache
    assert from_middle.from_cache
    assert from_middle.content == first.content
    assert origin.hits("/redirect/2/data/again") == 1
    assert origin.hits("/redirect/1/data/again") == 1
    assert origin.hits("/data/again") == 1


def test_the_final_url_is_a_hit_after_the_redirect(session: CachedSession, origin: Any) -> None:
    """requests-cache users rely on this: the final URL is cached under its own key."""
    session.get(origin.url("/redirect/2/data/final"))

    final = session.get(origin.url("/data/final"))

    assert final.from_cache
    assert origin.hits("/data/final") == 1
    assert session.cache.response_count() == 1


def test_cached_redirect_keeps_its_history(session: CachedSession, origin: Any) -> None:
    url = origin.url("/redirect/2/data/history")
    session.get(url)

    hit = session.get(url)

    assert [r.status_code for r in hit.history] == [302, 302]
    assert hit.history[0].url == url
    assert hit.url.endswith("/data/history")


def test_expired_redirected_entry_revalidates_through_the_chain(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60)
    start = origin.url("/redirect/2/data/revalidate-chain", etag=1)
    first = session.get(start)
    clock.advance(120)

    again = session.get(start)
    via_middle = session.get(origin.url("/redirect/1/data/revalidate-chain", etag=1))

    assert (
        origin.request_headers("/data/revalidate-chain")["If-None-Match"] == first.headers["ETag"]
    )
    assert again.revalidated
    assert again.content == first.content
    assert via_middle.from_cache
    assert session.cache.response_count() == 1


def test_deleting_the_response_deletes_its_redirects(session: CachedSession, origin: Any) -> None:
    start = origin.url("/redirect/2/data/delete-chain")
    session.get(start)

    deleted = session.cache.delete(urls=[start])

    assert deleted == 1
    assert len(session.cache.redirects) == 0
    assert not session.get(origin.url("/redirect/1/data/delete-chain")).from_cache


def test_allow_redirects_false_caches_nothing_for_the_redirect(
    session: CachedSession, origin: Any
) -> None:
    url = origin.url("/redirect/1/data/not-followed")

    first = session.get(url, allow_redirects=False)
    second = session.get(url, allow_redirects=False)

    assert first.status_code == second.status_code == 302
    assert second.from_cache is False
    assert session.cache.response_count() == 0


def test_an_entry_names_the_redirects_that_lead_to_it(session: CachedSession, origin: Any) -> None:
    """The redirect records are plain; the authenticated entry lists the keys they may have."""
    response = session.get(origin.url("/redirect/2/data/named"))

    stored = session.cache.responses[response.cache_key]

    assert stored.redirect_keys == [
        _key(session, origin.url(f"/redirect/{hop}/data/named")) for hop in (2, 1)
    ]


def test_an_entry_keeps_its_newest_redirect_keys(session: CachedSession, origin: Any) -> None:
    response = session.get(origin.url("/data/many-redirects"))
    stored = session.cache.responses[response.cache_key]
    keys = [f"{number:032x}" for number in range(MAX_REDIRECT_KEYS + 5)]

    for key in keys:
        session.cache.save_response(stored, redirect_keys=[key])

    kept = session.cache.responses[response.cache_key].redirect_keys
    assert kept == keys[::-1][:MAX_REDIRECT_KEYS]
    assert session.cache.get_response(keys[-1]) is not None
    assert session.cache.get_response(keys[0]) is None  # fell off: its record reads as a miss
