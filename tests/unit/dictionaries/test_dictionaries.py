"""zstd dictionaries: trained from stored bodies, sealed in the cache, named by entries."""

from __future__ import annotations

import json
import logging
import random
import tarfile
from pathlib import Path

import pytest
import requests_mock

from vaultcache import CachedResponse, CachedSession, generate_key
from vaultcache.archive import export_archive, import_archive, rotate
from vaultcache.backends.base import BaseStorage
from vaultcache.backends.caches import FileCache, sqlite_cache
from vaultcache.backends.memory import MemoryStorage
from vaultcache.cache import BaseCache
from vaultcache.crypto_keys import KeyRing
from vaultcache.dictionaries import PruneReport, dictionary_key, prune, train
from vaultcache.dictionaries.store import CURRENT_KEY
from vaultcache.entries import parse_header
from vaultcache.errors import ConfigError, ConfigTypeError, TrainingError
from vaultcache.serializers import build_pipeline

KEY = generate_key()


def _cache(spec: str = "zstd+aesgcm", keys: list[str] | None = None) -> BaseCache:
    cache = BaseCache(
        "dicts", responses=MemoryStorage(), redirects=MemoryStorage(), chunks=MemoryStorage()
    )
    cache.serializer = build_pipeline(spec, keys=KeyRing(keys or [KEY]))
    return cache


def _body(seed: int) -> bytes:
    rng = random.Random(seed)
    items = [
        {
            "id": rng.randrange(10**6),
            "name": rng.choice(["alpha", "beta", "gamma", "delta"]) + " widget",
            "price": round(rng.random() * 100, 2),
            "tags": rng.sample(["new", "sale", "blue", "red", "large", "small"], k=2),
        }
        for _ in range(rng.randint(20, 60))
    ]
    return json.dumps({"items": items, "page": seed}).encode()


def _key(index: int) -> str:
    return f"{index:08x}"


def _fill(cache: BaseCache, start: int, count: int) -> None:
    for index in range(start, start + count):
        body = _body(index)
        cache.save_response(
            CachedResponse(url=f"https://api.example/{index}", content=body, cache_key=_key(index))
        )


def _spec(cache: BaseCache, key: str) -> str:
    return parse_header(cache.storage[key])[0].spec


def test_training_makes_new_entries_name_the_dictionary_and_smaller() -> None:
    cache = _cache()
    _fill(cache, 0, 120)
    plain = len(cache.storage[_key(100)])

    report = train(cache, size=8 * 1024, seed=1)
    _fill(cache, 100, 1)  # the same response, written again

    assert report.samples == 120
    assert report.previous_id is None
    assert _spec(cache, _key(100)) == f"msgpack+zstd(dict={report.dictionary_id})+aesgcm"
    assert len(cache.storage[_key(100)]) < plain
    assert cache.get_response(_key(100)).content == _body(100)
    assert _spec(cache, _key(0)) == "msgpack+zstd+aesgcm"  # older entries are left as written
    assert cache.get_response(_key(0)).content == _body(0)


def test_entries_of_every_dictionary_read_after_retraining() -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    first = train(cache, size=4096, seed=1)
    _fill(cache, 60, 20)
    second = train(cache, size=4096, seed=2)
    _fill(cache, 80, 20)

    assert second.previous_id == first.dictionary_id != second.dictionary_id
    assert sorted(cache.dictionaries.ids()) == sorted([first.dictionary_id, second.dictionary_id])
    assert f"dict={first.dictionary_id}" in _spec(cache, _key(70))
    assert f"dict={second.dictionary_id}" in _spec(cache, _key(90))
    fresh = _cache()  # another process: nothing loaded yet
    fresh.storage, fresh.chunk_storage = cache.storage, cache.chunk_storage
    for index in (5, 70, 90):
        assert fresh.get_response(_key(index)).content == _body(index)
    assert fresh.stats.kept == fresh.stats.discarded == 0


def test_entries_with_a_dictionary_are_read_within_the_configured_max_size() -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    train(cache, size=4096, seed=1)
    big = json.dumps([json.loads(_body(seed)) for seed in range(100, 110)]).encode()
    cache.save_response(CachedResponse(url="https://api.example/big", content=big, cache_key="b"))
    assert "dict=" in _spec(cache, "b")
    assert 20_000 < len(big) < 64 * 1024  # inline: read with the metadata record
    reader = _cache()  # the same cache, configured to decompress at most 20,000 bytes
    reader.serializer = build_pipeline(
        "zstd+aesgcm", keys=KeyRing([KEY]), options={"zstd": {"max_size": 20_000}}
    )
    reader.storage, reader.chunk_storage = cache.storage, cache.chunk_storage

    assert reader.get_response("b") is None
    assert reader.get_response(_key(5)).content == _body(5)  # small ones still read


@pytest.mark.parametrize("where", ["record", "header-id", "swapped"])
def test_a_tampered_dictionary_decodes_nothing_and_its_entries_are_kept(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    first = train(cache, size=4096, seed=1).dictionary_id
    _fill(cache, 60, 5)
    second = train(cache, size=4096, seed=2).dictionary_id
    stored = cache.chunk_storage[dictionary_key(first)]
    if where == "record":
        stored = stored[:-40] + bytes(b ^ 1 for b in stored[-40:])
    elif where == "header-id":
        stored = stored.replace(first.encode(), second.encode())
    else:  # another authentic dictionary, its header rewritten to claim this id
        stored = cache.chunk_storage[dictionary_key(second)].replace(
            second.encode(), first.encode(), 1
        )
    cache.chunk_storage[dictionary_key(first)] = stored
    reader = _cache()
    reader.storage, reader.chunk_storage = cache.storage, cache.chunk_storage

    with caplog.at_level(logging.WARNING):
        assert reader.get_response(_key(61)) is None

    assert _key(61) in reader.storage  # the entry is not what was damaged: kept
    assert reader.stats.kept == 1
    assert reader.stats.discarded == 0
    assert f"zstd dictionary {first}" in caplog.text


def test_a_missing_dictionary_keeps_its_entries() -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    dictionary_id = train(cache, size=4096, seed=1).dictionary_id
    _fill(cache, 60, 3)
    reader = _cache()
    reader.storage, reader.chunk_storage = cache.storage, MemoryStorage()

    assert reader.get_response(_key(61)) is None
    assert reader.get_response(_key(62)) is None
    assert _key(61) in reader.storage
    assert _key(62) in reader.storage
    assert reader.stats.kept == 2
    assert reader.stats.discarded == 0
    reader.chunk_storage[dictionary_key(dictionary_id)] = cache.chunk_storage[
        dictionary_key(dictionary_id)
    ]
    assert reader.get_response(_key(61)).content == _body(61)  # restored: readable again


def test_a_dictionary_under_a_key_not_in_the_ring_keeps_its_entries() -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    train(cache, size=4096, seed=1)
    _fill(cache, 60, 1)
    other_key = generate_key()
    rotated = _cache(keys=[other_key, KEY])
    rotated.storage, rotated.chunk_storage = cache.storage, cache.chunk_storage
    assert rotated.get_response(_key(60)).content == _body(60)  # the old key still reads

    stranger = _cache(keys=[other_key])
    stranger.storage, stranger.chunk_storage = cache.storage, cache.chunk_storage
    assert stranger.get_response(_key(60)) is None
    assert stranger.stats.kept == 1
    assert _key(60) in stranger.storage


def test_the_stored_dictionary_is_encrypted() -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    dictionary_id = train(cache, size=4096, seed=1).dictionary_id
    stored = cache.chunk_storage[dictionary_key(dictionary_id)]

    assert b"widget" not in stored
    assert b"price" not in stored


def test_a_damaged_current_pointer_writes_without_a_dictionary() -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    train(cache, size=4096, seed=1)
    cache.chunk_storage[CURRENT_KEY] = b"0123456789abcdef"  # names no stored dictionary
    cache._dictionaries = None  # as another process would read it

    _fill(cache, 60, 1)

    assert _spec(cache, _key(60)) == "msgpack+zstd+aesgcm"
    assert cache.get_response(_key(60)).content == _body(60)


@pytest.mark.parametrize(
    ("spec", "message"), [("zstd", "does not sign or encrypt"), ("gzip+aesgcm", "no zstd stage")]
)
def test_training_is_refused_where_a_dictionary_cannot_be_used_safely(
    spec: str, message: str
) -> None:
    cache = _cache(spec)
    _fill(cache, 0, 30)

    with pytest.raises(TrainingError, match=message):
        train(cache, size=4096)


def test_training_needs_enough_bodies() -> None:
    cache = _cache()
    _fill(cache, 0, 3)

    with pytest.raises(TrainingError, match="at least"):
        train(cache)


def test_a_cache_trains_by_itself_after_train_after_writes() -> None:
    cache = _cache()
    cache.train_after = 50

    _fill(cache, 0, 49)
    assert cache.dictionaries.current_id() is None
    _fill(cache, 49, 2)

    assert cache.dictionaries.current_id() is not None
    assert "dict=" in _spec(cache, _key(50))


@pytest.mark.parametrize(
    ("writes", "error", "message"),
    [
        (0, ConfigError, "at least 8"),
        (7, ConfigError, "at least 8"),
        (-1, ConfigError, "at least 8"),
        (True, ConfigTypeError, "got bool"),
        ("100", ConfigTypeError, "got str"),
        (100.0, ConfigTypeError, "got float"),
    ],
)
def test_train_after_is_a_count_of_at_least_eight(
    writes: object, error: type[ConfigError], message: str
) -> None:
    cache = _cache()
    with pytest.raises(error, match=message) as caught:
        cache.train_after = writes  # type: ignore[assignment]
    assert caught.value.key == "dictionary.train_after"
    assert cache.train_after is None


def test_train_after_needs_a_serializer_with_zstd() -> None:
    cache = _cache("json+aesgcm")
    with pytest.raises(ConfigError, match="add zstd"):
        cache.train_after = 100


def test_a_session_trains_after_the_writes_it_is_told(tmp_path: Path) -> None:
    adapter = requests_mock.Adapter()
    for index in range(31):
        adapter.register_uri("GET", f"https://api.example/{index}", content=_body(index))
    with CachedSession(str(tmp_path / "http"), keys=[KEY], train_dictionary_after=30) as session:
        session.mount("https://api.example/", adapter)
        for index in range(29):
            session.get(f"https://api.example/{index}")
        assert session.cache.dictionaries.current_id() is None
        session.get("https://api.example/29")  # the 30th write: trained after it
        current = session.cache.dictionaries.current_id()
        assert current is not None
        session.get("https://api.example/30")
        stored = session.get("https://api.example/30")
        assert stored.from_cache
        assert f"dict={current}" in _spec(session.cache, stored.cache_key)


def test_the_config_file_sets_train_after(tmp_path: Path) -> None:
    config = tmp_path / "vaultcache.toml"
    config.write_text(f'name = "{tmp_path / "http"}"\n[dictionary]\ntrain_after = 40\n')
    with CachedSession.from_config(config, keys=[KEY]) as session:
        assert session.cache.train_after == 40


def test_rotation_seals_dictionaries_again_so_the_old_key_can_be_retired() -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    first = train(cache, size=4096, seed=1).dictionary_id
    _fill(cache, 60, 5)
    new_key = generate_key()
    rotating = _cache(keys=[new_key, KEY])
    rotating.storage, rotating.chunk_storage = cache.storage, cache.chunk_storage

    report = rotate(rotating)

    assert report.rotated == 65
    retired = _cache(keys=[new_key])
    retired.storage, retired.chunk_storage = cache.storage, cache.chunk_storage
    for index in (0, 61):
        assert f"dict={first}" in _spec(retired, _key(index))
        assert retired.get_response(_key(index)).content == _body(index)
    assert retired.stats.kept == 0


def test_orphan_collection_leaves_dictionaries_alone() -> None:
    cache = _cache()
    _fill(cache, 0, 60)
    dictionary_id = train(cache, size=4096, seed=1).dictionary_id

    cache.collect_orphan_chunks(min_age=-1)

    assert dictionary_key(dictionary_id) in cache.chunk_storage
    assert cache.dictionaries.current_id() == dictionary_id


def _trained_with_entries() -> tuple[BaseCache, str]:
    cache = _cache()
    _fill(cache, 0, 60)
    dictionary_id = train(cache, size=4096, seed=1).dictionary_id
    _fill(cache, 60, 5)
    return cache, dictionary_id


def test_dictionaries_travel_in_export_and_import(tmp_path: Path) -> None:
    cache, dictionary_id = _trained_with_entries()
    archive = tmp_path / "with-dict.tar"

    exported = export_archive(cache, archive)
    target = _cache()
    imported = import_archive(target, archive)

    assert exported.manifest.format_version == 3
    assert exported.manifest.counts.dictionaries == 1
    assert exported.not_exported == 0
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == f"dictionaries/{dictionary_id}"
    assert imported.dictionaries == 1
    assert imported.skipped == ()
    assert target.get_response(_key(62)).content == _body(62)
    assert target.dictionaries.current_id() is None  # the importer's writes are its own


def test_an_archive_without_dictionaries_stays_format_2(tmp_path: Path) -> None:
    cache = _cache()
    _fill(cache, 0, 3)

    assert export_archive(cache, tmp_path / "plain.tar").manifest.format_version == 2


def test_import_replaces_a_damaged_dictionary_and_skips_a_tampered_one(tmp_path: Path) -> None:
    cache, dictionary_id = _trained_with_entries()
    archive = tmp_path / "a.tar"
    export_archive(cache, archive)
    target = _cache()
    target.chunk_storage[dictionary_key(dictionary_id)] = b"damaged"

    assert import_archive(target, archive).dictionaries == 1
    assert target.get_response(_key(61)).content == _body(61)

    stranger = _cache(keys=[generate_key()])
    report = import_archive(stranger, archive)

    assert report.dictionaries == 0
    skipped = {entry.kind for entry in report.skipped}
    assert "dictionaries" in skipped
    assert dictionary_key(dictionary_id) not in stranger.chunk_storage


def test_after_clear_new_entries_name_no_dictionary() -> None:
    cache, _ = _trained_with_entries()

    cache.clear()
    _fill(cache, 0, 1)

    assert _spec(cache, _key(0)) == "msgpack+zstd+aesgcm"
    assert cache.get_response(_key(0)).content == _body(0)


def test_a_filesystem_cache_holds_dictionaries(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "fs")
    cache.serializer = build_pipeline("zstd+aesgcm", keys=KeyRing([KEY]))
    _fill(cache, 0, 40)
    dictionary_id = train(cache, size=4096, seed=1).dictionary_id
    _fill(cache, 40, 2)

    reopened = FileCache(tmp_path / "fs")
    reopened.serializer = build_pipeline("zstd+aesgcm", keys=KeyRing([KEY]))

    assert f"dict={dictionary_id}" in _spec(reopened, _key(41))
    assert reopened.get_response(_key(41)).content == _body(41)
    assert reopened.dictionaries.current_id() == dictionary_id


# -- pruning ----------------------------------------------------------------------------------


def _sqlite_cache(tmp_path: Path) -> BaseCache:
    cache = sqlite_cache(tmp_path / "dicts")
    cache.serializer = build_pipeline("zstd+aesgcm", keys=KeyRing([KEY]))
    return cache


def _retrained(cache: BaseCache) -> tuple[str, str]:
    """Two dictionaries trained one after the other; the first named by entries 60-64 only."""
    _fill(cache, 0, 60)
    first = train(cache, size=4096, seed=1).dictionary_id
    _fill(cache, 60, 5)
    second = train(cache, size=4096, seed=2).dictionary_id
    return first, second


def test_prune_deletes_a_dictionary_no_entry_names_and_keeps_the_rest(tmp_path: Path) -> None:
    cache = _sqlite_cache(tmp_path)
    first, second = _retrained(cache)

    kept = prune(cache, min_age=0)
    _fill(cache, 60, 5)  # the entries naming the first are written again, with the second
    pruned = prune(cache, min_age=0)

    assert kept == PruneReport((), tuple(sorted((first, second))))
    assert pruned == PruneReport((first,), (second,))
    assert dictionary_key(first) not in cache.chunk_storage
    assert cache.dictionaries.current_id() == second
    for index in (0, 62, 64):
        assert cache.get_response(_key(index)).content == _body(index)
    cache.close()


def test_prune_waits_until_the_current_dictionary_is_old_enough(tmp_path: Path) -> None:
    cache = _sqlite_cache(tmp_path)
    first, second = _retrained(cache)
    _fill(cache, 60, 5)

    report = prune(cache)  # the default: an hour

    assert report.deleted == ()
    assert report.held_back == "the current dictionary was trained less than 3600 s ago"
    assert {first, second} <= set(cache.dictionaries.ids())
    cache.close()


class _UntimedStorage(MemoryStorage):
    """A storage that does not record when values were written (BaseStorage's default)."""

    entry_stats = BaseStorage.entry_stats


def test_prune_deletes_nothing_where_storage_times_are_unknown() -> None:
    cache = _cache()
    cache.chunk_storage = _UntimedStorage()
    first, _ = _retrained(cache)
    _fill(cache, 60, 5)

    report = prune(cache, min_age=0)

    assert report.deleted == ()
    assert report.held_back == "_UntimedStorage does not record when a dictionary was stored"
    assert first in set(cache.dictionaries.ids())


def test_prune_keeps_a_dictionary_an_unreadable_entry_names(tmp_path: Path) -> None:
    # Headers are read unverified: an entry that no longer authenticates still keeps the
    # dictionary it names (a forged header can keep one, never delete one).
    cache = _sqlite_cache(tmp_path)
    first, _ = _retrained(cache)
    _fill(cache, 60, 4)
    head = cache.storage[_key(64)]
    cache.storage[_key(64)] = head[:-1] + bytes([head[-1] ^ 1])

    report = prune(cache, min_age=0)

    assert report.deleted == ()
    assert first in report.kept
    cache.close()
