"""Adversarial pass over entry format v2: whatever someone without the key writes into the
store (heads, headers, chunk records), reading is a miss or a typed error, never a crash,
never served, and never steered into decoding before authentication."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultcache import CachedResponse, generate_key
from vaultcache.backends import memory_cache
from vaultcache.cache import BaseCache
from vaultcache.crypto_keys import KeyRing
from vaultcache.entries import parse_header
from vaultcache.errors import DecodeError, EntryError, OldFormatError
from vaultcache.serializers import build_pipeline

RING = KeyRing([generate_key()])
BODY = bytes(range(256)) * 5000  # 1.2 MiB: two chunks


def _cache() -> BaseCache:
    cache = memory_cache()
    cache.serializer = build_pipeline("signed+zstd+aesgcm", keys=RING)
    return cache


def _stored() -> tuple[BaseCache, bytes]:
    cache = _cache()
    cache.save_response(CachedResponse(url="https://example.org/", content=BODY, cache_key="k"))
    return cache, cache.storage["k"]


CACHE, HEAD = _stored()
LINE_END = HEAD.index(b"\n") + 1


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_any_bytes_as_a_header_parse_or_fail_typed(data: bytes) -> None:
    with contextlib.suppress(OldFormatError, DecodeError):
        parse_header(data)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_as_a_head_are_a_miss_never_an_exception(data: bytes) -> None:
    cache = _cache()
    cache.storage["k"] = data
    assert cache.get_response("k") is None


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_edit_of_a_header_line_is_refused_or_kept(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, LINE_END - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != HEAD[position]))
    edited = HEAD[:position] + bytes([value]) + HEAD[position + 1 :]
    cache = _cache()
    for key, record in CACHE.chunk_storage.items():  # type: ignore[union-attr]
        cache.chunk_storage[key] = record  # type: ignore[index]
    cache.storage["k"] = edited

    with pytest.raises(EntryError):
        _read_whole(cache, edited)
    assert cache.get_response("k") is None


def _read_whole(cache: BaseCache, head: bytes) -> None:
    cache.read_entry("k", head).load_body()


@pytest.mark.parametrize("count", ["1", "3", "99999999"])
def test_a_header_claiming_another_chunk_count_fails_before_any_chunk_is_read(count: str) -> None:
    line = HEAD[:LINE_END].decode()
    layout = line.split(" body=")[1].strip()
    forged_layout = "chunks/" + count + "/" + layout.split("/")[2]
    forged = HEAD.replace(f"body={layout}".encode(), f"body={forged_layout}".encode())
    cache = _cache()
    cache.storage["k"] = forged

    with pytest.raises(EntryError):
        cache.read_entry("k", forged)  # the metadata record authenticates the whole line


def test_a_chunk_of_another_entry_with_the_same_key_is_refused() -> None:
    cache, _ = _stored()
    old_chunks = dict(cache.chunk_storage.items())  # type: ignore[union-attr]
    cache.save_response(CachedResponse(url="https://example.org/", content=BODY, cache_key="k"))
    new_head = cache.storage["k"]
    entry_id = parse_header(new_head)[0].entry_id
    # Put the old entry's first chunk where the new entry's first chunk is.
    (old_first,) = [v for k, v in old_chunks.items() if k.endswith("/0")]
    cache.chunk_storage[f"k/{entry_id}/0"] = old_first  # type: ignore[index]

    assert cache.get_response("k") is not None  # the metadata is fine...
    assert not cache.load_body(cache.get_response("k"))  # ...the body is not: a miss
    assert "k" not in cache.storage  # proven damaged, and deleted
