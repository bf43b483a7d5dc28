"""Decompression is bounded: bombs and lying frames fail fast with SizeLimitError."""

from __future__ import annotations

import bz2
import functools
import lzma
import time
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import zstandard
from serializer_support import stage

from vaultcache import DecodeError, SizeLimitError, build_pipeline
from vaultcache.serializers.stages.compression import DEFAULT_MAX_SIZE

MiB = 1024 * 1024
STDLIB = ("gzip", "zlib", "bz2", "lzma")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def lying_zstd_frame(declared: int) -> bytes:
    """A 16-byte zstd frame that declares `declared` bytes of content and holds none."""
    # Frame header descriptor 0xE0: 8-byte content size, single segment, no checksum, no
    # dictionary. Then one block header: last block, raw, size 0.
    return ZSTD_MAGIC + b"\xe0" + declared.to_bytes(8, "little") + b"\x01\x00\x00"


def patched_zstd_frame(declared: int) -> bytes:
    """A real frame of 1 MiB of zeros whose 4-byte declared content size is overwritten."""
    frame = zstandard.ZstdCompressor(write_content_size=True).compress(bytes(MiB))
    descriptor = frame[4]
    assert descriptor >> 6 == 2, "expected a 4-byte content size"
    assert descriptor & 0x20, "expected a single-segment frame"
    return frame[:5] + declared.to_bytes(4, "little") + frame[9:]


def measure(call: Callable[[], Any]) -> tuple[BaseException | None, float, int]:
    """Run `call`; return what it raised, the CPU seconds this process spent in it and its
    peak traced memory.

    CPU time, not the wall clock: the work done, however long other processes on a busy
    machine kept this one from running.
    """
    tracemalloc.start()
    started = time.process_time()
    raised: BaseException | None = None
    try:
        call()
    except Exception as exc:
        raised = exc
    elapsed = time.process_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return raised, elapsed, peak


@functools.cache
def zeros_bomb(name: str, size: int) -> bytes:
    """`size` bytes of zeros, compressed in a stream (never held in memory at once)."""
    compressor: Any
    if name == "zstd":
        compressor = zstandard.ZstdCompressor().compressobj(size=size)
    else:
        compressor = {
            "gzip": lambda: zlib.compressobj(1, wbits=31),
            "zlib": lambda: zlib.compressobj(1),
            "bz2": lambda: bz2.BZ2Compressor(1),
            "lzma": lambda: lzma.LZMACompressor(preset=0),
        }[name]()
    chunk = bytes(MiB)
    return b"".join(compressor.compress(chunk) for _ in range(size // MiB)) + compressor.flush()


# -- zstd: the declared content size ----------------------------------------------------------


@pytest.mark.parametrize("declared", [2**40, 2**63, DEFAULT_MAX_SIZE + 1])
def test_crafted_frame_reports_its_lie(declared: int) -> None:
    assert zstandard.frame_content_size(lying_zstd_frame(declared)) == declared


@pytest.mark.parametrize("declared", [2**64 - 1, 2**64 - 2], ids=["unknown", "error"])
def test_zstd_frame_declaring_a_sentinel_size_is_a_decode_error(declared: int) -> None:
    # libzstd reserves these two values (size unknown, size error).
    with pytest.raises(DecodeError) as caught:
        stage("zstd").loads(lying_zstd_frame(declared))
    assert not isinstance(caught.value, SizeLimitError)


@pytest.mark.parametrize("declared", [2**40, 2**63, DEFAULT_MAX_SIZE + 1])
def test_zstd_frame_declaring_a_huge_size_fails_fast_in_bounded_memory(declared: int) -> None:
    frame = lying_zstd_frame(declared)
    pipeline = build_pipeline("zstd")
    raised, elapsed, peak = measure(lambda: pipeline.loads(frame))
    assert isinstance(raised, SizeLimitError)
    assert raised.limit == DEFAULT_MAX_SIZE
    assert raised.stage == "zstd"
    assert elapsed < 0.5
    assert peak < MiB


def test_real_frame_with_a_patched_size_fails_fast_in_bounded_memory() -> None:
    frame = patched_zstd_frame(2**32 - 1)
    assert zstandard.frame_content_size(frame) == 2**32 - 1
    raised, elapsed, peak = measure(lambda: stage("zstd").loads(frame))
    assert isinstance(raised, SizeLimitError)
    assert elapsed < 0.5
    assert peak < MiB


def test_zstd_frame_declaring_less_than_it_holds_is_a_decode_error() -> None:
    frame = patched_zstd_frame(1000)
    with pytest.raises(DecodeError) as caught:
        stage("zstd").loads(frame)
    assert not isinstance(caught.value, SizeLimitError)


def test_zstd_frame_declaring_more_than_it_holds_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        stage("zstd", max_size=MiB).loads(lying_zstd_frame(1000))


def test_zstd_bomb_over_the_default_limit_is_refused_from_its_header() -> None:
    bomb = zeros_bomb("zstd", 300 * MiB)
    assert len(bomb) < 64 * 1024
    assert zstandard.frame_content_size(bomb) == 300 * MiB
    raised, elapsed, peak = measure(lambda: build_pipeline("zstd").loads(bomb))
    assert isinstance(raised, SizeLimitError)
    assert elapsed < 0.5
    assert peak < MiB


def test_zstd_max_size_option_bounds_output() -> None:
    pipeline = build_pipeline("zstd", options={"zstd": {"max_size": 1024}})
    compressor = pipeline.stages[1]
    with pytest.raises(SizeLimitError) as caught:
        compressor.loads(stage("zstd").dumps(bytes(2048)))
    assert caught.value.limit == 1024
    assert compressor.loads(stage("zstd").dumps(bytes(1024))) == bytes(1024)
    with pytest.raises(SizeLimitError):
        compressor.loads(stage("zstd").dumps(bytes(1025)))


def test_zstd_max_size_bounds_a_whole_pipeline() -> None:
    from vaultcache import CachedResponse

    small = build_pipeline("zstd", options={"zstd": {"max_size": 4096}})
    response = CachedResponse(url="https://example.org", status_code=200, content=bytes(8192))
    with pytest.raises(SizeLimitError):
        small.loads(build_pipeline("zstd").dumps(response))


def test_zstd_frame_without_a_declared_size_is_a_decode_error() -> None:
    frame = zstandard.ZstdCompressor(write_content_size=False).compress(b"some data" * 10)
    assert zstandard.frame_content_size(frame) == -1
    with pytest.raises(DecodeError) as caught:
        build_pipeline("zstd").loads(frame)
    assert not isinstance(caught.value, SizeLimitError)


def test_zstd_streamed_frame_without_a_declared_size_is_a_decode_error() -> None:
    compressor = zstandard.ZstdCompressor().compressobj()  # no size given: none declared
    frame = compressor.compress(bytes(10 * MiB)) + compressor.flush()
    raised, _, peak = measure(lambda: stage("zstd").loads(frame))
    assert type(raised) is DecodeError
    assert peak < MiB


@pytest.mark.parametrize(
    "trailing", [b"garbage", b"\x00", ZSTD_MAGIC, "frame"], ids=["text", "nul", "magic", "frame"]
)
def test_zstd_trailing_data_is_a_decode_error(trailing: bytes | str) -> None:
    zstd = stage("zstd")
    frame = zstd.dumps(b"hello world")
    extra = frame if trailing == "frame" else trailing
    assert isinstance(extra, bytes)
    with pytest.raises(DecodeError):
        zstd.loads(frame + extra)


# -- gzip, zlib, bz2, lzma --------------------------------------------------------------------


@pytest.mark.parametrize("name", STDLIB)
def test_stdlib_max_size_bounds_output(name: str) -> None:
    bounded = stage(name, max_size=1024)
    writer = stage(name)
    with pytest.raises(SizeLimitError) as caught:
        bounded.loads(writer.dumps(bytes(2048)))
    assert caught.value.limit == 1024
    assert caught.value.stage == name
    assert bounded.loads(writer.dumps(bytes(1024))) == bytes(1024)
    with pytest.raises(SizeLimitError):
        bounded.loads(writer.dumps(bytes(1025)))


@pytest.mark.parametrize("name", STDLIB)
def test_stdlib_max_size_through_build_pipeline(name: str) -> None:
    pipeline = build_pipeline(name, options={name: {"max_size": 1024}})
    with pytest.raises(SizeLimitError):
        pipeline.stages[1].loads(stage(name).dumps(bytes(2048)))


@pytest.mark.parametrize("name", [*STDLIB, "zstd"])
def test_bomb_is_refused_fast_in_memory_bounded_by_max_size(name: str) -> None:
    bomb = zeros_bomb(name, 32 * MiB)
    assert len(bomb) < 256 * 1024
    bounded = stage(name, max_size=MiB)
    raised, elapsed, peak = measure(lambda: bounded.loads(bomb))
    assert isinstance(raised, SizeLimitError)
    assert elapsed < 2
    assert peak < 4 * MiB  # about max_size, never the 32 MiB the bomb holds


@pytest.mark.parametrize("name", STDLIB)
@pytest.mark.parametrize("trailing", [b"garbage", b"\x00", b"\x1f\x8b"])
def test_stdlib_trailing_data_is_a_decode_error(name: str, trailing: bytes) -> None:
    codec = stage(name)
    with pytest.raises(DecodeError) as caught:
        codec.loads(codec.dumps(b"hello world") + trailing)
    assert not isinstance(caught.value, SizeLimitError)


def test_gzip_trailing_garbage_is_a_decode_error_through_a_pipeline() -> None:
    from vaultcache import CachedResponse

    pipeline = build_pipeline("json+gzip")
    entry = pipeline.dumps(CachedResponse(url="https://example.org", status_code=200))
    with pytest.raises(DecodeError):
        pipeline.loads(entry + b"trailing garbage")


@pytest.mark.parametrize("name", STDLIB)
def test_two_concatenated_streams_are_a_decode_error(name: str) -> None:
    codec = stage(name)
    with pytest.raises(DecodeError):
        codec.loads(codec.dumps(b"first") + codec.dumps(b"second"))


def test_lzma_reads_only_the_xz_container_it_writes() -> None:
    # The legacy .lzma container has no checksum: a damaged one can decode to other bytes.
    legacy = lzma.compress(b"hello world", format=lzma.FORMAT_ALONE)
    with pytest.raises(DecodeError):
        stage("lzma").loads(legacy)
    assert stage("lzma").dumps(b"x")[:6] == b"\xfd7zXZ\x00"


@pytest.mark.parametrize("declared", [MiB, 200 * MiB, DEFAULT_MAX_SIZE])
def test_zstd_frame_declaring_more_than_its_blocks_hold_allocates_nothing(declared: int) -> None:
    # Under max_size, so only the block walk stops decompress() allocating `declared` bytes.
    raised, elapsed, peak = measure(lambda: stage("zstd").loads(lying_zstd_frame(declared)))
    assert type(raised) is DecodeError
    assert elapsed < 0.5
    assert peak < MiB


def test_zstd_capacity_counts_what_blocks_can_regenerate() -> None:
    from vaultcache.serializers.stages.compression import zstd_capacity

    raw_then_rle = ZSTD_MAGIC + b"\x20\x00" + bytes([5 << 3 & 0xFF, 0, 0]) + b"hello"
    raw_then_rle += ((7 << 3) | (1 << 1) | 1).to_bytes(3, "little") + b"x"
    assert zstd_capacity(raw_then_rle) == 12
    with pytest.raises(DecodeError):
        zstd_capacity(raw_then_rle[:-1])
    with pytest.raises(DecodeError):
        zstd_capacity(raw_then_rle + b"\x00")
