"""The reader policy: an entry's header chooses what to try, never what to trust.

Someone who can write the store but has no key can plant any header; what they plant is never
served, and what they cannot prove damaged is never deleted either.
"""

from __future__ import annotations

import pytest

from vaultcache import CachedResponse, generate_key
from vaultcache.backends.memory import MemoryStorage
from vaultcache.cache import BaseCache
from vaultcache.cli import scan
from vaultcache.crypto_keys import KeyRing
from vaultcache.entries import EntryWriter, parse_header
from vaultcache.entries.stored import frame
from vaultcache.errors import SizeLimitError
from vaultcache.serializers import build_pipeline

KEY = generate_key()


def _cache(spec: str = "zstd+aesgcm", chunks: MemoryStorage | None = None) -> BaseCache:
    cache = BaseCache(
        "policy",
        responses=MemoryStorage(),
        redirects=MemoryStorage(),
        chunks=chunks if chunks is not None else MemoryStorage(),
    )
    cache.serializer = build_pipeline(spec, keys=KeyRing([KEY]))
    return cache


def _planted(spec: str, key: str | None = None, body: bytes = b"planted") -> bytes:
    """A head written by someone with their own pipeline (and key), not the cache's."""
    keys = KeyRing([key]) if key else None
    response = CachedResponse(
        url="https://bank.example/", status_code=200, content=body, cache_key="k"
    )
    writer = EntryWriter(build_pipeline(spec, keys=keys), response, None)
    writer.write(body)
    return writer.head()


@pytest.mark.parametrize("spec", ["msgpack", "json+zstd", "zstd", "signed+zstd"])
def test_an_unauthenticated_entry_planted_for_an_authenticating_cache_is_never_served(
    spec: str,
) -> None:
    cache = _cache()
    cache.storage["k"] = planted = _planted(spec, key=KEY if "signed" in spec else None)

    assert cache.get_response("k") is None
    assert cache.storage["k"] == planted  # a refusal, not proof of damage: kept
    assert cache.stats.kept == 1


def test_an_unauthenticated_cache_reads_unauthenticated_entries_of_other_specs() -> None:
    cache = _cache("json")
    cache.storage["k"] = _planted("msgpack+zstd")

    response = cache.get_response("k")

    assert response is not None
    assert response.content == b"planted"


def test_an_entry_under_a_stranger_key_is_kept_unread() -> None:
    cache = _cache()
    cache.storage["k"] = _planted("zstd+aesgcm", key=generate_key())

    assert cache.get_response("k") is None
    assert "k" in cache.storage
    assert cache.stats.kept == 1


@pytest.mark.parametrize("spec", ["zstd+aesgcm", "zstd"])
@pytest.mark.parametrize(
    "option", ["level=abc", "level=99", "nosuch=1", "max_size=5", "max_size=1099511627776"]
)
def test_a_header_naming_stage_options_is_kept_unread_never_raised(spec: str, option: str) -> None:
    """Attack: plant a header whose spec gives a stage options (a bound above the reader's,
    or ones the stage refuses); the header is not authenticated when the pipeline is built."""
    cache = _cache(spec)
    key = "-" if spec == "zstd" else KeyRing([KEY]).primary.id.hex()
    stages = spec.replace("zstd", f"zstd({option})")
    line = f"vaultcache/2 spec=msgpack+{stages} key={key} entry={'0' * 32} body=inline\n"
    cache.storage["k"] = line.encode() + frame(b"\x28\xb5\x2f\xfd" + bytes(40))

    assert cache.get_response("k") is None
    assert "k" in cache.storage
    assert cache.stats.kept == 1


@pytest.mark.parametrize("body_size", [40_000, 3 * 1024 * 1024])  # inline; three chunks
def test_an_entry_larger_than_this_readers_bound_is_kept_for_a_larger_one(
    body_size: int,
) -> None:
    writer = _cache()
    body = bytes(range(256)) * (body_size // 256)
    writer.save_response(CachedResponse(url="https://e.org/", content=body, cache_key="k"))
    stored = dict(writer.storage), dict(writer.chunk_storage or {})
    small = _cache()  # the same entries, read with zstd's max_size at 20,000 bytes
    small.serializer = build_pipeline(
        "zstd+aesgcm", keys=KeyRing([KEY]), options={"zstd": {"max_size": 20_000}}
    )
    small.storage, small.chunk_storage = writer.storage, writer.chunk_storage

    response = small.get_response("k")
    if response is not None:  # a chunked body: its metadata fits, its first chunk does not
        with pytest.raises(SizeLimitError):
            _ = response.content

    assert (dict(small.storage), dict(small.chunk_storage or {})) == stored  # nothing deleted
    assert small.stats.kept == 1
    assert small.stats.discarded == 0
    assert writer.get_response("k").content == body  # the default bound reads it
    verified = scan.read_entry(small, "k", small.storage["k"], deep=True)
    assert verified.outcome == "too large"
    assert verified.outcome in scan.OUTCOMES


@pytest.mark.parametrize(
    ("stage", "outcome"), [("nosuch", "MissingStageError"), ("pickle", "RefusedSpecError")]
)
def test_an_entry_naming_an_unusable_stage_is_kept_unread(stage: str, outcome: str) -> None:
    cache = _cache()
    head = _planted("zstd+aesgcm", key=KEY)
    spec = parse_header(head)[0].spec
    # "msgpack+zstd+aesgcm" -> a spec naming a stage that is missing, or that the builder
    # refuses (pickle where the format goes is fine; pickle after zstd is not).
    forged = head.replace(f"spec={spec} ".encode(), f"spec=msgpack+{stage}+zstd+aesgcm ".encode())
    cache.storage["k"] = forged

    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is checked below
        cache.read_entry("k", forged)

    assert type(caught.value).__name__ == outcome
    assert cache.get_response("k") is None
    assert cache.storage["k"] == forged


class CountingStorage(MemoryStorage):
    """Counts reads, to show what touches bodies."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def __getitem__(self, key: str) -> bytes:
        self.reads += 1
        return super().__getitem__(key)


@pytest.fixture
def full_cache() -> tuple[BaseCache, CountingStorage]:
    chunks = CountingStorage()
    cache = _cache(chunks=chunks)
    for index in range(20):
        body = bytes([index]) * (3 * 1024 * 1024)
        cache.save_response(
            CachedResponse(url=f"https://example.org/{index}", content=body, cache_key=f"k{index}")
        )
    chunks.reads = 0
    return cache, chunks


def test_listing_and_counting_read_no_body(full_cache: tuple[BaseCache, CountingStorage]) -> None:
    cache, chunks = full_cache

    assert len(cache.urls) == 20
    assert cache.response_count(check_expiry=True) == 20
    assert sum(1 for _ in cache.filter(expired=False)) == 20
    assert [response.size for response in cache.values()] == [3 * 1024 * 1024] * 20

    assert chunks.reads == 0


def test_saving_a_stored_response_again_keeps_its_chunks(
    full_cache: tuple[BaseCache, CountingStorage],
) -> None:
    cache, chunks = full_cache
    stored_chunks = dict(chunks.items())
    response = cache.get_response("k3")
    assert response is not None

    response.reason = "Revalidated"
    cache.save_response(response)  # same spec and key: a new head, the same chunks

    assert dict(chunks.items()) == stored_chunks
    again = cache.get_response("k3")
    assert again is not None
    assert again.reason == "Revalidated"
    assert again.content == bytes([3]) * (3 * 1024 * 1024)


def test_chunks_of_evicted_entries_are_collected_after_the_grace() -> None:
    from vaultcache.retention import Retention

    chunks = MemoryStorage()
    cache = _cache(chunks=chunks)
    body = b"x" * (2 * 1024 * 1024)
    cache.save_response(CachedResponse(url="https://example.org/a", content=body, cache_key="a"))
    chunks_of_a = set(chunks)
    cache.retention = Retention(max_entries=1, slack=0)
    cache.save_response(CachedResponse(url="https://example.org/b", content=body, cache_key="b"))

    assert list(cache.storage) == ["b"]  # "a" evicted; its chunks are young, so still there
    assert chunks_of_a <= set(chunks)
    assert cache.collect_orphan_chunks(min_age=0) == len(chunks_of_a)
    assert not chunks_of_a & set(chunks)
    assert cache.get_response("b").content == body  # the living entry keeps its chunks


class _UnsealedEncryption:
    """An encryption stage of a plugin that has only dumps/loads (no seal/open)."""

    name = "unsealed"
    kind = "encryption"
    is_binary = True
    keys = KeyRing([KEY])

    @staticmethod
    def dumps(data: bytes) -> bytes:
        return bytes(reversed(data))

    @staticmethod
    def loads(data: bytes) -> bytes:
        return bytes(reversed(data))


def test_an_authenticating_stage_that_cannot_seal_is_neither_written_nor_read() -> None:
    from vaultcache.errors import EncodeError, RefusedSpecError
    from vaultcache.serializers import SerializerPipeline
    from vaultcache.serializers.stages.formats import format_stage

    cache = _cache()
    cache.serializer = SerializerPipeline([format_stage("msgpack"), _UnsealedEncryption()])
    planted = _planted("zstd+aesgcm", key=KEY).replace(
        b"spec=msgpack+zstd+aesgcm ", b"spec=msgpack+unsealed "
    )

    with pytest.raises(EncodeError, match="without seal/open"):
        cache.save_response(CachedResponse(url="https://example.org/", cache_key="k"))
    with pytest.raises(RefusedSpecError):
        cache.read_entry("k", planted)
