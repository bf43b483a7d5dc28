"""Entry format v2 through a session: bodies stored and served chunk by chunk.

A streamed miss is committed only when read to its real end; every partial read leaves
nothing behind (no head, no chunks). A streamed hit reads and checks one chunk at a time.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from vaultcache.backends.memory import MemoryStorage
from vaultcache.entries import CHUNK_SIZE, parse_header, split_chunk_key
from vaultcache.session import CachedSession

BIG = 3 * CHUNK_SIZE + 12345  # four chunks, the last one short


def body_of(size: int) -> bytes:
    """A deterministic body of `size` bytes that compresses, but not to nothing."""
    block = (hashlib.sha256(str(size).encode()).hexdigest() + "\n").encode() * 64
    return (block * (size // len(block) + 1))[:size]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        size = int(self.path.rsplit("/", 1)[-1])
        body = body_of(size)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        if self.path.startswith("/vary/"):
            self.send_header("Vary", "Accept")
        self.end_headers()
        if self.path.startswith("/short/"):
            # Declares the whole body, sends part of it, and hangs up.
            self.wfile.write(body[: size // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield f"http://{host}:{port}"
    httpd.shutdown()
    httpd.server_close()


class CountingStorage(MemoryStorage):
    """A memory storage that counts reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def __getitem__(self, key: str) -> bytes:
        self.reads += 1
        return super().__getitem__(key)


@pytest.fixture
def session(make_session: Callable[..., CachedSession]) -> CachedSession:
    return make_session(backend="memory")


def _stored_nothing(session: CachedSession) -> bool:
    assert session.cache.chunk_storage is not None
    return len(session.cache.storage) == 0 and len(session.cache.chunk_storage) == 0


def test_a_streamed_miss_is_stored_in_chunks_and_streamed_back(
    session: CachedSession, server: str
) -> None:
    url = f"{server}/data/{BIG}"
    with session.get(url, stream=True) as response:
        received = b"".join(response.iter_content(64 * 1024))
    (head,) = session.cache.storage.values()
    header, _ = parse_header(head)

    assert received == body_of(BIG)
    assert (header.body.mode, header.body.count, header.body.size) == ("chunks", 4, BIG)
    hit = session.get(url, stream=True)
    assert hit.from_cache
    assert b"".join(hit.iter_content(100_000)) == body_of(BIG)
    assert session.get(url).content == body_of(BIG)


def test_a_streamed_miss_with_vary_gives_its_variant_the_same_chunk_records(
    session: CachedSession, server: str
) -> None:
    url = f"{server}/vary/{BIG}"
    with session.get(url, stream=True, headers={"Accept": "text/plain"}) as response:
        assert b"".join(response.iter_content(64 * 1024)) == body_of(BIG)
    chunks = session.cache.chunk_storage
    assert chunks is not None
    records: dict[str, dict[int, bytes]] = {}
    for key, record in chunks.items():
        parts = split_chunk_key(key)
        assert parts is not None
        records.setdefault(parts[0], {})[parts[2]] = record

    # Primary and variant: the variant adopts the primary's records, stored again under its
    # own key (checked by reading them back), not sealed again.
    assert len(session.cache.storage) == 2
    primary, variant = records.values()
    assert primary == variant
    assert sorted(primary) == [0, 1, 2, 3]
    hit = session.get(url, stream=True, headers={"Accept": "text/plain"})
    assert hit.from_cache
    assert b"".join(hit.iter_content(100_000)) == body_of(BIG)


def test_a_streamed_hit_reads_one_chunk_before_it_is_returned(
    make_session: Callable[..., CachedSession], server: str
) -> None:
    from vaultcache.cache import BaseCache

    chunks = CountingStorage()
    cache = BaseCache(
        "counted", responses=MemoryStorage(), redirects=MemoryStorage(), chunks=chunks
    )
    session = make_session(backend=cache)
    url = f"{server}/data/{BIG}"
    session.get(url)
    chunks.reads = 0

    hit = session.get(url, stream=True)
    first = next(hit.iter_content(1024))

    assert hit.from_cache
    assert chunks.reads == 1  # the first chunk, checked before get() returned
    assert first == body_of(BIG)[:1024]
    assert hit.raw.read(10) == body_of(BIG)[1024:1034]
    assert chunks.reads == 1


def _read_zero(response: requests.Response) -> None:
    response.raw.read(0)


def _readline(response: requests.Response) -> None:
    response.raw.readline()


def _readinto(response: requests.Response) -> None:
    response.raw.readinto(bytearray(2 * CHUNK_SIZE))


def _iter_lines_then_stop(response: requests.Response) -> None:
    next(response.iter_lines())


def _iter_content_then_stop(response: requests.Response) -> None:
    chunks = response.iter_content(CHUNK_SIZE)
    next(chunks)
    next(chunks)


def _read1(response: requests.Response) -> None:
    response.raw.read1(100)


PARTIAL: dict[str, Callable[[requests.Response], None]] = {
    "read(0)": _read_zero,
    "readline": _readline,
    "readinto": _readinto,
    "iter_lines": _iter_lines_then_stop,
    "iter_content": _iter_content_then_stop,
    "read1": _read1,
}


@pytest.mark.parametrize("how", list(PARTIAL))
def test_a_partly_read_stream_leaves_nothing_behind(
    session: CachedSession, server: str, how: str
) -> None:
    url = f"{server}/data/{BIG}"
    with session.get(url, stream=True) as response:
        PARTIAL[how](response)

    assert _stored_nothing(session)
    assert session.get(url).from_cache is False


@pytest.mark.parametrize("how", ["readinto", "readline"])
def test_a_stream_read_to_its_end_by_any_method_is_stored(
    session: CachedSession, server: str, how: str
) -> None:
    url = f"{server}/data/{BIG}"
    received = bytearray()
    with session.get(url, stream=True) as response:
        if how == "readinto":
            buffer = bytearray(300_000)
            while count := response.raw.readinto(buffer):
                received += buffer[:count]
        else:
            while line := response.raw.readline():
                received += line

    assert bytes(received) == body_of(BIG)
    assert session.get(url).from_cache


def test_a_caller_failing_midway_leaves_nothing_behind(session: CachedSession, server: str) -> None:
    url = f"{server}/data/{BIG}"

    def read_and_fail() -> None:
        with session.get(url, stream=True) as response:
            for index, _ in enumerate(response.iter_content(CHUNK_SIZE)):
                if index == 2:
                    raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        read_and_fail()
    assert _stored_nothing(session)


def test_an_origin_that_hangs_up_early_is_not_stored(session: CachedSession, server: str) -> None:
    url = f"{server}/short/{BIG}"
    with (
        pytest.raises(requests.exceptions.RequestException),
        session.get(url, stream=True) as response,
    ):
        b"".join(response.iter_content(CHUNK_SIZE))

    assert _stored_nothing(session)


def test_a_tampered_chunk_makes_a_hit_a_miss(session: CachedSession, server: str) -> None:
    url = f"{server}/data/{BIG}"
    session.get(url)
    chunks = session.cache.chunk_storage
    assert chunks is not None
    last = sorted(chunks)[-1]
    chunks[last] = chunks[last][:-1] + bytes([chunks[last][-1] ^ 1])

    response = session.get(url)

    assert response.from_cache is False
    assert response.content == body_of(BIG)
    assert session.cache.stats.discarded == 1
    assert session.get(url).from_cache


def test_a_bad_first_chunk_makes_a_streamed_hit_a_miss(session: CachedSession, server: str) -> None:
    url = f"{server}/data/{BIG}"
    session.get(url)
    chunks = session.cache.chunk_storage
    assert chunks is not None
    first, second = sorted(chunks, key=lambda k: int(k.rsplit("/", 1)[1]))[:2]
    chunks[first], chunks[second] = chunks[second], chunks[first]

    response = session.get(url, stream=True)

    assert response.from_cache is False  # found before anything was served
    assert b"".join(response.iter_content(CHUNK_SIZE)) == body_of(BIG)
    assert session.cache.stats.discarded == 1


@pytest.mark.parametrize("damage", ["swap", "drop last", "drop middle"])
def test_chunks_cannot_be_reordered_or_dropped(
    session: CachedSession, server: str, damage: str
) -> None:
    url = f"{server}/data/{BIG}"
    session.get(url)
    chunks = session.cache.chunk_storage
    assert chunks is not None
    keys = sorted(chunks, key=lambda k: int(k.rsplit("/", 1)[1]))
    if damage == "swap":
        chunks[keys[1]], chunks[keys[2]] = chunks[keys[2]], chunks[keys[1]]
    else:
        del chunks[keys[-1] if damage == "drop last" else keys[1]]

    hit = session.get(url, stream=True)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is checked below
        b"".join(hit.iter_content(CHUNK_SIZE))

    assert type(caught.value).__name__ == "IntegrityError"
    assert session.cache.stats.discarded == 1
    assert len(session.cache.storage) == 0


def test_a_large_body_without_a_chunk_storage_is_packed_whole(
    make_session: Callable[..., CachedSession], server: str
) -> None:
    from vaultcache.cache import BaseCache

    cache = BaseCache("packed", responses=MemoryStorage(), redirects=MemoryStorage())
    session = make_session(backend=cache)
    url = f"{server}/data/{BIG}"
    session.get(url)

    (head,) = cache.storage.values()
    assert parse_header(head)[0].body.mode == "packed"
    assert session.get(url).content == body_of(BIG)
