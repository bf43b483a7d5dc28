"""A chunked body read whole costs about the body in memory, not a copy per chunk and a join.

tracemalloc sees every bytes object the stages and the reader make; the stored records here
are small (the body compresses well), so what is left is the body and what the reader adds.
"""

from __future__ import annotations

import gc
import random
import tracemalloc
from pathlib import Path

import pytest

from vaultcache import CachedResponse, CachedSession, generate_key

MiB = 1024 * 1024


def _body(size: int) -> bytes:
    line = b'{"id": 12345, "name": "a record", "tags": ["x", "y"]}\n'
    return (line * (size // len(line) + 1))[:size]


def _peak_of_reading(session: CachedSession, key: str) -> tuple[int, bytes]:
    response = session.cache.get_response(key)
    assert response is not None
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        content = response.content
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, content


@pytest.mark.parametrize(
    ("size", "limit"),
    [
        (MiB, 1.1),  # one chunk: returned as decoded
        (3 * MiB + 5, 1.5),  # four chunks: one buffer, each chunk dropped once copied
    ],
)
@pytest.mark.parametrize("spec", ["zstd+aesgcm", "signed+zstd+fernet"])
def test_reading_a_chunked_body_whole_peaks_near_the_body(
    tmp_path: Path, spec: str, size: int, limit: float
) -> None:
    body = _body(size)
    with CachedSession(str(tmp_path / "cache"), serializer=spec, keys=[generate_key()]) as session:
        response = CachedResponse(url="https://example.org/big", content=body, cache_key="big")
        session.cache.save_response(response)

        peak, content = _peak_of_reading(session, "big")

    assert content == body
    assert peak < limit * size, peak / size


def test_a_sealed_chunk_is_freed_before_its_plaintext_is_decompressed(tmp_path: Path) -> None:
    # Random bytes do not compress: the sealed chunk is as large as the body. Held while zstd
    # runs, it would make a third body-sized object beside the decrypted frame and the output.
    body = random.Random(3).randbytes(MiB)
    with CachedSession(str(tmp_path / "cache"), keys=[generate_key()]) as session:
        response = CachedResponse(url="https://example.org/big", content=body, cache_key="big")
        session.cache.save_response(response)

        peak, content = _peak_of_reading(session, "big")

    assert content == body
    assert peak < 2.3 * MiB, peak / MiB
