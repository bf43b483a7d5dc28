"""The Age header on replies from the cache, and the origin's Age in freshness (RFC 9111)."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock


@pytest.fixture
def mocked(make_session: Any) -> tuple[Any, requests_mock.Adapter]:
    session = make_session(backend="memory", cache_control=True)
    adapter = requests_mock.Adapter()
    session.mount("http://origin.test/", adapter)
    return session, adapter


def test_a_reply_from_the_cache_says_how_old_it_is(mocked: Any, clock: Any) -> None:
    session, adapter = mocked
    adapter.register_uri(
        "GET", "http://origin.test/a", text="a", headers={"Cache-Control": "max-age=600"}
    )
    fresh = session.get("http://origin.test/a")
    clock.advance(30)

    cached = session.get("http://origin.test/a")

    assert "Age" not in fresh.headers
    assert cached.from_cache
    assert cached.headers["Age"] == "30"


def test_the_origins_age_shortens_the_freshness_lifetime(mocked: Any, clock: Any) -> None:
    session, adapter = mocked
    adapter.register_uri(
        "GET",
        "http://origin.test/b",
        text="b",
        headers={"Cache-Control": "max-age=120", "Age": "100"},
    )
    session.get("http://origin.test/b")
    clock.advance(10)
    assert session.get("http://origin.test/b").headers["Age"] == "110"
    clock.advance(15)  # 125 s old in all: stale

    assert not session.get("http://origin.test/b").from_cache
    assert adapter.call_count == 2


def test_a_request_max_age_compares_with_the_current_age(mocked: Any, clock: Any) -> None:
    session, adapter = mocked
    adapter.register_uri(
        "GET", "http://origin.test/c", text="c", headers={"Cache-Control": "max-age=600"}
    )
    session.get("http://origin.test/c")
    clock.advance(30)

    assert session.get("http://origin.test/c", headers={"Cache-Control": "max-age=60"}).from_cache
    assert not session.get(
        "http://origin.test/c", headers={"Cache-Control": "max-age=10"}
    ).from_cache
