"""requests-cache 1.x's cache maintenance calls, as its users write them (issue 18, items 6,
7, 13): delete(invalid=/expired=/verify=), module-level delete, contains(verify=),
reset_expiration, recreate_keys, and urls in both its forms."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

import vaultcache
from vaultcache import generate_key


def _key(session: Any, url: str) -> str:
    return session.create_key(requests.Request("GET", url).prepare())


# -- 6: delete and contains -----------------------------------------------------------------


def test_delete_invalid_removes_what_the_current_keys_cannot_read(
    make_session: Any, origin: Any, cache_path: str
) -> None:
    old = make_session(keys=[generate_key()])
    old.get(origin.url("/data/old-ring"))
    current = make_session(cache_name=cache_path)
    current.get(origin.url("/data/current-ring"))
    current.get(origin.url("/data/not-found", status=404))  # falsy, but readable

    deleted = current.cache.delete(invalid=True)

    assert deleted == 1
    assert current.cache.response_count() == 1
    assert current.cache.urls == [origin.url("/data/current-ring")]


def test_delete_expired_and_older_than_as_a_duration(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60)
    session.get(origin.url("/data/will-expire"))
    session.get(origin.url("/data/kept"), expire_after=3600)
    clock.advance(120)

    assert session.cache.delete(expired=True) == 1
    session.get(origin.url("/data/new"), expire_after=3600)
    assert session.cache.delete(older_than=timedelta(seconds=60)) == 1
    assert session.cache.urls == [origin.url("/data/new")]


def test_contains_and_delete_with_verify_false(make_session: Any, origin: Any) -> None:
    session = make_session()
    url = origin.url("/data/unverified")
    session.get(url, verify=False)

    assert not session.cache.contains(url=url)
    assert session.cache.contains(url=url, verify=False)
    assert session.cache.delete(urls=[url], verify=False) == 1
    assert not session.cache.contains(url=url, verify=False)


@pytest.fixture
def installed(cache_path: str, key: str) -> Iterator[None]:
    vaultcache.install_cache(cache_path, keys=[key])
    try:
        yield
    finally:
        vaultcache.uninstall_cache()


def test_module_level_delete(installed: None, origin: Any, clock: Any) -> None:
    requests.get(origin.url("/data/module-delete"), timeout=10, expire_after=1)  # type: ignore[call-arg]
    requests.get(origin.url("/data/module-keep"), timeout=10)
    clock.advance(5)

    assert vaultcache.delete(expired=True) == 1
    cache = vaultcache.get_cache()
    assert cache is not None
    assert cache.urls == [origin.url("/data/module-keep")]


def test_module_level_delete_without_an_installed_cache() -> None:
    assert vaultcache.delete(expired=True) == 0


# -- 7: reset_expiration and recreate_keys --------------------------------------------------


def test_reset_expiration(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session(expire_after=60)
    url = origin.url("/data/reset")
    session.get(url)

    assert session.cache.reset_expiration(3600) == 1
    clock.advance(120)
    hit = session.get(url)

    assert hit.from_cache is True
    assert hit.expires == clock.current - timedelta(seconds=120) + timedelta(hours=1)
    session.cache.reset_expiration(None)
    assert session.get(url).expires is None


def _url_only_key(request: Any, **_: Any) -> str:
    return hashlib.sha256(request.url.encode()).hexdigest()[:32]


def test_recreate_keys_after_changing_the_key_function(make_session: Any, origin: Any) -> None:
    session = make_session()
    url = origin.url("/data/rekey")
    session.get(url)
    session.settings.key_fn = _url_only_key
    assert not session.cache.contains(url=url)  # the key of the same request has changed

    report = session.cache.recreate_keys()

    assert (report.moved, report.skipped) == (1, 0)
    assert session.cache.contains(url=url)
    assert session.get(url).from_cache is True
    assert session.cache.response_count() == 1


def test_recreate_keys_keeps_redirects_leading_to_a_moved_entry(
    make_session: Any, origin: Any
) -> None:
    session = make_session()
    start = origin.url("/redirect/1/data/rekey-target")
    session.get(start)
    session.settings.key_fn = _url_only_key

    report = session.cache.recreate_keys()

    assert report.moved == 1
    final = session.cache.get_response(_key(session, origin.url("/data/rekey-target")))
    assert final is not None
    assert session.cache.redirects[final.redirect_keys[0]] == final.cache_key
    assert session.get(start).from_cache is True  # by the new key of the redirecting URL


def test_recreate_keys_leaves_entries_with_credentials_in_place(
    make_session: Any, origin: Any
) -> None:
    """Their credentials were redacted when stored: a new key would belong to a request
    whose credential is the placeholder, so they are not moved."""
    session = make_session()
    url = origin.url("/data/private", api_key="s3cret")
    session.get(url)
    session.settings.match_headers = ("Accept-Language",)

    report = session.cache.recreate_keys()

    assert (report.moved, report.skipped) == (0, 1)
    assert session.get(origin.url("/data/private", api_key="REDACTED")).from_cache is False


# -- 13: urls as a property and as a method -------------------------------------------------


def test_urls_property_and_method(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session(expire_after=60)
    session.get(origin.url("/data/urls-old"))
    clock.advance(120)
    session.get(origin.url("/data/urls-new"))
    both = sorted([origin.url("/data/urls-old"), origin.url("/data/urls-new")])

    assert session.cache.urls == both
    assert session.cache.urls() == both
    assert session.cache.urls(expired=False) == [origin.url("/data/urls-new")]


def test_filter_with_invalid_gives_unreadable_entries_as_empty_504s(
    make_session: Any, origin: Any, cache_path: str
) -> None:
    old = make_session(keys=[generate_key()])
    old.get(origin.url("/data/old-ring"))
    current = make_session(cache_name=cache_path)
    current.get(origin.url("/data/current-ring"))

    everything = list(current.cache.filter(True, True, True))  # requests-cache's order
    readable = list(current.cache.filter())

    assert [r.url for r in readable] == [origin.url("/data/current-ring")]
    (placeholder,) = [r for r in everything if r.status_code == 504]
    assert placeholder.content == b""
    assert placeholder.cache_key == _key(old, origin.url("/data/old-ring"))
    assert len(current.cache.storage) == 2  # filtering deletes nothing it cannot read


def test_remove_expired_responses_is_the_deprecated_delete_expired(
    make_session: Any, origin: Any, clock: Any, cache_path: str
) -> None:
    old = make_session(keys=[generate_key()])
    old.get(origin.url("/data/old-ring"))
    session = make_session(cache_name=cache_path, expire_after=60)
    session.get(origin.url("/data/will-expire"))
    session.get(origin.url("/data/fresh"), expire_after=3600)
    clock.advance(120)

    with pytest.warns(DeprecationWarning, match=r"delete\(expired=True\)"):
        removed = session.cache.remove_expired_responses()
    with pytest.warns(DeprecationWarning, match="remove_expired_responses"):
        session.cache.remove_expired_responses(expire_after=1)
    clock.advance(2)

    assert removed == 1
    assert session.cache.delete(expired=True) == 1  # the new expiry applied to the rest
    assert len(session.cache.storage) == 1  # the other key's entry is left, unlike rc
