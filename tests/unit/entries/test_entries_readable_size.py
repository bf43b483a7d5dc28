"""A record that a stage could not read back within its ``max_size`` is refused when stored.

The zstd stage refuses, on reading, to decompress more than its ``max_size``; what it
decompresses is what it was given on writing: one chunk of a chunked body, the whole encoded
response for an inline body, a chunk with its signature under ``signed+zstd``. Each such
entry is refused at store time (EncodeError, logged by a session), and nothing of it is
stored; one just within the limit is stored and reads back. A streamed body whose head cannot
be stored leaves none of its chunks either. The same holds for chunk records a writer keeps
as they were sealed (a stored response saved again, its body unread: they are read back to be
checked), and for text given to a bounded stage (counted in UTF-8 bytes).
"""

from __future__ import annotations

import logging
import random
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import requests_mock

from vaultcache import (
    BackendError,
    CachedResponse,
    EncodeError,
    KeyRing,
    SizeLimitError,
    generate_key,
)
from vaultcache.backends.memory import MemoryStorage
from vaultcache.cache import BaseCache
from vaultcache.entries import CHUNK_SIZE, INLINE_LIMIT, parse_header
from vaultcache.serializers.builder import build_pipeline
from vaultcache.serializers.pipeline import SerializerPipeline
from vaultcache.session import CachedSession

#: The zstd stage's max_size in these tests: a body this large is one chunk.
LIMIT = INLINE_LIMIT + 50_000
URL = "https://example.org/body"


def body_of(size: int, seed: int = 7) -> bytes:
    """`size` random bytes: zstd cannot make them smaller."""
    return random.Random(seed).randbytes(size)


def make_cache(spec: str = "zstd+aesgcm", limit: int = LIMIT) -> BaseCache:
    ring = KeyRing([generate_key()])
    pipeline = build_pipeline(spec, keys=ring, options={"zstd": {"max_size": limit}})
    return BaseCache(
        responses=MemoryStorage(), chunks=MemoryStorage(), serializer=pipeline, key_ring=ring
    )


def save(cache: BaseCache, body: bytes, key: str = "k") -> None:
    cache.save_response(CachedResponse(url=URL, status_code=200, content=body, cache_key=key))


def stored_keys(cache: BaseCache) -> tuple[list[str], list[str]]:
    assert cache.chunk_storage is not None
    return sorted(cache.storage), sorted(cache.chunk_storage)


# -- the cache, directly ------------------------------------------------------------------------


def test_a_chunk_just_within_max_size_is_stored() -> None:
    cache = make_cache()
    body = body_of(LIMIT)
    save(cache, body)

    header, _ = parse_header(cache.storage["k"])
    assert (header.body.mode, header.body.count) == ("chunks", 1)
    response = cache.get_response("k")
    assert response is not None
    assert response.content == body


def test_a_chunk_beyond_max_size_is_refused_and_nothing_is_stored() -> None:
    cache = make_cache()
    save(cache, b"the previous entry")

    with pytest.raises(EncodeError, match=f"stage 'zstd'.*max_size {LIMIT}") as caught:
        save(cache, body_of(LIMIT + 1))

    assert caught.value.stage == "zstd"
    assert stored_keys(cache) == (["k"], [])  # no chunk left; the previous entry stands
    previous = cache.get_response("k")
    assert previous is not None
    assert previous.content == b"the previous entry"


def test_one_chunk_too_large_among_several_is_refused() -> None:
    # Every chunk but the last is CHUNK_SIZE: a limit of one byte less refuses the body,
    # one of exactly CHUNK_SIZE takes it.
    body = body_of(2 * CHUNK_SIZE + 10)
    refusing = make_cache(limit=CHUNK_SIZE - 1)
    with pytest.raises(EncodeError, match="max_size"):
        save(refusing, body)
    assert stored_keys(refusing) == ([], [])

    taking = make_cache(limit=CHUNK_SIZE)
    save(taking, body)
    response = taking.get_response("k")
    assert response is not None
    assert response.content == body
    assert len(stored_keys(taking)[1]) == 3


def test_what_a_signature_adds_to_a_chunk_counts() -> None:
    # signed+zstd compresses each chunk with its signature: a chunk of CHUNK_SIZE is more than
    # a zstd stage of max_size CHUNK_SIZE could read back, so the body is refused.
    cache = make_cache("signed+zstd", limit=CHUNK_SIZE)
    with pytest.raises(EncodeError, match="max_size"):
        save(cache, body_of(CHUNK_SIZE + 10))
    assert stored_keys(cache) == ([], [])


def test_an_inline_body_is_bounded_with_the_rest_of_its_record() -> None:
    # An inline body is encoded with the response's other fields, in one record that the zstd
    # stage must read back whole: a body just under max_size does not fit.
    limit = 10_000
    cache = make_cache(limit=limit)
    with pytest.raises(EncodeError, match=f"max_size {limit}"):
        save(cache, body_of(limit - 10))
    assert stored_keys(cache) == ([], [])

    body = body_of(limit - 1000)
    save(cache, body)
    response = cache.get_response("k")
    assert response is not None
    assert response.content == body


# -- through a session --------------------------------------------------------------------------


@pytest.fixture
def session(make_session: Callable[..., CachedSession]) -> CachedSession:
    made = make_session(
        backend="memory", serializer="zstd+aesgcm", serializer_options={"zstd": {"max_size": LIMIT}}
    )
    adapter = requests_mock.Adapter()
    made.mount("https://", adapter)
    adapter.register_uri("GET", URL + "/over", content=body_of(LIMIT + 1))
    adapter.register_uri("GET", URL + "/within", content=body_of(LIMIT))
    adapter.register_uri("GET", URL + "/over-streamed", content=body_of(LIMIT + 1, seed=8))
    return made


def session_stored(session: CachedSession) -> tuple[list[str], list[str]]:
    chunks = session.cache.chunk_storage
    assert chunks is not None
    return sorted(session.cache.storage), sorted(chunks)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_session_logs_a_body_beyond_max_size_and_stores_nothing(
    session: CachedSession, caplog: pytest.LogCaptureFixture, stream: bool
) -> None:
    url = URL + ("/over-streamed" if stream else "/over")
    expected = body_of(LIMIT + 1, seed=8 if stream else 7)

    with caplog.at_level(logging.WARNING):
        response = session.get(url, stream=stream)
        content = b"".join(response.iter_content(64 * 1024)) if stream else response.content

    assert content == expected  # the caller gets the body; only the cache refused it
    assert not response.from_cache
    assert session_stored(session) == ([], [])
    (record,) = [r for r in caplog.records if "not stored" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert f"max_size {LIMIT}" in record.getMessage()
    again = session.get(url)
    assert not again.from_cache


def test_a_session_stores_a_body_within_max_size(session: CachedSession) -> None:
    first = session.get(URL + "/within")
    hit = session.get(URL + "/within")

    assert not first.from_cache
    assert hit.from_cache
    assert hit.content == body_of(LIMIT)
    stored, chunks = session_stored(session)
    assert len(stored) == 1
    assert len(chunks) == 1


class UnwritableStorage(MemoryStorage):
    """A response storage that refuses every write."""

    def __setitem__(self, key: str, value: bytes) -> None:
        raise BackendError("read-only", backend="memory")


def test_a_streamed_body_whose_head_is_not_stored_leaves_no_chunk(
    make_session: Callable[..., CachedSession], caplog: pytest.LogCaptureFixture
) -> None:
    chunks = MemoryStorage()
    cache = BaseCache(responses=UnwritableStorage(), chunks=chunks)
    session = make_session(backend=cache)
    adapter = requests_mock.Adapter()
    session.mount("https://", adapter)
    body = body_of(CHUNK_SIZE + 10)  # two chunks: one stored while read, one at the end
    adapter.register_uri("GET", URL, content=body)

    with caplog.at_level(logging.WARNING):
        response = session.get(URL, stream=True)
        assert b"".join(response.iter_content(64 * 1024)) == body

    assert list(chunks) == []
    assert any("read-only" in record.getMessage() for record in caplog.records)


# -- chunks adopted from a stored entry ---------------------------------------------------------
# A stored response saved again with its body unread keeps its sealed chunk records (same spec
# and key): nothing seals them again. Here another writer stored them, with the same spec and
# key but a larger max_size.


def sharing_caches(spec: str, limit: int) -> tuple[BaseCache, BaseCache]:
    """Two caches on one store, with one spec and key ring: the first has a zstd max_size of
    4 MiB, the second one of `limit`."""
    ring = KeyRing([generate_key()])
    responses, chunks = MemoryStorage(), MemoryStorage()

    def cache(size: int) -> BaseCache:
        pipeline = build_pipeline(spec, keys=ring, options={"zstd": {"max_size": size}})
        return BaseCache(responses=responses, chunks=chunks, serializer=pipeline, key_ring=ring)

    return cache(4 * CHUNK_SIZE), cache(limit)


def stored_unread(cache: BaseCache, key: str = "k") -> CachedResponse:
    response = cache.get_response(key)
    assert response is not None
    assert not response.body_loaded
    return response


@pytest.mark.parametrize("new_key", ["k", "copy"], ids=["same-key", "new-key"])
def test_adopted_chunks_beyond_max_size_are_refused(new_key: str) -> None:
    writer, adopter = sharing_caches("zstd+aesgcm", limit=CHUNK_SIZE - 1)
    body = body_of(2 * CHUNK_SIZE + 10)
    save(writer, body)
    before = stored_keys(writer)
    response = stored_unread(adopter)

    with pytest.raises(EncodeError, match=f"stage 'zstd'.*max_size {CHUNK_SIZE - 1}") as caught:
        adopter.save_response(response, new_key)

    assert caught.value.stage == "zstd"
    assert stored_keys(writer) == before  # no chunk left; the entry stored before stands
    again = writer.get_response("k")
    assert again is not None
    assert again.content == body


def test_adopted_chunks_within_max_size_are_kept_as_they_are() -> None:
    writer, adopter = sharing_caches("zstd+aesgcm", limit=CHUNK_SIZE)
    body = body_of(2 * CHUNK_SIZE + 10)
    save(writer, body)
    assert adopter.chunk_storage is not None
    records = dict(adopter.chunk_storage.items())
    response = stored_unread(adopter)
    response.reason = "Adopted"

    adopter.save_response(response)

    assert dict(adopter.chunk_storage.items()) == records  # not sealed again
    again = adopter.get_response("k")
    assert again is not None
    assert (again.reason, again.content) == ("Adopted", body)


def test_what_a_signature_adds_to_an_adopted_chunk_counts() -> None:
    # Under signed+zstd a chunk of CHUNK_SIZE is compressed with its signature: more than a zstd
    # stage of max_size CHUNK_SIZE could read back, though the chunk itself is not.
    writer, adopter = sharing_caches("signed+zstd", limit=CHUNK_SIZE)
    save(writer, body_of(CHUNK_SIZE + 10))
    before = stored_keys(writer)
    response = stored_unread(adopter)

    with pytest.raises(EncodeError, match=f"stage 'zstd'.*max_size {CHUNK_SIZE}"):
        adopter.save_response(response, "copy")

    assert stored_keys(writer) == before


def test_a_damaged_adopted_chunk_is_left_for_the_reader() -> None:
    # Only a stage's max_size refuses an adopted chunk; one that fails to authenticate is
    # adopted as before, and the first read of the new entry finds it damaged.
    writer, adopter = sharing_caches("zstd+aesgcm", limit=CHUNK_SIZE)
    save(writer, body_of(2 * CHUNK_SIZE + 10))
    chunks = adopter.chunk_storage
    assert chunks is not None
    (last,) = [key for key in chunks if key.endswith("/2")]
    chunks[last] = chunks[last][:-1] + bytes([chunks[last][-1] ^ 1])

    adopter.save_response(stored_unread(adopter), "copy")

    copy = stored_unread(adopter, "copy")
    assert not adopter.load_body(copy)
    assert adopter.get_response("copy") is None


# -- a bounded stage given text -----------------------------------------------------------------


class TextFormat:
    """A format stage of a hand-built pipeline that gives text: msgpack's bytes as latin-1."""

    name = "textformat"

    def __init__(self) -> None:
        self._format = build_pipeline("zstd").stages[0]

    def dumps(self, value: Any) -> str:
        return str(self._format.dumps(value), "latin-1")

    def loads(self, text: str) -> Any:
        return self._format.loads(text.encode("latin-1"))


class TextZlib:
    """Compresses text; ``loads`` gives back at most ``max_size`` bytes of it (UTF-8)."""

    name = "textzlib"

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size

    def dumps(self, text: str) -> bytes:
        return zlib.compress(text.encode("utf-8"))

    def loads(self, data: bytes) -> str:
        plain = zlib.decompressobj().decompress(data, self.max_size + 1)
        if len(plain) > self.max_size:
            raise SizeLimitError(self.name, self.max_size)
        return plain.decode("utf-8")


def test_text_given_to_a_bounded_stage_is_bounded_too() -> None:
    limit = 10_000
    pipeline = SerializerPipeline([TextFormat(), TextZlib(limit)])
    cache = BaseCache(responses=MemoryStorage(), chunks=MemoryStorage(), serializer=pipeline)

    with pytest.raises(EncodeError, match=f"stage 'textzlib'.*max_size {limit}"):
        save(cache, body_of(limit + 1))
    assert stored_keys(cache) == ([], [])

    body = body_of(limit // 4)
    save(cache, body)
    response = cache.get_response("k")
    assert response is not None
    assert response.content == body
