"""Expiry: expire_after values, urls_expire_after rules, and what happens once an entry expires.

Time is ``vaultcache.clock.now``, frozen and moved by the ``clock`` fixture; nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vaultcache.policy.expiration import DO_NOT_CACHE, EXPIRE_IMMEDIATELY, NEVER_EXPIRE
from vaultcache.session import CachedSession


@pytest.mark.parametrize(
    "expire_after",
    [90, 90.0, timedelta(seconds=90), "90s", "1.5m"],
    ids=["int", "float", "timedelta", "duration-seconds", "duration-minutes"],
)
def test_expire_after_as_a_duration(
    make_session: Any, origin: Any, clock: Any, expire_after: Any
) -> None:
    session = make_session(expire_after=expire_after)
    url = origin.url("/data/expire-duration")
    session.get(url)

    cached = session.get(url)

    assert cached.from_cache
    assert cached.expires == clock.current + timedelta(seconds=90)


def test_expire_after_as_a_datetime(make_session: Any, origin: Any, clock: Any) -> None:
    deadline = clock.current + timedelta(days=2)
    session = make_session(expire_after=deadline)
    url = origin.url("/data/expire-datetime")
    session.get(url)

    cached = session.get(url)

    assert cached.from_cache
    assert cached.expires == deadline


def test_expire_after_as_a_naive_datetime_is_utc(
    make_session: Any, origin: Any, clock: Any
) -> None:
    deadline = (clock.current + timedelta(hours=1)).replace(tzinfo=None)
    session = make_session(expire_after=deadline)
    url = origin.url("/data/expire-naive")
    session.get(url)

    assert session.get(url).expires == deadline.replace(tzinfo=UTC)


def test_expire_after_a_datetime_in_the_past_is_stale_at_once(
    make_session: Any, origin: Any
) -> None:
    session = make_session(expire_after=datetime(2000, 1, 1, tzinfo=UTC))
    url = origin.url("/data/expire-past")
    session.get(url)

    again = session.get(url)

    assert again.from_cache is False
    assert origin.hits("/data/expire-past") == 2


def test_expire_after_never_expire(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session(expire_after=NEVER_EXPIRE)
    url = origin.url("/data/expire-never")
    session.get(url)
    clock.advance(10 * 365 * 86400)

    cached = session.get(url)

    assert cached.from_cache
    assert cached.expires is None
    assert cached.is_expired is False
    assert origin.hits("/data/expire-never") == 1


@pytest.mark.parametrize("value", [DO_NOT_CACHE, "do-not-cache"])
def test_expire_after_do_not_cache_stores_nothing(
    make_session: Any, origin: Any, value: Any
) -> None:
    session = make_session(expire_after=value)
    url = origin.url("/data/expire-zero")

    session.get(url)
    again = session.get(url)

    assert again.from_cache is False
    assert session.cache.response_count() == 0
    assert origin.hits("/data/expire-zero") == 2


@pytest.mark.parametrize(
    "value", [0, EXPIRE_IMMEDIATELY, timedelta(0), "0s", -5, timedelta(seconds=-1)]
)
def test_expire_after_zero_stores_and_revalidates_every_use(
    make_session: Any, origin: Any, value: Any
) -> None:
    """requests-cache 1.x: 0 (and an expiry in the past) means stored, but stale at once."""
    session = make_session(expire_after=value)
    url = origin.url("/data/expire-zero", etag=1)

    session.get(url)
    again = session.get(url)

    assert session.cache.contains(url=url)
    assert again.from_cache is True  # a 304 answered the revalidation; the stored body is used
    assert again.revalidated is True
    assert "If-None-Match" in origin.request_headers("/data/expire-zero")
    assert origin.hits("/data/expire-zero") == 2


def test_entry_expires_when_the_clock_passes_expire_after(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60)
    url = origin.url("/data/expire-passes")
    session.get(url)

    clock.advance(59)
    before = session.get(url)
    clock.advance(2)
    after = session.get(url)

    assert before.from_cache is True
    assert after.from_cache is False
    assert origin.hits("/data/expire-passes") == 2


# -- urls_expire_after --------------------------------------------------------------------------


def test_urls_expire_after_glob_patterns(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session(
        expire_after=3600,
        urls_expire_after={
            "127.0.0.1/data/short/*": 10,
            "127.0.0.1/data/never*": NEVER_EXPIRE,
            "127.0.0.1/data/uncached/*": DO_NOT_CACHE,
        },
    )
    urls = {
        name: origin.url(f"/data/{name}/item") for name in ("short", "never", "uncached", "default")
    }
    for url in urls.values():
        session.get(url)

    assert session.get(urls["short"]).expires == clock.current + timedelta(seconds=10)
    assert session.get(urls["never"]).expires is None
    assert session.get(urls["default"]).expires == clock.current + timedelta(hours=1)
    assert not session.cache.contains(url=urls["uncached"])


def test_urls_expire_after_first_matching_pattern_wins(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(
        urls_expire_after={
            "127.0.0.1/data/*": 100,
            "127.0.0.1/data/specific/*": 5,  # never reached: the pattern above matches first
        }
    )
    url = origin.url("/data/specific/item")
    session.get(url)

    assert session.get(url).expires == clock.current + timedelta(seconds=100)


def test_urls_expire_after_patterns_with_scheme_and_port(
    make_session: Any, origin: Any, clock: Any
) -> None:
    port = origin.base_url.rsplit(":", 1)[1]
    session = make_session(
        urls_expire_after={
            "https://127.0.0.1/data/scheme/*": 5,  # another scheme: no match
            f"http://127.0.0.1:{port}/data/scheme/*": 7,
        }
    )
    url = origin.url("/data/scheme/item")
    session.get(url)

    assert session.get(url).expires == clock.current + timedelta(seconds=7)


# -- after expiry --------------------------------------------------------------------------------


@pytest.mark.parametrize("validator", ["etag", "lm"])
def test_expired_entry_with_a_validator_is_revalidated_with_a_304(
    make_session: Any, origin: Any, clock: Any, validator: str
) -> None:
    session = make_session(expire_after=60)
    path = f"/data/expired-validator-{validator}"
    url = origin.url(path, **{validator: 1})
    first = session.get(url)
    clock.advance(120)

    revalidated = session.get(url)
    again = session.get(url)

    conditional = origin.request_headers(path)
    if validator == "etag":
        assert conditional["If-None-Match"] == first.headers["ETag"]
    else:
        assert conditional["If-Modified-Since"] == first.headers["Last-Modified"]
    assert revalidated.status_code == 200
    assert revalidated.revalidated is True
    assert revalidated.content == first.content
    assert revalidated.expires == clock.current + timedelta(seconds=60)
    assert again.from_cache
    assert not again.revalidated
    assert origin.hits(path) == 2


def test_expired_entry_with_a_changed_etag_is_replaced(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60)
    path = "/data/expired-changed"
    url = origin.url(path, etag=1)
    session.get(url)
    origin.bump(path)
    clock.advance(120)

    refetched = session.get(url)
    cached = session.get(url)

    assert refetched.status_code == 200
    assert refetched.from_cache is False
    assert refetched.json()["version"] == 2
    assert cached.json()["version"] == 2
    assert origin.hits(path) == 2


def test_expired_entry_without_validators_is_refetched(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60)
    path = "/data/expired-no-validator"
    url = origin.url(path)
    session.get(url)
    clock.advance(120)

    refetched = session.get(url)
    cached = session.get(url)

    assert "If-None-Match" not in origin.request_headers(path)
    assert "If-Modified-Since" not in origin.request_headers(path)
    assert refetched.from_cache is False
    assert cached.from_cache is True
    assert cached.created_at == clock.current
    assert origin.hits(path) == 2


def test_is_expired_and_str_of_an_expired_entry(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session(expire_after=60)
    url = origin.url("/data/expired-str")
    session.get(url)
    clock.advance(61)

    (stored,) = session.cache.responses.values()

    assert stored.is_expired is True
    assert str(stored).endswith("(expired)")


def test_session_cache_reads_expired_entries_only_with_check_expiry_off(
    session: CachedSession, origin: Any, clock: Any
) -> None:
    session.get(origin.url("/data/expired-listing"), expire_after=60)
    clock.advance(61)

    assert session.cache.response_count() == 1
    assert session.cache.response_count(check_expiry=True) == 0
