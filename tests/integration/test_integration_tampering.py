"""Entries changed in storage are misses, logged by key only, and fetched again.

An entry whose records fail to authenticate is proven damaged and deleted; one whose header
names a key, stage or format this reader does not have is kept (another reader could read
it) until a newer response replaces it.
"""

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


@pytest.mark.parametrize("position", ["entry id", "middle", "last"])
def test_tampered_entry_is_a_miss_and_is_replaced(
    backend_session: CachedSession, origin: Any, caplog: pytest.LogCaptureFixture, position: str
) -> None:
    session = backend_session
    path = f"/data/tampered-{MARKER}"
    url = origin.url(path, size=2000)
    first = session.get(url)
    key = first.cache_key  # type: ignore[attr-defined]
    stored = session.cache.storage[key]
    entry_id = stored.index(b" entry=") + len(b" entry=")
    index = {"entry id": entry_id, "middle": len(stored) // 2, "last": len(stored) - 1}[position]
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


@pytest.mark.parametrize("length", [0, 10, 60, -1])
def test_truncated_entry_is_a_miss(session: CachedSession, origin: Any, length: int) -> None:
    url = origin.url(f"/data/truncated-{length}")
    key = session.get(url).cache_key  # type: ignore[attr-defined]
    session.cache.storage[key] = session.cache.storage[key][:length]

    assert session.get(url).from_cache is False
    assert session.cache.stats.discarded == 1


@pytest.mark.parametrize(
    ("field", "replacement", "outcome"),
    [
        (b"spec=msgpack+zstd+aesgcm", b"spec=msgpack+zstd+nosuch", "missing stage"),
        (b"spec=msgpack+zstd+aesgcm", b"spec=msgpack+zstd", "refused spec"),
        (b"vaultcache/2 ", b"vaultcache/3 ", "old format"),
    ],
)
def test_entry_naming_what_this_reader_lacks_is_kept_not_deleted(
    session: CachedSession, origin: Any, field: bytes, replacement: bytes, outcome: str
) -> None:
    url = origin.url(f"/data/kept-{outcome.replace(' ', '-')}")
    key = session.get(url).cache_key  # type: ignore[attr-defined]
    planted = session.cache.storage[key].replace(field, replacement, 1)
    session.cache.storage[key] = planted
    session.cache.storage["planted-copy"] = planted

    assert session.cache.get_response("planted-copy") is None
    assert session.cache.storage["planted-copy"] == planted  # kept, not deleted
    assert session.cache.stats.kept == 1
    assert session.cache.stats.discarded == 0
    assert session.get(url).from_cache is False  # a miss; the fresh response replaces it
    assert session.get(url).from_cache


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


def test_entry_written_with_another_key_ring_is_a_kept_miss(
    make_session: Any, origin: Any, cache_path: str, caplog: pytest.LogCaptureFixture
) -> None:
    from vaultcache import generate_key

    url = origin.url("/data/other-ring")
    owner = make_session()
    key = owner.get(url).cache_key
    written = owner.cache.storage[key]
    stranger = make_session(cache_name=cache_path, keys=[generate_key()])

    with caplog.at_level(logging.WARNING, logger="vaultcache"):
        assert stranger.cache.get_response(key) is None
        assert stranger.cache.get_response(key) is None

    assert stranger.cache.storage[key] == written  # kept: the owner's key still reads it
    assert stranger.cache.stats.discarded == 0
    assert stranger.cache.stats.kept == 2
    reports = [r.getMessage() for r in caplog.records if "kept" in r.getMessage()]
    assert len(reports) == 1  # once per reason, not once per read
    assert written.split(b"key=")[1][:16].decode() in reports[0]  # the key id, never a key
    assert owner.get(url).from_cache


def test_entry_written_by_another_pipeline_is_read(
    make_session: Any, origin: Any, cache_path: str, key: str
) -> None:
    url = origin.url("/data/other-pipeline")
    written = make_session(serializer="signed+zstd+fernet").get(url)
    other = make_session(cache_name=cache_path, serializer="zstd+aesgcm", keys=[key])

    read = other.get(url)

    assert read.from_cache is True
    assert read.content == written.content
    assert other.cache.stats.discarded == other.cache.stats.kept == 0


def test_stats_count_hits_misses_and_discards(session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/stats")
    key = session.get(url).cache_key  # type: ignore[attr-defined]
    session.get(url)
    session.cache.storage[key] = session.cache.storage[key][:-1]  # damaged
    session.get(url)
    session.cache.storage[key] = b"garbage"  # not this format: kept, as an old one would be
    session.get(url)

    stats = session.cache.stats
    assert (stats.hits, stats.misses, stats.discarded, stats.kept) == (1, 3, 1, 2)


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
    session.cache.storage[key] = session.cache.storage[key][:-3]

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
