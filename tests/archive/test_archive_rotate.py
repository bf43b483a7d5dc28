"""Key rotation: re-encrypt under the primary key, safely beside other writers, resumably."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from vaultcache import KeyRing, build_pipeline, generate_key
from vaultcache.archive import ArchiveError, rotate
from vaultcache.crypto_keys import Key
from vaultcache.entries import peek_key_id
from vaultcache.models import CachedResponse
from vaultcache.session import CachedSession

PERSISTENT = ("sqlite", "filesystem")
SessionFactory = Callable[..., CachedSession]


def _key_id(text: str) -> str:
    return Key.from_text(text).hex_id


def _cache_key(index: int) -> str:
    return hashlib.sha256(f"entry-{index}".encode()).hexdigest()[:32]


def _fill(session: CachedSession, count: int, start: int = 0) -> list[str]:
    keys = []
    for index in range(start, start + count):
        key = _cache_key(index)
        session.cache.save_response(
            CachedResponse(
                url=f"https://example.org/item/{index}",
                status_code=200,
                reason="OK",
                headers={"Content-Type": "text/plain"},
                content=f"body of item {index}".encode() * 20,
                cache_key=key,
            )
        )
        keys.append(key)
    return keys


def _key_ids(session: CachedSession) -> Counter[str | None]:
    """What `vaultcache keys list` counts: entries per key id."""
    storage = session.cache.storage
    return Counter(peek_key_id(storage[key]) for key in storage)


@pytest.mark.parametrize("backend", PERSISTENT)
def test_rotation_moves_every_entry_to_the_new_primary(
    make_session: SessionFactory, old_key: str, new_key: str, backend: str
) -> None:
    keys = _fill(make_session("cache", [old_key], backend=backend), 12)
    session = make_session("cache", [new_key, old_key], backend=backend)
    before = {key: session.cache.storage[key] for key in keys}

    report = rotate(session.cache)

    assert (report.rotated, report.current, report.concurrent) == (12, 0, 0)
    assert report.unreadable == ()
    assert report.key_id == _key_id(new_key)
    assert _key_ids(session) == {_key_id(new_key): 12}
    # The old key can now be retired: a ring without it reads every entry, unchanged.
    retired = make_session("cache", [new_key], backend=backend)
    for key in keys:
        assert retired.cache.storage[key] != before[key]
        response = retired.cache.get_response(key)
        assert response is not None
        assert response.content == session.cache.get_response(key).content
    again = rotate(session.cache)
    assert (again.rotated, again.current) == (0, 12)


def _fill_one(session: CachedSession, key: str, body: bytes) -> None:
    session.cache.save_response(
        CachedResponse(
            url="https://example.org/rival", status_code=200, content=body, cache_key=key
        )
    )


@pytest.mark.parametrize("backend", PERSISTENT)
def test_entry_changed_during_rotation_is_counted_and_not_overwritten(
    make_session: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    old_key: str,
    new_key: str,
    backend: str,
) -> None:
    keys = _fill(make_session("race", [old_key], backend=backend), 6)
    session = make_session("race", [new_key, old_key], backend=backend)
    rival = make_session("race", [new_key, old_key], backend=backend)  # another process
    storage = session.cache.storage
    read = storage.get

    def get_then_race(key: str, default: Any = None) -> Any:
        value = read(key, default)
        if key == keys[3]:  # rotation has read it; now someone else writes it
            _fill_one(rival, key, b"written by the rival process")
        return value

    monkeypatch.setattr(storage, "get", get_then_race)

    report = rotate(session.cache)

    assert (report.rotated, report.current, report.concurrent) == (5, 0, 1)
    response = session.cache.get_response(keys[3])
    assert response.content == b"written by the rival process"
    assert _key_ids(session) == {_key_id(new_key): 6}


def test_entry_deleted_during_rotation_is_counted(
    make_session: SessionFactory, old_key: str, new_key: str
) -> None:
    keys = _fill(make_session("gone", [old_key]), 4)
    session = make_session("gone", [new_key, old_key])

    def delete_one(items: Iterable[Any], total: int | None, label: str) -> Iterator[Any]:
        for index, item in enumerate(items):
            if index == 0:
                del session.cache.storage[keys[-1]]
            yield item

    report = rotate(session.cache, progress=delete_one)

    assert (report.rotated, report.concurrent) == (3, 1)
    assert keys[-1] not in session.cache.storage


class _Interrupted(Exception):
    pass


def test_interrupted_rotation_loses_nothing_and_a_rerun_completes(
    make_session: SessionFactory, old_key: str, new_key: str
) -> None:
    keys = _fill(make_session("resume", [old_key]), 10)
    session = make_session("resume", [new_key, old_key])
    seen: list[str] = []

    def interrupt_after_four(items: Iterable[Any], total: int | None, label: str) -> Iterator[Any]:
        assert (total, label) == (10, "rotate")
        for item in items:
            if len(seen) == 4:
                raise _Interrupted
            seen.append(item)
            yield item

    with pytest.raises(_Interrupted):
        rotate(session.cache, progress=interrupt_after_four)

    ids = _key_ids(session)
    assert ids == {_key_id(new_key): 4, _key_id(old_key): 6}
    assert all(session.cache.get_response(key) is not None for key in keys)
    report = rotate(session.cache)
    assert (report.rotated, report.current, report.concurrent) == (6, 4, 0)
    assert _key_ids(session) == {_key_id(new_key): 10}


def test_unreadable_entries_are_reported_and_left_alone(
    make_session: SessionFactory, old_key: str, new_key: str
) -> None:
    good = _fill(make_session("mixed", [old_key]), 3)
    stranger = generate_key()
    foreign = _fill(make_session("mixed", [stranger]), 2, start=100)
    session = make_session("mixed", [new_key, old_key])
    storage = session.cache.storage
    tampered = good[0]
    data = bytearray(storage[tampered])
    data[-1] ^= 1
    storage[tampered] = bytes(data)
    moved = _cache_key(999)  # a valid entry copied under another key
    storage[moved] = storage[good[1]]
    before = {key: storage[key] for key in [tampered, moved, *foreign]}

    report = rotate(session.cache)

    assert report.rotated == 2  # good[1] and good[2]
    unreadable = {entry.key: entry for entry in report.unreadable}
    assert set(unreadable) == {tampered, moved, *foreign}
    assert unreadable[foreign[0]].key_id == _key_id(stranger)
    assert "IntegrityError" in unreadable[tampered].reason
    assert unreadable[moved].reason == "entry belongs to another key"
    assert {key: storage[key] for key in before} == before  # untouched, never deleted
    assert report.total == 6


def test_a_serializer_without_keys_has_nothing_to_rotate(make_session: SessionFactory) -> None:
    session = make_session("plain", [], serializer="zstd")
    with pytest.raises(ArchiveError, match="no signing or encryption stage"):
        rotate(session.cache)


def test_an_entry_the_target_cannot_hold_is_reported_kept_and_leaves_no_chunks(
    make_session: SessionFactory, old_key: str
) -> None:
    # The target's zstd may read back at most 1 MiB, so a 1 MiB chunk with its signature
    # (signed+zstd: zstd is given the signed chunk) cannot be written under it.
    session = make_session("tight", [old_key], backend="sqlite")
    big = bytes(range(256)) * (2 * 1024 * 1024 // 256 + 1000)
    _fill_one(session, "big", big)
    _fill(session, 3)
    chunks_before = set(session.cache.chunk_storage)
    target = build_pipeline(
        "signed+zstd", keys=KeyRing([old_key]), options={"zstd": {"max_size": 1024 * 1024}}
    )

    report = rotate(session.cache, to=target)

    assert report.rotated == 3
    assert [skipped.key for skipped in report.unreadable] == ["big"]
    assert "cannot be written as" in report.unreadable[0].reason
    assert session.cache.get_response("big").content == big
    assert set(session.cache.chunk_storage) == chunks_before
