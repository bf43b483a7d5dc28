"""Entries changed in storage are misses: discarded, logged by key only, and fetched again."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest

from vaultcache.backends import BackendError, MemoryStorage
from vaultcache.cache import BaseCache
from vaultcache.session import CachedSession

MARKER = "tamper-marker-body-text"


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("position", ["header", "middle", "last"])
def test_tampered_entry_is_a_miss_and_is_replaced(
    backend_session: CachedSession, origin: Any, caplog: pytest.LogCaptureFixture, position: str
) -> None:
    session = backend_session
    path = f"/data/tampered-{MARKER}"
    url = origin.url(path, size=2000)
    first = session.get(url)
    key = first.cache_key  # type: ignore[attr-defined]
    stored = session.cache.storage[key]
    index = {"header": 2, "middle": len(stored) // 2, "last": len(stored) - 1}[position]
    session.cache.storage[key] = _flip(stored, index)

    with caplog.at_level(logging.WARNING, logger="vaultcache"):
        refetched = session.get(url)

    assert refetched.from_cache is False
    assert refetched.content == first.content
    assert origin.hits(path) == 2
    assert session.cache.stats.discarded == 1
    assert session.cache.storage[key] != _flip(stored, index)  # replaced by a good entry
    assert session.get(url).from_cache
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert key in message
    assert MARKER not in message
    assert MARKER not in caplog.text


def test_truncated_entry_is_a_miss(session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/truncated")
    key = session.get(url).cache_key  # type: ignore[attr-defined]
    session.cache.storage[key] = session.cache.storage[key][:10]

    assert session.get(url).from_cache is False
    assert session.cache.stats.discarded == 1


def test_entry_moved_to_another_key_is_a_miss(
    session: CachedSession, origin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url_a = origin.url("/data/moved-a")
    url_b = origin.url("/data/moved-b")
    key_a = session.get(url_a).cache_key  # type: ignore[attr-defined]
    key_b = session.get(url_b).cache_key  # type: ignore[attr-defined]
    session.cache.storage[key_b] = session.cache.storage[key_a]

    with caplog.at_level(logging.WARNING, logger="vaultcache"):
        response_b = session.get(url_b)

    assert response_b.from_cache is False
    assert response_b.json()["path"] == "/data/moved-b"
    assert origin.hits("/data/moved-b") == 2
    assert session.cache.stats.discarded == 1
    assert key_b in caplog.text
    assert session.get(url_a).from_cache  # the original is untouched


def test_entry_written_with_another_key_ring_is_a_miss(
    make_session: Any, origin: Any, cache_path: str
) -> None:
    from vaultcache import generate_key

    url = origin.url("/data/other-ring")
    make_session().get(url)
    stranger = make_session(cache_name=cache_path, keys=[generate_key()])

    response = stranger.get(url)

    assert response.from_cache is False
    assert stranger.cache.stats.discarded == 1


def test_entry_written_by_another_pipeline_is_a_miss(
    make_session: Any, origin: Any, cache_path: str, key: str
) -> None:
    url = origin.url("/data/other-pipeline")
    make_session(serializer="signed+zstd+fernet").get(url)
    other = make_session(cache_name=cache_path, serializer="zstd+aesgcm", keys=[key])

    assert other.get(url).from_cache is False
    assert other.cache.stats.discarded == 1


def test_stats_count_hits_misses_and_discards(session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/stats")
    key = session.get(url).cache_key  # type: ignore[attr-defined]
    session.get(url)
    session.cache.storage[key] = b"garbage"
    session.get(url)

    stats = session.cache.stats
    assert (stats.hits, stats.misses, stats.discarded) == (1, 2, 1)


class _PlainPickle:
    """A serializer that is not a SerializerPipeline: any object with dumps/loads."""

    @staticmethod
    def dumps(value: Any) -> bytes:
        return pickle.dumps(value)

    @staticmethod
    def loads(value: bytes) -> Any:
        return pickle.loads(value)


def test_unreadable_entry_with_a_plain_object_serializer_is_a_miss(
    make_session: Any, origin: Any
) -> None:
    session = make_session(serializer=_PlainPickle())
    url = origin.url("/data/plain-serializer-garbage")
    key = session.get(url).cache_key
    session.cache.storage[key] = b"garbage"

    response = session.get(url)

    assert response.from_cache is False
    assert session.cache.stats.discarded == 1


class _BrokenStorage(MemoryStorage):
    """A storage whose disk has gone away: every read and write fails."""

    def __getitem__(self, key: str) -> bytes:
        raise BackendError("storage is broken", backend="broken")

    def __setitem__(self, key: str, value: bytes) -> None:
        raise BackendError("storage is broken", backend="broken")


def test_storage_failures_are_logged_misses_not_failed_requests(
    make_session: Any, origin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    cache = BaseCache("broken", responses=_BrokenStorage(), redirects=MemoryStorage())
    session = make_session(backend=cache)
    url = origin.url("/data/broken-storage")

    with caplog.at_level(logging.WARNING, logger="vaultcache"):
        first = session.get(url)
        second = session.get(url)

    assert first.status_code == second.status_code == 200
    assert second.from_cache is False
    assert origin.hits("/data/broken-storage") == 2
    assert "storage is broken" in caplog.text
