"""cache_control=True: the origin's and the request's Cache-Control, Expires, and stale-* modes."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from vaultcache.session import CachedSession


@pytest.fixture
def cc_session(make_session: Any) -> CachedSession:
    """A session that obeys Cache-Control (and otherwise never expires entries)."""
    return make_session(cache_control=True)  # type: ignore[no-any-return]


def test_response_max_age_decides_expiry(
    cc_session: CachedSession, origin: Any, clock: Any
) -> None:
    url = origin.url("/data/cc-max-age", cc="max-age=120")
    cc_session.get(url)

    cached = cc_session.get(url)
    clock.advance(121)
    expired = cc_session.get(url)

    assert cached.from_cache
    # max-age counts from the response's initial age: the request's own duration at least.
    lifetime = cached.expires - (clock.current - timedelta(seconds=121))
    assert timedelta(seconds=119) <= lifetime <= timedelta(seconds=120) - cached.elapsed
    assert expired.from_cache is False
    assert origin.hits("/data/cc-max-age") == 2


def test_response_max_age_overrides_the_session_expire_after(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(cache_control=True, expire_after=5)
    url = origin.url("/data/cc-max-age-over-session", cc="max-age=300")
    session.get(url)

    assert _lifetime(session.get(url), clock) == timedelta(seconds=300)


def test_response_cache_control_is_ignored_without_cache_control_true(
    session: CachedSession, origin: Any
) -> None:
    url = origin.url("/data/cc-off", cc="no-store")
    session.get(url)

    assert session.get(url).from_cache


@pytest.mark.parametrize(
    ("cache_control", "expected_seconds"),
    [("s-maxage=0", None), ("max-age=600, s-maxage=0", 600), ("s-maxage=600", None)],
)
def test_s_maxage_is_ignored_by_this_private_cache(
    cc_session: CachedSession,
    origin: Any,
    clock: Any,
    cache_control: str,
    expected_seconds: int | None,
) -> None:
    url = origin.url("/data/cc-s-maxage", cc=cache_control)
    cc_session.get(url)

    cached = cc_session.get(url)

    assert cached.from_cache
    if expected_seconds is None:
        assert cached.expires is None
    else:
        assert _lifetime(cached, clock) == timedelta(seconds=expected_seconds)


def _lifetime(cached: Any, clock: Any) -> timedelta:
    """The freshness lifetime given at storage time (now, with the frozen clock), rounded.

    max-age counts from the response's initial age (RFC 9111 §4.2.3), which includes the
    request's own duration: a few milliseconds here.
    """
    lifetime = cached.expires - clock.current + cached.elapsed
    return timedelta(seconds=round(lifetime.total_seconds()))


def test_response_no_store_is_not_stored(cc_session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/cc-no-store", cc="no-store")

    cc_session.get(url)
    again = cc_session.get(url)

    assert again.from_cache is False
    assert cc_session.cache.response_count() == 0
    assert origin.hits("/data/cc-no-store") == 2


def test_response_no_cache_is_stored_but_revalidated_every_time(
    cc_session: CachedSession, origin: Any, clock: Any
) -> None:
    path = "/data/cc-no-cache"
    url = origin.url(path, cc="no-cache", etag=1)
    first = cc_session.get(url)

    responses = [cc_session.get(url) for _ in range(3)]

    assert cc_session.cache.contains(url=url)
    assert all(r.revalidated and r.status_code == 200 for r in responses)
    assert all(r.content == first.content for r in responses)
    assert origin.hits(path) == 4
    assert origin.request_headers(path)["If-None-Match"] == first.headers["ETag"]


def test_immutable_response_is_not_revalidated_on_refresh_while_fresh(
    cc_session: CachedSession, origin: Any, clock: Any
) -> None:
    path = "/data/cc-immutable"
    url = origin.url(path, cc="max-age=600, immutable", etag=1)
    cc_session.get(url)

    refreshed = cc_session.get(url, refresh=True)
    clock.advance(601)
    stale = cc_session.get(url, refresh=True)

    assert refreshed.from_cache
    assert not refreshed.revalidated
    assert origin.hits(path) == 2
    assert stale.revalidated


def test_mutable_response_is_revalidated_on_refresh(cc_session: CachedSession, origin: Any) -> None:
    """The control for the immutable test: the same response without immutable."""
    path = "/data/cc-mutable"
    url = origin.url(path, cc="max-age=600", etag=1)
    cc_session.get(url)

    refreshed = cc_session.get(url, refresh=True)

    assert refreshed.revalidated
    assert origin.hits(path) == 2


def test_request_no_cache_max_age_0_revalidates(cc_session: CachedSession, origin: Any) -> None:
    path = "/data/cc-request-no-cache"
    url = origin.url(path, cc="max-age=600", etag=1)
    first = cc_session.get(url)

    revalidated = cc_session.get(url, headers={"Cache-Control": "no-cache, max-age=0"})

    sent = origin.request_headers(path)
    assert sent["Cache-Control"] == "no-cache, max-age=0"
    assert sent["If-None-Match"] == first.headers["ETag"]
    assert revalidated.revalidated
    assert revalidated.content == first.content
    assert origin.hits(path) == 2


def test_request_cache_control_reaches_the_origin_intact(
    cc_session: CachedSession, origin: Any
) -> None:
    url = origin.url("/echo/cc-request-intact", cc="max-age=600")
    cc_session.get(url)

    echoed = cc_session.get(url, headers={"Cache-Control": "no-cache, max-age=0"})

    assert echoed.from_cache is False
    assert echoed.json()["headers"]["Cache-Control"] == "no-cache, max-age=0"


def test_request_pragma_no_cache_revalidates(cc_session: CachedSession, origin: Any) -> None:
    path = "/data/cc-pragma"
    url = origin.url(path, cc="max-age=600", etag=1)
    cc_session.get(url)

    revalidated = cc_session.get(url, headers={"Pragma": "no-cache"})

    assert revalidated.revalidated
    assert origin.hits(path) == 2


def test_request_no_store_neither_reads_nor_writes(cc_session: CachedSession, origin: Any) -> None:
    stored_url = origin.url("/data/cc-request-no-store-stored")
    cc_session.get(stored_url)
    fresh_url = origin.url("/data/cc-request-no-store-fresh")

    bypassed = cc_session.get(stored_url, headers={"Cache-Control": "no-store"})
    cc_session.get(fresh_url, headers={"Cache-Control": "no-store"})

    assert bypassed.from_cache is False
    assert origin.hits("/data/cc-request-no-store-stored") == 2
    assert not cc_session.cache.contains(url=fresh_url)


def test_request_only_if_cached_header(cc_session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/cc-request-only-if-cached")

    missing = cc_session.get(url, headers={"Cache-Control": "only-if-cached"})
    cc_session.get(url)
    present = cc_session.get(url, headers={"Cache-Control": "only-if-cached"})

    assert missing.status_code == 504
    assert present.from_cache
    assert present.status_code == 200
    assert origin.hits("/data/cc-request-only-if-cached") == 1


# -- Expires ---------------------------------------------------------------------------------------


def test_expires_header_in_the_future_decides_expiry(
    cc_session: CachedSession, origin: Any, clock: Any
) -> None:
    deadline = clock.current + timedelta(hours=3)
    url = origin.url("/data/expires-future", expires=format_datetime(deadline, usegmt=True))
    cc_session.get(url)

    cached = cc_session.get(url)

    assert cached.from_cache
    # Expires minus the origin's Date (real time, whole seconds), less the request's duration.
    assert deadline - timedelta(seconds=5) <= cached.expires <= deadline


def test_missing_expires_falls_back_to_expire_after(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(cache_control=True, expire_after=42)
    url = origin.url("/data/expires-missing")
    session.get(url)

    assert session.get(url).expires == clock.current + timedelta(seconds=42)


@pytest.mark.parametrize(
    "value", ["", "0", "garbage", "Thu, 99 Foo 2020 99:99:99 GMT", "-1"], ids=repr
)
@pytest.mark.parametrize("cache_control", [True, False], ids=["cc-on", "cc-off"])
def test_invalid_expires_never_raises(
    make_session: Any, origin: Any, value: str, cache_control: bool
) -> None:
    session = make_session(cache_control=cache_control)
    url = origin.url("/data/expires-invalid", expires=value)

    first = session.get(url)
    second = session.get(url)

    assert first.headers["Expires"] == value
    assert first.status_code == second.status_code == 200
    if cache_control:  # an invalid Expires means already expired: not worth storing
        assert second.from_cache is False
        assert session.cache.response_count() == 0
    else:
        assert second.from_cache is True


def test_invalid_expires_with_a_validator_is_stored_and_revalidated(
    cc_session: CachedSession, origin: Any
) -> None:
    path = "/data/expires-garbage-etag"
    url = origin.url(path, expires="garbage", etag=1)
    first = cc_session.get(url)

    again = cc_session.get(url)

    assert cc_session.cache.response_count() == 1
    assert again.revalidated
    assert again.content == first.content
    assert origin.request_headers(path)["If-None-Match"] == first.headers["ETag"]


# -- stale-if-error ---------------------------------------------------------------------------


@pytest.mark.parametrize("etag", [0, 1], ids=["refetch", "revalidate"])
def test_stale_if_error_serves_stale_on_a_500(
    make_session: Any, origin: Any, clock: Any, etag: int
) -> None:
    session = make_session(cache_control=True, stale_if_error=True)
    path = "/data/stale-if-error-500"
    url = origin.url(path, cc="max-age=60", etag=etag)
    first = session.get(url)
    clock.advance(120)
    origin.fail(path)

    stale = session.get(url)

    assert stale.status_code == 200
    assert stale.from_cache
    assert stale.is_expired
    assert stale.content == first.content
    assert origin.hits(path) == 2


def test_without_stale_if_error_a_500_is_returned(
    cc_session: CachedSession, origin: Any, clock: Any
) -> None:
    path = "/data/no-stale-if-error-500"
    url = origin.url(path, cc="max-age=60")
    cc_session.get(url)
    clock.advance(120)
    origin.fail(path)

    assert cc_session.get(url).status_code == 500


def test_stale_if_error_serves_stale_when_the_origin_refuses_connections(
    make_session: Any, origin_factory: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    session = make_session(cache_control=True, stale_if_error=True)
    doomed = origin_factory()
    url = doomed.url("/data/stale-if-error-refused", cc="max-age=60")
    first = session.get(url)
    doomed.close()
    clock.advance(120)

    with caplog.at_level(logging.INFO, logger="vaultcache"):
        stale = session.get(url)

    assert stale.from_cache
    assert stale.content == first.content
    assert "stale" in caplog.text


def test_without_stale_if_error_a_refused_connection_raises(
    cc_session: CachedSession, origin_factory: Any, clock: Any
) -> None:
    doomed = origin_factory()
    url = doomed.url("/data/no-stale-if-error-refused", cc="max-age=60")
    cc_session.get(url)
    doomed.close()
    clock.advance(120)

    with pytest.raises(requests.ConnectionError):
        cc_session.get(url)


def test_must_revalidate_disables_stale_if_error(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(cache_control=True, stale_if_error=True)
    path = "/data/stale-if-error-must-revalidate"
    url = origin.url(path, cc="max-age=60, must-revalidate")
    session.get(url)
    clock.advance(120)
    origin.fail(path)

    assert session.get(url).status_code == 500


def test_stale_if_error_window_in_seconds(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session(cache_control=True, stale_if_error=100)
    path = "/data/stale-if-error-window"
    url = origin.url(path, cc="max-age=60")
    session.get(url)
    origin.fail(path)

    clock.advance(60 + 50)
    within = session.get(url)
    clock.advance(100)
    beyond = session.get(url)

    assert within.status_code == 200
    assert within.from_cache
    assert beyond.status_code == 500


def test_stale_if_error_window_from_the_response_directive(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(cache_control=True, stale_if_error=True)
    path = "/data/stale-if-error-directive"
    url = origin.url(path, cc="max-age=60, stale-if-error=30")
    session.get(url)
    origin.fail(path)

    clock.advance(60 + 20)
    within = session.get(url)
    clock.advance(20)
    beyond = session.get(url)

    assert within.status_code == 200
    assert beyond.status_code == 500


# -- stale-while-revalidate ----------------------------------------------------------------------


def _watch_saves(session: CachedSession) -> threading.Event:
    """An Event set whenever the session's cache stores a response (from any thread)."""
    saved = threading.Event()
    original = session.cache.save_response

    def save_response(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        saved.set()

    session.cache.save_response = save_response  # type: ignore[method-assign]
    return saved


def test_stale_while_revalidate_serves_stale_and_refreshes_once_in_the_background(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(cache_control=True, stale_while_revalidate=True)
    path = "/data/stale-while-revalidate"
    url = origin.url(path, cc="max-age=60, stale-while-revalidate=600")
    first = session.get(url)
    origin.bump(path)
    clock.advance(120)
    saved = _watch_saves(session)

    stale = session.get(url)

    assert stale.from_cache
    assert stale.json()["version"] == 1
    assert stale.content == first.content
    assert origin.wait_for_hits(path, 2), "no background refresh reached the origin"
    assert saved.wait(10), "the background refresh stored nothing"
    fresh = session.get(url)
    assert fresh.from_cache
    assert fresh.json()["version"] == 2
    assert origin.hits(path) == 2


def test_stale_while_revalidate_runs_one_refresh_per_entry_at_a_time(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(cache_control=True, stale_while_revalidate=True)
    path = "/data/stale-while-revalidate-once"
    url = origin.url(path, cc="max-age=60, stale-while-revalidate=600")
    session.get(url)
    origin.bump(path)
    clock.advance(120)
    saved = _watch_saves(session)
    gate = origin.hold(path)  # the background refresh waits at the origin until released
    try:
        stale = [session.get(url) for _ in range(5)]
        assert origin.wait_for_hits(path, 2), "no background refresh reached the origin"
        assert not saved.is_set()
    finally:
        gate.set()
    assert saved.wait(10), "the background refresh stored nothing"

    assert all(r.from_cache and r.json()["version"] == 1 for r in stale)
    assert session.get(url).json()["version"] == 2
    assert origin.hits(path) == 2


def test_stale_while_revalidate_beyond_its_window_fetches_in_the_foreground(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(cache_control=True, stale_while_revalidate=True)
    path = "/data/stale-while-revalidate-beyond"
    url = origin.url(path, cc="max-age=60, stale-while-revalidate=10")
    session.get(url)
    origin.bump(path)
    clock.advance(60 + 11)

    response = session.get(url)

    assert response.from_cache is False
    assert response.json()["version"] == 2
    assert origin.hits(path) == 2
