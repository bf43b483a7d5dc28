"""The storage contract's tests of chunked bodies: a storage holding the chunks of large bodies.

A cache stores a body larger than :data:`~vaultcache.entries.INLINE_LIMIT` as sealed chunks of
:data:`~vaultcache.entries.CHUNK_SIZE` in its chunk storage, under keys that contain ``/``
(``<cache key>/<entry id>/<index>``), and only the entry's small head in its response
storage. These tests build a :class:`~vaultcache.cache.BaseCache` on two storages of the kind
under test (see :meth:`ChunkTests.chunk_cache_storages`), with the ``zstd+aesgcm`` serializer,
and store a body of two and a half chunks in it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from vaultcache.backends.base import BaseStorage
from vaultcache.cache import BaseCache
from vaultcache.crypto_keys import KeyRing, generate_key
from vaultcache.entries import CHUNK_SIZE, INLINE_LIMIT, chunk_keys
from vaultcache.models import CachedResponse
from vaultcache.testing.storage_base import StorageTests

__all__ = ["ChunkTests"]

#: The cache key the chunked entries are stored under (a '/' in it, as in a URL).
_KEY = "https://example.org/big/body?page=1"
#: Bytes a sealed chunk may hold beyond its plaintext: zstd's frame and block headers for
#: data it cannot compress, and aesgcm's nonce and tag.
_OVERHEAD = 4096


class ChunkTests(StorageTests):
    """A cache's chunk storage on this storage: chunked bodies stored, read, replaced, deleted.

    ``chunk_body_size`` is the size of the body stored (by default two and a half chunks, so
    three chunk records, the last one short).
    """

    chunk_body_size: ClassVar[int] = 2 * CHUNK_SIZE + CHUNK_SIZE // 2

    def chunk_cache_storages(self, tmp_path: Path) -> tuple[BaseStorage, BaseStorage]:
        """The response storage and the chunk storage of a cache kept under `tmp_path`.

        By default two storages from :meth:`make_storage`, in the subdirectories
        ``responses`` and ``chunks`` of `tmp_path`, which must not see each other's entries;
        called again with the same `tmp_path`, it must give storages at the same places.
        Override it for a storage that cannot keep two places apart.
        """
        places = tmp_path / "responses", tmp_path / "chunks"
        for place in places:
            place.mkdir(exist_ok=True)
        return self.make_storage(places[0]), self.make_storage(places[1])

    @pytest.fixture
    def chunk_key_ring(self) -> KeyRing:
        """The one key the chunk tests seal with."""
        return KeyRing([generate_key()])

    @pytest.fixture
    def chunk_cache(self, tmp_path: Path, chunk_key_ring: KeyRing) -> Iterator[BaseCache]:
        """A cache whose responses and chunks are two storages of this kind (closed after)."""
        cache = self.open_chunk_cache(tmp_path, chunk_key_ring)
        try:
            yield cache
        finally:
            cache.close()

    def open_chunk_cache(self, tmp_path: Path, ring: KeyRing) -> BaseCache:
        """A cache on the storages of :meth:`chunk_cache_storages`, writing ``zstd+aesgcm``."""
        responses, chunks = self.chunk_cache_storages(tmp_path)
        return BaseCache(
            "chunk-contract",
            responses=responses,
            chunks=chunks,
            serializer="zstd+aesgcm",
            key_ring=ring,
        )

    def chunk_body(self, size: int | None = None, *, seed: int = 12) -> bytes:
        """`size` bytes (default ``chunk_body_size``) that zstd cannot shrink, from `seed`."""
        rng = random.Random(seed)  # noqa: S311 - reproducible test data
        return rng.randbytes(self.chunk_body_size if size is None else size)

    # -- the tests ------------------------------------------------------------------------------

    def test_a_chunked_body_round_trips(self, chunk_cache: BaseCache) -> None:
        body = self.chunk_body()
        _save(chunk_cache, body)
        stored = _chunk_values(chunk_cache)
        head = chunk_cache.storage[_KEY]

        assert _content(chunk_cache) == body
        assert sorted(stored) == sorted(chunk_keys(_KEY, head))
        assert len(stored) == -(-len(body) // CHUNK_SIZE)
        assert list(chunk_cache.storage) == [_KEY]
        assert len(head) < INLINE_LIMIT  # the head holds no body
        for key, value in stored.items():
            assert len(value) < CHUNK_SIZE + _OVERHEAD, f"chunk {key!r}: {len(value)} bytes"
        assert sum(map(len, stored.values())) >= len(body)  # random bytes: nothing shrank

    def test_a_chunked_body_streams(self, chunk_cache: BaseCache) -> None:
        body = self.chunk_body()
        _save(chunk_cache, body)
        response = chunk_cache.get_response(_KEY)
        assert response is not None
        assert not response.body_loaded  # read from the chunk storage as it streams

        pieces = list(response.iter_content(100_000))

        assert b"".join(pieces) == body
        assert max(map(len, pieces)) <= 100_000

    def test_a_smaller_body_replaces_every_chunk(self, chunk_cache: BaseCache) -> None:
        _save(chunk_cache, self.chunk_body())
        smaller = self.chunk_body(INLINE_LIMIT + 1000, seed=13)  # one chunk
        _save(chunk_cache, smaller)
        one_chunk = _chunk_values(chunk_cache)
        smaller_head = chunk_cache.storage[_KEY]
        assert _content(chunk_cache) == smaller
        inline = self.chunk_body(1000, seed=14)
        _save(chunk_cache, inline)

        assert list(one_chunk) == chunk_keys(_KEY, smaller_head)  # none of the first body's
        assert len(one_chunk) == 1
        assert _chunk_values(chunk_cache) == {}  # an inline body needs no chunk
        assert _content(chunk_cache) == inline

    def test_deleting_the_entry_deletes_its_chunks(self, chunk_cache: BaseCache) -> None:
        _save(chunk_cache, self.chunk_body())
        _save(chunk_cache, self.chunk_body(INLINE_LIMIT + 1, seed=15), key="kept")
        kept = _chunk_values(chunk_cache)
        kept = {key: value for key, value in kept.items() if key.startswith("kept/")}

        assert chunk_cache.delete(_KEY) == 1

        assert list(chunk_cache.storage) == ["kept"]
        assert _chunk_values(chunk_cache) == kept
        assert len(kept) == 1
        assert chunk_cache.get_response(_KEY) is None

    def test_a_new_instance_reads_a_chunked_body(
        self, tmp_path: Path, chunk_key_ring: KeyRing
    ) -> None:
        if not self.persistent:
            pytest.skip("storage is not persistent")
        body = self.chunk_body()
        first = self.open_chunk_cache(tmp_path, chunk_key_ring)
        try:
            _save(first, body)
        finally:
            first.close()
        second = self.open_chunk_cache(tmp_path, chunk_key_ring)
        try:
            assert _content(second) == body
            assert chunk_keys(_KEY, second.storage[_KEY])  # still chunked
        finally:
            second.close()


def _save(cache: BaseCache, body: bytes, key: str = _KEY) -> None:
    response = CachedResponse(
        url="https://example.org/big/body", status_code=200, content=body, cache_key=key
    )
    cache.save_response(response)


def _content(cache: BaseCache, key: str = _KEY) -> bytes:
    response = cache.get_response(key)
    assert response is not None, f"entry {key!r} does not read back"
    content: bytes = response.content
    return content


def _chunk_values(cache: BaseCache) -> dict[str, bytes]:
    """Every value of the cache's chunk storage, by key."""
    chunks = cache.chunk_storage
    assert chunks is not None
    return {key: chunks[key] for key in chunks}
