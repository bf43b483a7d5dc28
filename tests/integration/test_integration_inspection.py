"""Inspecting and pruning the cache, a user-defined BaseCache, and filter_fn."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from vaultcache.backends import BaseStorage
from vaultcache.cache import BaseCache
from vaultcache.models import CachedResponse
from vaultcache.session import CachedSession


@pytest.fixture
def filled(make_session: Any, origin: Any, clock: Any) -> tuple[CachedSession, dict[str, str]]:
    """A session holding two fresh responses, one expired one and one redirect chain."""
    session = make_session(expire_after=3600)
    urls = {
        "fresh": origin.url("/data/inspect-fresh"),
        "other": origin.url("/data/inspect-other", page=1),
        "expired": origin.url("/data/inspect-expired"),
        "redirect": origin.url("/redirect/2/data/inspect-target"),
    }
    session.get(urls["expired"], expire_after=10)
    clock.advance(5)
    session.get(urls["fresh"])
    session.get(urls["other"])
    session.get(urls["redirect"])
    clock.advance(10)  # only the entry with expire_after=10 has expired
    return session, urls


def test_urls_lists_the_url_of_every_response(filled: Any, origin: Any) -> None:
    session, urls = filled

    listed = session.cache.urls

    assert isinstance(listed, list)
    assert listed == sorted(
        [urls["fresh"], urls["other"], urls["expired"], origin.url("/data/inspect-target")]
    )


def test_responses_values_are_cached_responses(filled: Any) -> None:
    session, _ = filled

    values = list(session.cache.responses.values())

    assert len(values) == len(session.cache.responses) == 4
    assert all(isinstance(value, CachedResponse) and value.from_cache for value in values)
    assert {value.cache_key for value in values} == set(session.cache.responses)


def test_redirects_mapping(filled: Any) -> None:
    session, urls = filled

    (redirect_key, target) = next(iter(session.cache.redirects.items()))

    assert len(session.cache.redirects) == 2  # both hops lead to the final URL's entry
    assert target in session.cache.responses
    assert session.cache.responses[target].history[0].url == urls["redirect"]
    assert redirect_key not in list(session.cache.responses)


def test_responses_mapping_membership_matches_its_keys(filled: Any) -> None:
    session, _ = filled
    redirect_key, _ = session.cache.redirects

    assert (redirect_key in session.cache.responses) == (
        redirect_key in list(session.cache.responses)
    )


def test_keys_lists_responses_and_redirects(filled: Any) -> None:
    session, _ = filled

    keys = list(session.cache.keys())

    assert sorted(keys) == sorted([*session.cache.responses, *session.cache.redirects])


def test_keys_with_check_expiry_lists_fresh_responses(filled: Any) -> None:
    session, urls = filled
    expired_key = session.cache.responses[_key(session, urls["expired"])].cache_key

    fresh_keys = list(session.cache.keys(check_expiry=True))

    assert len(fresh_keys) == 3
    assert expired_key not in fresh_keys


def test_values_with_check_expiry_skips_expired_responses(filled: Any) -> None:
    session, urls = filled

    every = list(session.cache.values())
    fresh = list(session.cache.values(check_expiry=True))

    assert len(every) == 4
    assert len(fresh) == 3
    assert urls["expired"] not in {response.url for response in fresh}
    assert not any(response.is_expired for response in fresh)


def test_response_count(filled: Any) -> None:
    session, _ = filled

    assert session.cache.response_count() == 4
    assert session.cache.response_count(check_expiry=True) == 3


def test_contains_by_url_key_and_request(filled: Any, origin: Any) -> None:
    session, urls = filled
    request = requests.Request("GET", urls["fresh"]).prepare()

    assert session.cache.contains(url=urls["fresh"])
    assert session.cache.contains(url=urls["redirect"])
    assert session.cache.contains(key=_key(session, urls["other"]))
    assert session.cache.contains(request=request)
    assert not session.cache.contains(url=origin.url("/data/never-requested"))


def test_delete_by_urls(filled: Any) -> None:
    session, urls = filled

    deleted = session.cache.delete(urls=[urls["fresh"], urls["other"]])

    assert deleted == 2
    assert not session.cache.contains(url=urls["fresh"])
    assert session.cache.response_count() == 2


def test_delete_expired(filled: Any) -> None:
    session, urls = filled

    deleted = session.cache.delete(expired=True)

    assert deleted == 1
    assert not session.cache.contains(url=urls["expired"])
    assert session.cache.response_count() == 3


def test_delete_older_than(filled: Any, clock: Any) -> None:
    session, urls = filled

    deleted = session.cache.delete(older_than=clock.current - timedelta(seconds=12))

    assert deleted == 1
    assert not session.cache.contains(url=urls["expired"])


def test_filter_by_url_glob_expiry_and_age(filled: Any, clock: Any) -> None:
    session, urls = filled

    by_url = list(session.cache.filter(url="*/data/inspect-other*"))
    expired_only = list(session.cache.filter(valid=False))
    older = list(session.cache.filter(older_than=clock.current - timedelta(seconds=12)))

    assert [r.url for r in by_url] == [urls["other"]]
    assert [r.url for r in expired_only] == [urls["expired"]]
    assert [r.url for r in older] == [urls["expired"]]


def test_clear_empties_responses_and_redirects(filled: Any) -> None:
    session, urls = filled

    session.cache.clear()

    assert session.cache.response_count() == 0
    assert len(session.cache.redirects) == 0
    assert session.cache.urls == []
    assert not session.get(urls["fresh"]).from_cache


def test_inspection_works_on_every_backend(backend_session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/inspect-backend")
    backend_session.get(url)
    backend_session.get(origin.url("/redirect/2/data/inspect-backend-redirect"))

    assert backend_session.cache.response_count() == 2
    assert len(backend_session.cache.redirects) == 2
    assert backend_session.cache.contains(url=url)
    assert backend_session.cache.delete(urls=[url]) == 1
    backend_session.cache.clear()
    assert list(backend_session.cache.keys()) == []


def _key(session: CachedSession, url: str) -> str:
    return session.create_key(requests.Request("GET", url).prepare())


# -- a user-defined cache -------------------------------------------------------------------------


class DictStorage(BaseStorage):
    """A minimal user storage: a dict and a lock, counting writes."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.writes = 0
        self.lock = threading.Lock()

    def __getitem__(self, key: str) -> bytes:
        with self.lock:
            return self.data[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_item(key, value)
        with self.lock:
            self.data[key] = value
            self.writes += 1

    def __delitem__(self, key: str) -> None:
        with self.lock:
            del self.data[key]

    def __iter__(self) -> Iterator[str]:
        with self.lock:
            return iter(list(self.data))

    def __len__(self) -> int:
        with self.lock:
            return len(self.data)


class CustomCache(BaseCache):
    def __init__(self) -> None:
        super().__init__("custom", responses=DictStorage(), redirects=DictStorage())


def test_user_subclass_of_base_cache_with_its_own_storage(make_session: Any, origin: Any) -> None:
    cache = CustomCache()
    session = make_session(backend=cache)
    url = origin.url("/data/custom-cache")

    session.get(url)
    hit = session.get(url)
    session.get(origin.url("/redirect/2/data/custom-cache-redirect"))

    assert session.cache is cache
    assert hit.from_cache
    assert isinstance(cache.storage, DictStorage)
    assert cache.storage.writes == 2
    assert len(cache.redirect_storage) == 2
    assert cache.urls == sorted([url, origin.url("/data/custom-cache-redirect")])
    assert all(isinstance(value, bytes) for value in cache.storage.data.values())


class SeedCache(BaseCache):
    """The seed's custom backend, as written there: storages assigned after __init__."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.responses = DictStorage()
        self.redirects = DictStorage()


def test_the_seeds_custom_backend_keeps_its_storage_objects_reachable(
    make_session: Any, origin: Any, clock: Any
) -> None:
    backend = SeedCache()
    session = make_session(backend=backend)
    session.get(origin.url("/data/seed-custom"), expire_after=10)
    session.get(origin.url("/redirect/1/data/seed-custom-target"), expire_after=3600)
    clock.advance(60)

    assert isinstance(backend.responses.storage, DictStorage)
    assert isinstance(backend.redirects.storage, DictStorage)
    assert backend.responses.data is backend.responses.storage.data  # the user's attributes
    assert backend.responses.writes == 2
    assert backend.redirects.data is backend.redirect_storage.data
    assert all(isinstance(value, bytes) for value in backend.responses.data.values())
    # ... while the mapping still gives responses:
    assert {r.url for r in backend.responses.values()} == {
        origin.url("/data/seed-custom"),
        origin.url("/data/seed-custom-target"),
    }
    assert [r.url for r in backend.responses.values(check_expiry=True)] == [
        origin.url("/data/seed-custom-target")
    ]
    with pytest.raises(AttributeError):
        _ = backend.responses.no_such_attribute


def test_backend_options_are_refused_with_a_cache_instance(make_session: Any) -> None:
    with pytest.raises(TypeError, match="backend options"):
        make_session(backend=CustomCache(), busy_timeout=5)


# -- filter_fn -------------------------------------------------------------------------------------


def test_filter_fn_decides_what_is_written(make_session: Any, origin: Any) -> None:
    session = make_session(filter_fn=lambda response: "keep" in response.url)
    kept = origin.url("/data/filter-keep")
    dropped = origin.url("/data/filter-drop")

    session.get(kept)
    session.get(dropped)

    assert session.get(kept).from_cache
    assert not session.get(dropped).from_cache
    assert session.cache.urls == [kept]


def test_filter_fn_sees_the_response(make_session: Any, origin: Any) -> None:
    session = make_session(filter_fn=lambda response: response.json()["version"] == 1)
    path = "/data/filter-content"
    url = origin.url(path)
    session.get(url)
    origin.bump(path)

    refreshed = session.get(url, force_refresh=True)

    assert refreshed.json()["version"] == 2
    assert session.get(url).json()["version"] == 1  # version 2 was filtered out


def test_filter_fn_decides_what_is_read(make_session: Any, origin: Any) -> None:
    accept = {"value": True}
    session = make_session(filter_fn=lambda response: accept["value"])
    url = origin.url("/data/filter-read")
    session.get(url)

    accept["value"] = False
    rejected = session.get(url)

    assert rejected.from_cache is False
    assert origin.hits("/data/filter-read") == 2
