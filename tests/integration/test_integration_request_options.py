"""Per-request cache options: expire_after, only_if_cached, refresh, force_refresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from vaultcache.policy.expiration import DO_NOT_CACHE
from vaultcache.session import CachedSession

#: Headers requests itself sends; anything else at the origin came from somewhere else.
REQUESTS_HEADERS = {"Host", "User-Agent", "Accept-Encoding", "Accept", "Connection"}


def test_per_request_expire_after_overrides_the_session(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=3600)
    url = origin.url("/data/per-request-expiry")

    session.get(url, expire_after=30)
    cached = session.get(url)

    assert cached.from_cache
    assert cached.expires == clock.current + timedelta(seconds=30)


def test_per_request_do_not_cache_does_not_store(session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/per-request-zero")

    session.get(url, expire_after=DO_NOT_CACHE)

    assert not session.cache.contains(url=url)
    assert not session.get(url).from_cache


def test_only_if_cached_answers_504_when_nothing_is_stored(
    session: CachedSession, origin: Any
) -> None:
    response = session.get(origin.url("/data/only-if-cached-miss"), only_if_cached=True)

    assert response.status_code == 504
    assert response.from_cache is False
    assert origin.hits("/data/only-if-cached-miss") == 0


def test_only_if_cached_serves_a_stored_response(session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/only-if-cached-hit")
    first = session.get(url)

    response = session.get(url, only_if_cached=True)

    assert response.status_code == 200
    assert response.from_cache
    assert response.content == first.content
    assert origin.hits("/data/only-if-cached-hit") == 1


def test_only_if_cached_answers_504_for_an_expired_entry(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=10)
    url = origin.url("/data/only-if-cached-expired")
    session.get(url)
    clock.advance(60)

    response = session.get(url, only_if_cached=True)

    assert response.status_code == 504
    assert origin.hits("/data/only-if-cached-expired") == 1


def test_refresh_sends_a_conditional_request_and_a_304_serves_the_stored_200(
    session: CachedSession, origin: Any
) -> None:
    url = origin.url("/data/refresh", etag=1)
    first = session.get(url)

    refreshed = session.get(url, refresh=True)

    assert origin.hits("/data/refresh") == 2
    assert origin.request_headers("/data/refresh")["If-None-Match"] == first.headers["ETag"]
    assert refreshed.status_code == 200
    assert refreshed.revalidated is True
    assert refreshed.from_cache is True
    assert refreshed.content == first.content


def test_refresh_of_a_changed_resource_stores_the_new_one(
    session: CachedSession, origin: Any
) -> None:
    url = origin.url("/data/refresh-changed", etag=1)
    session.get(url)
    origin.bump("/data/refresh-changed")

    refreshed = session.get(url, refresh=True)
    again = session.get(url)

    assert refreshed.status_code == 200
    assert refreshed.json()["version"] == 2
    assert refreshed.from_cache is False
    assert again.from_cache
    assert again.json()["version"] == 2
    assert origin.hits("/data/refresh-changed") == 2


def test_force_refresh_reaches_the_origin_and_stores_the_new_response(
    session: CachedSession, origin: Any, clock: Any
) -> None:
    url = origin.url("/data/force-refresh", etag=1)
    session.get(url)
    origin.bump("/data/force-refresh")
    clock.advance(5)

    forced = session.get(url, force_refresh=True)
    cached = session.get(url)

    assert forced.from_cache is False
    assert "If-None-Match" not in origin.request_headers("/data/force-refresh")
    assert forced.json()["version"] == 2
    assert cached.from_cache
    assert cached.json()["version"] == 2
    assert cached.created_at == clock.current
    assert origin.hits("/data/force-refresh") == 2


@pytest.mark.parametrize(
    "options",
    [
        {"expire_after": 60},
        {"expire_after": timedelta(minutes=5)},
        {"refresh": True},
        {"force_refresh": True},
        {"only_if_cached": False, "expire_after": -1},
    ],
    ids=["expire_after", "timedelta", "refresh", "force_refresh", "only_if_cached"],
)
def test_request_options_never_reach_the_origin_as_headers(
    session: CachedSession, origin: Any, options: dict[str, Any]
) -> None:
    url = origin.url("/echo/options")
    session.get(url)  # so that refresh and only_if_cached have something stored

    response = session.get(url, **options)

    if not response.from_cache:
        assert set(response.json()["headers"]) <= REQUESTS_HEADERS
    for index in range(origin.hits("/echo/options")):
        received = origin.request_headers("/echo/options", index)
        assert set(received) <= REQUESTS_HEADERS
        assert not any("only-if-cached" in value.lower() for value in received.values())
