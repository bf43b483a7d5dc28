"""A cache is built complete: its serializer and key function come with it, so a cache used
without a session reads, writes and finds keys as a session's cache does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from vaultcache import generate_key
from vaultcache.backends import FileCache, SQLiteCache, memory_cache
from vaultcache.backends.memory import MemoryStorage
from vaultcache.cache import DEFAULT_SERIALIZER, BaseCache
from vaultcache.cache_key_function import KeyFunction, unverified
from vaultcache.crypto_keys import KeyRing
from vaultcache.errors import ConfigError, SpecError
from vaultcache.policy.settings import CacheSettings
from vaultcache.serializers import SerializerPipeline, build_pipeline
from vaultcache.session import CachedSession

URL = "https://example.org/page?api_key=secret"


def _live_response(url: str = URL) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.reason = "OK"
    response.url = url
    response.request = requests.Request("GET", url).prepare()
    response._content = b"body"
    return response


@pytest.mark.parametrize("cache_class", [SQLiteCache, FileCache])
def test_a_backend_class_works_alone(cache_class: type[BaseCache], tmp_path: Path) -> None:
    cache = cache_class(str(tmp_path / "c"), serializer="json")
    try:
        assert cache.serializer.spec == "json"
        cache.save_response(_live_response())
        assert cache.contains(url=URL)
        (stored,) = cache.values()
        assert stored.content == b"body"
        assert "secret" not in stored.url  # redacted as a session's cache redacts
        assert cache.delete(urls=[URL]) == 1
    finally:
        cache.close()


def test_a_cache_with_no_serializer_builds_the_default_when_first_used() -> None:
    data_dir = Path(os.environ["VAULTCACHE_DATA_DIR"])
    cache = BaseCache("c", serializer=None)
    assert not any(data_dir.iterdir())  # no key looked up (nor created) yet
    assert cache.serializer.spec.endswith(DEFAULT_SERIALIZER)  # after the default format
    cache.save_response(_live_response())
    assert cache.get_response(cache.create_key(_live_response().request)) is not None


def test_a_spec_is_built_with_the_given_key_ring() -> None:
    ring = KeyRing([generate_key()])
    cache = memory_cache("m", serializer="signed+fernet", key_ring=ring)
    assert isinstance(cache.serializer, SerializerPipeline)
    cache.save_response(_live_response())
    other = BaseCache(
        "m",
        responses=cache.storage,
        redirects=cache.redirect_storage,
        serializer=build_pipeline("signed+fernet", keys=KeyRing([generate_key()])),
    )
    assert len(list(cache.values())) == 1
    assert not list(other.values())  # another key reads nothing


def test_a_malformed_spec_fails_when_the_cache_is_built() -> None:
    with pytest.raises(SpecError):
        BaseCache("c", serializer="zstd++aesgcm")


def test_the_default_key_function_mixes_credentials_under_the_ring_secret() -> None:
    request = requests.Request("GET", URL).prepare()
    ring = KeyRing([generate_key()])
    with_ring = BaseCache("c", key_ring=ring, serializer="json")
    without = BaseCache("c", serializer="json")
    assert with_ring.create_key(request) != without.create_key(request)
    assert with_ring.create_key(request) == KeyFunction.for_ring(CacheSettings(), ring)(request)


def test_a_session_builds_its_cache_with_its_own_parts(tmp_path: Path) -> None:
    session = CachedSession(
        str(tmp_path / "s"), serializer="json", ignored_parameters=["utm"], keys=[generate_key()]
    )
    try:
        cache = session.cache
        assert cache.serializer.spec == "json"
        assert cache.key_ring is session.key_ring
        with_utm = requests.Request("GET", "https://example.org/?utm=1").prepare()
        without = requests.Request("GET", "https://example.org/").prepare()
        assert cache.create_key(with_utm) == cache.create_key(without)
        assert cache.create_key(with_utm) == session.create_key(without)
    finally:
        session.close()


def test_a_cache_given_to_a_session_is_configured_with_the_session_parts() -> None:
    cache = BaseCache("given", responses=MemoryStorage(), redirects=MemoryStorage())
    session = CachedSession(backend=cache, serializer="json", match_headers=["Accept"])
    try:
        assert session.cache is cache
        assert cache.serializer.spec == "json"
        json = requests.Request("GET", URL, headers={"Accept": "a/json"}).prepare()
        text = requests.Request("GET", URL, headers={"Accept": "text/plain"}).prepare()
        assert cache.create_key(json) != cache.create_key(text)
    finally:
        session.close()


@pytest.mark.parametrize("name", ["key_ring", "create_key"])
def test_the_cache_parts_are_not_backend_options(name: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} is not a backend option"):
        CachedSession(backend="memory", serializer="json", **{name: None})


def test_unverified_requests_have_keys_of_their_own() -> None:
    keys = KeyFunction()
    request = requests.Request("GET", "https://example.org/").prepare()
    verified = keys(request)
    with unverified(True):
        assert keys(request) != verified
        assert keys(request, verify=True) == verified
    assert keys(request) == verified
