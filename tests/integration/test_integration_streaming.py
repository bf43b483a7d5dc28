"""stream=True: a streamed miss is stored once read to the end; hits stream from memory."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from vaultcache.session import CachedSession

SIZE = 20_000  # large enough to arrive in many chunks

Reader = Callable[[requests.Response], bytes]


def _iter_content(response: requests.Response) -> bytes:
    return b"".join(response.iter_content(chunk_size=1000))


def _iter_lines(response: requests.Response) -> bytes:
    # The bodies are single-line JSON, so the lines joined back are the body.
    return b"\n".join(response.iter_lines(chunk_size=700))


def _raw_read(response: requests.Response) -> bytes:
    return response.raw.read(decode_content=True)  # type: ignore[no-any-return]


READERS = {"iter_content": _iter_content, "iter_lines": _iter_lines, "raw_read": _raw_read}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("reader", list(READERS))
def test_streamed_miss_is_stored_once_fully_read(
    session: CachedSession, origin: Any, reader: str, chunked: bool
) -> None:
    path = f"/data/stream-{reader}-{int(chunked)}"
    url = origin.url(path, size=SIZE, chunked=int(chunked))

    with session.get(url, stream=True) as streamed:
        assert streamed.from_cache is False  # type: ignore[attr-defined]
        assert not session.cache.contains(url=url)  # nothing stored before it is read
        body = READERS[reader](streamed)
    cached = session.get(url)

    assert len(body) == SIZE
    assert json.loads(body)["path"] == path
    assert cached.from_cache
    assert cached.content == body
    assert origin.hits(path) == 1


def test_abandoned_streamed_miss_is_not_stored(session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/stream-abandoned", size=SIZE)

    with session.get(url, stream=True) as streamed:
        chunks = streamed.iter_content(chunk_size=1000)
        first = next(chunks)
    again = session.get(url)

    assert len(first) == 1000
    assert again.from_cache is False
    assert len(again.content) == SIZE
    assert origin.hits("/data/stream-abandoned") == 2


def test_streamed_miss_read_in_its_transfer_encoding_is_not_stored(
    session: CachedSession, origin: Any
) -> None:
    url = origin.url("/data/stream-undecoded", size=SIZE, gzip=1)

    with session.get(url, stream=True) as streamed:
        encoded = streamed.raw.read(decode_content=False)
    again = session.get(url)

    assert gzip.decompress(encoded) == again.content
    assert again.from_cache is False


@pytest.mark.parametrize("reader", list(READERS))
def test_streamed_hit_supports_every_reader(
    session: CachedSession, origin: Any, reader: str
) -> None:
    url = origin.url(f"/data/stream-hit-{reader}", size=SIZE)
    expected = session.get(url).content

    with session.get(url, stream=True) as hit:
        assert hit.from_cache  # type: ignore[attr-defined]
        body = READERS[reader](hit)

    assert body == expected
    assert origin.hits(f"/data/stream-hit-{reader}") == 1


def test_gzip_encoded_streamed_response_is_stored_decoded(
    session: CachedSession, origin: Any
) -> None:
    path = "/data/stream-gzip"
    url = origin.url(path, size=SIZE, gzip=1, chunked=1)

    with session.get(url, stream=True) as streamed:
        assert streamed.headers["Content-Encoding"] == "gzip"
        body = _iter_content(streamed)
    stored = session.cache.responses[streamed.cache_key]  # type: ignore[attr-defined]
    hit = session.get(url, stream=True)

    assert json.loads(body)["path"] == path
    assert stored.content == body
    assert _iter_content(hit) == body
    assert session.get(url).json()["path"] == path
    assert origin.hits(path) == 1
