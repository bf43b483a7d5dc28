"""An entry is bound to its cache key, its pipeline, its key and its own timestamps.

The attacker throughout can write the store (sqlite rows, entry files) but holds no key.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from security_support import body_for, flip

from vaultcache import CachedResponse, EntryError, KeyRing, generate_key
from vaultcache.serializers import build_pipeline

#: Built-in specs with a key, one per authenticating stage and a few full pipelines.
KEYED_SPECS = (
    "aesgcm",
    "fernet",
    "signed",
    "zstd+aesgcm",
    "signed+zstd+fernet",
    "json+gzip+signed",
    "pickle+lzma+aesgcm",
)
RING = KeyRing([generate_key()])
PERSISTENT = ("sqlite", "filesystem")


def _response(content: bytes = b"secret body") -> CachedResponse:
    return CachedResponse(
        url="https://example.org/a", status_code=200, content=content, cache_key="key-a"
    )


@pytest.mark.parametrize("backend", PERSISTENT)
def test_entry_copied_under_another_key_is_a_miss(
    make_session: Any, origin: Any, backend: str
) -> None:
    """Attack: with write access to the store, copy entry A's bytes under key B."""
    session = make_session(backend)
    key_a = session.get(origin.url("/bind/a")).cache_key
    key_b = session.get(origin.url("/bind/b")).cache_key
    session.cache.storage[key_b] = session.cache.storage[key_a]

    response_b = session.get(origin.url("/bind/b"))

    assert response_b.from_cache is False
    assert response_b.content == body_for("/bind/b")
    assert session.cache.stats.discarded == 1
    assert session.get(origin.url("/bind/a")).content == body_for("/bind/a")


def test_redirect_record_pointing_at_another_entry_is_a_miss(
    make_session: Any, origin: Any
) -> None:
    """Attack: write a redirect record that maps request B's key to entry A's key."""
    session = make_session()
    key_a = session.get(origin.url("/bind/redirect-a")).cache_key
    key_b = session.create_key(requests.Request("GET", origin.url("/bind/redirect-b")).prepare())
    session.cache.redirect_storage[key_b] = key_a.encode()

    response_b = session.get(origin.url("/bind/redirect-b"))

    assert response_b.content == body_for("/bind/redirect-b")


@pytest.mark.parametrize(("written", "read"), list(itertools.permutations(KEYED_SPECS, 2)))
def test_entry_replayed_under_another_spec_is_refused(written: str, read: str) -> None:
    """Attack: replay an entry written by one pipeline to a reader with another one."""
    entry = build_pipeline(written, keys=RING).dumps(_response())
    with pytest.raises(EntryError):
        build_pipeline(read, keys=RING).loads(entry)


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("json+zstd+aesgcm", "msgpack+zstd+aesgcm"),  # another format, the same later stages
        ("aesgcm+signed", "aesgcm"),  # a stage dropped from the header
        ("signed+zstd+fernet", "signed+gzip+fernet"),  # another codec
    ],
)
def test_header_changed_to_name_another_spec_is_refused(
    make_session: Any, origin: Any, written: str, named: str
) -> None:
    """Attack: rewrite an entry's header so that another pipeline decodes its records. The
    header is authenticated with the metadata record, so the entry fails and is deleted."""
    session = make_session(serializer=written)
    url = origin.url(f"/bind/header-{named}")
    key = session.get(url).cache_key
    stored = session.cache.storage[key]
    canonical = session.cache.serializer.spec
    session.cache.storage[key] = stored.replace(
        f"spec={canonical} ".encode(), f"spec={build_pipeline(named, keys=RING).spec} ".encode()
    )

    assert session.get(url).from_cache is False
    assert session.cache.stats.discarded == 1
    assert session.get(url).from_cache


def test_entry_read_by_a_session_with_another_spec_is_served(
    make_session: Any, origin: Any, cache_path: str, key: str
) -> None:
    """A store written under one spec is read by a session configured with another: the
    entry names its own spec and key, and nothing is lost or refetched."""
    make_session(serializer="signed+zstd+fernet").get(origin.url("/bind/spec"))
    reader = make_session(cache_name=cache_path, serializer="zstd+aesgcm", keys=[key])

    response = reader.get(origin.url("/bind/spec"))

    assert response.from_cache is True
    assert response.content == body_for("/bind/spec")
    assert reader.cache.stats.discarded == 0


def test_entry_written_by_a_retired_key_is_a_miss_not_an_error(
    make_session: Any, origin: Any, cache_path: str
) -> None:
    """Attack: keep serving entries written by a key that has been retired (or stolen)."""
    old, new = generate_key(), generate_key()
    make_session(keys=[old]).get(origin.url("/bind/retired"))
    rotated = make_session(cache_name=cache_path, keys=[new, old])
    assert rotated.get(origin.url("/bind/retired")).from_cache  # still read after rotation

    rotated.cache.storage.clear()
    make_session(cache_name=cache_path, keys=[old]).get(origin.url("/bind/retired"))
    retired = make_session(cache_name=cache_path, keys=[new])
    response = retired.get(origin.url("/bind/retired"))

    assert response.from_cache is False
    assert response.content == body_for("/bind/retired")
    assert retired.cache.stats.discarded == 0  # kept until replaced: the old key reads it
    assert retired.cache.stats.kept >= 1
    assert retired.get(origin.url("/bind/retired")).from_cache  # rewritten under the new key


@pytest.mark.parametrize("backend", PERSISTENT)
def test_rollback_serves_only_the_older_authentic_response_within_its_lifetime(
    make_session: Any, origin: Any, clock: Any, backend: str
) -> None:
    """Attack: write back an older, valid entry (rollback). Possible, and documented as
    such: it is served only as that older response, and only until its authenticated expiry.
    """
    session = make_session(backend, expire_after=60)
    url = origin.url("/bind/rollback")
    first = session.get(url)
    created = clock()
    old_bytes = session.cache.storage[first.cache_key]
    clock.advance(30)
    session.get(url, force_refresh=True)
    assert session.cache.storage[first.cache_key] != old_bytes

    session.cache.storage[first.cache_key] = old_bytes  # the rollback
    rolled_back = session.get(url)

    assert rolled_back.from_cache
    assert rolled_back.created_at == created  # the older response, as it was
    assert rolled_back.expires == created + timedelta(seconds=60)
    clock.advance(31)  # past the older entry's authenticated expiry
    session.cache.storage[first.cache_key] = old_bytes
    assert session.get(url).from_cache is False


@pytest.mark.parametrize("spec", KEYED_SPECS)
def test_every_byte_of_an_entry_is_authenticated(spec: str) -> None:
    """Attack: rewrite any byte of an entry, e.g. its creation or expiry time, to extend
    its life. Timestamps are inside the authenticated data, so every change is refused.
    """
    pipeline = build_pipeline(spec, keys=RING)
    entry = pipeline.dumps(_response())
    for position in range(len(entry)):
        tampered = entry[:position] + bytes([entry[position] ^ 0xFF]) + entry[position + 1 :]
        with pytest.raises(EntryError):
            pipeline.loads(tampered)


@pytest.mark.parametrize("spec", KEYED_SPECS)
def test_every_single_bit_flip_is_refused(spec: str) -> None:
    """Attack: flip any single bit of a full entry (for each keyed built-in spec)."""
    pipeline = build_pipeline(spec, keys=RING)
    entry = pipeline.dumps(_response(os.urandom(64)))
    for position in range(len(entry)):
        for bit in range(8):
            with pytest.raises(EntryError):
                pipeline.loads(flip(entry, position, bit))


@pytest.mark.parametrize("spec", KEYED_SPECS)
def test_every_truncation_and_extension_is_refused(spec: str) -> None:
    """Attack: truncate an entry at any length, or append bytes to it."""
    pipeline = build_pipeline(spec, keys=RING)
    entry = pipeline.dumps(_response())
    for length in range(len(entry)):
        with pytest.raises(EntryError):
            pipeline.loads(entry[:length])
    for suffix in (b"\x00", b"=", b"==", entry[-16:], entry):
        with pytest.raises(EntryError):
            pipeline.loads(entry + suffix)


@pytest.mark.parametrize("backend", PERSISTENT)
def test_truncated_entry_in_the_store_is_a_miss(
    make_session: Any, origin: Any, backend: str
) -> None:
    """Attack: truncate an entry in the store."""
    session = make_session(backend)
    key = session.get(origin.url("/bind/truncated")).cache_key
    session.cache.storage[key] = session.cache.storage[key][:-1]

    response = session.get(origin.url("/bind/truncated"))

    assert response.from_cache is False
    assert response.content == body_for("/bind/truncated")
    assert session.cache.stats.discarded == 1


def test_storage_metadata_cannot_extend_an_entrys_life_sqlite(
    make_session: Any, origin: Any, clock: Any, cache_path: str
) -> None:
    """Attack: reset the sqlite row's created/accessed columns to make an expired entry new."""
    session = make_session(expire_after=60)
    url = origin.url("/bind/meta-sqlite")
    session.get(url)
    clock.advance(120)
    with closing(sqlite3.connect(cache_path + ".sqlite")) as db, db:
        db.execute("UPDATE responses SET created = 9e12, accessed = 9e12")

    assert session.get(url).from_cache is False


def test_file_times_cannot_extend_an_entrys_life_filesystem(
    make_session: Any, origin: Any, clock: Any, cache_path: str
) -> None:
    """Attack: touch an entry file so it looks new, to make an expired entry fresh again."""
    session = make_session("filesystem", expire_after=60)
    url = origin.url("/bind/meta-files")
    session.get(url)
    clock.advance(120)
    for path in Path(cache_path, "responses").iterdir():
        os.utime(path, (4e9, 4e9))

    assert session.get(url).from_cache is False


def test_entry_from_another_cache_with_the_same_key_is_accepted_only_as_itself(
    make_session: Any, origin: Any, tmp_path: Path, key: str
) -> None:
    """Attack: copy an entry from another cache that shares the key ring and the spec.

    The entry is authentic and bound to its cache key, so it is served only for the same
    request it was written for (a copy across caches is a rollback, not a forgery).
    """
    other = make_session(cache_name=str(tmp_path / "other"))
    key_a = other.get(origin.url("/bind/cross")).cache_key
    target = make_session()
    target.cache.storage[key_a] = other.cache.storage[key_a]

    assert target.get(origin.url("/bind/cross")).content == body_for("/bind/cross")
