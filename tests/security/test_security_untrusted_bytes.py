"""Bytes from the store are untrusted: bombs, lying frames, random and mutated entries.

Every reader must answer with a CachedResponse or an EntryError (a miss), quickly and in
bounded memory, whatever it is given. The attacker can write the store; for unauthenticated
specs (``zstd``, ``json+gzip``...) nothing stands between those bytes and the decoders.
"""

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
import yaml
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultcache import CachedResponse, DecodeError, EntryError, KeyRing, SizeLimitError
from vaultcache import generate_key as new_key
from vaultcache.registry import get_registry
from vaultcache.serializers import SerializerPipeline, build_pipeline, preconf
from vaultcache.serializers.stages.compression import DEFAULT_MAX_SIZE, zstd_capacity
from vaultcache.serializers.stages.formats import format_stage

MiB = 1024 * 1024
COMPRESSION = ("zstd", "gzip", "zlib", "bz2", "lzma")
FORMATS = ("msgpack", "json", "yaml", "pickle", "bson", "toml")
AUTHENTICATING = ("signed", "fernet", "aesgcm")
RING = KeyRing([new_key()])
SPECS = (
    "zstd+aesgcm",
    "signed+zstd+fernet",
    "pickle+lzma+aesgcm",
    "msgpack",
    "json",
    "yaml",
    "toml",
    "bson",
    "zstd",
    "json+gzip",
    "yaml+bz2",
    "msgpack+zlib",
    "toml+lzma",
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
RESPONSE = CachedResponse(
    url="https://example.org/r?q=1",
    status_code=200,
    reason="OK",
    headers={"Content-Type": "text/plain", "ETag": '"abc"'},
    content=b"body " * 40,
    cache_key="0123456789abcdef0123456789abcdef",
    history=[CachedResponse(url="https://example.org/first", status_code=301)],
)


@functools.cache
def _pipeline(spec: str) -> Any:
    return build_pipeline(spec, keys=RING)


def _stage(name: str, **options: Any) -> Any:
    return get_registry().build_stage(name, options, RING)


def _measure(call: Callable[[], Any]) -> tuple[BaseException | None, float, int]:
    """What `call` raised, the CPU seconds this process spent in it and its peak traced
    allocation.

    CPU time, not the wall clock: the work done, however long other processes on a busy
    machine kept this one from running.
    """
    tracemalloc.start()
    started = time.process_time()
    raised = None
    try:
        call()
    except Exception as exc:
        raised = exc
    elapsed = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return raised, elapsed, peak


@functools.cache
def _bomb(name: str, size: int) -> bytes:
    """`size` bytes of zeros compressed by codec `name`, built in a stream."""
    compressor: Any = {
        "zstd": lambda: zstandard.ZstdCompressor().compressobj(size=size),
        "gzip": lambda: zlib.compressobj(1, wbits=31),
        "zlib": lambda: zlib.compressobj(1),
        "bz2": lambda: bz2.BZ2Compressor(1),
        "lzma": lambda: lzma.LZMACompressor(preset=0),
    }[name]()
    return b"".join(compressor.compress(bytes(MiB)) for _ in range(size // MiB)) + (
        compressor.flush()
    )


def _zstd_frame(declared: int, blocks: bytes = b"\x01\x00\x00") -> bytes:
    """A zstd frame header declaring `declared` bytes (8-byte field), then `blocks`."""
    return zstandard.FRAME_HEADER + b"\xe0" + declared.to_bytes(8, "little") + blocks


# -- compression bombs --------------------------------------------------------------------------


@pytest.mark.parametrize("name", COMPRESSION)
def test_compression_bomb_is_refused_in_bounded_time_and_memory(name: str) -> None:
    """Attack: store a 64 MiB-of-zeros bomb (a few KiB) for a reader with max_size 1 MiB."""
    pipeline = build_pipeline(f"json+{name}", options={name: {"max_size": MiB}})
    bomb = _bomb(name, 64 * MiB)
    assert len(bomb) < 512 * 1024
    raised, elapsed, peak = _measure(lambda: pipeline.loads(bomb))
    assert isinstance(raised, SizeLimitError)
    assert elapsed < 3
    assert peak < 4 * MiB


def test_zstd_bomb_over_the_default_limit_is_refused_from_its_header() -> None:
    """Attack: a zstd frame that really holds 300 MiB, under the default 256 MiB bound."""
    bomb = _bomb("zstd", 300 * MiB)
    raised, elapsed, peak = _measure(lambda: _pipeline("zstd").loads(bomb))
    assert isinstance(raised, SizeLimitError)
    assert elapsed < 0.5
    assert peak < MiB


@pytest.mark.parametrize("declared", [MiB, 100 * MiB, DEFAULT_MAX_SIZE, 2**40, 2**63])
def test_tiny_zstd_frame_declaring_a_huge_size_allocates_nothing(declared: int) -> None:
    """Attack: a 16-byte zstd frame that declares up to 256 MiB (the default bound) or more.

    ``ZstdDecompressor.decompress`` allocates the declared size before it reads a block;
    the stage refuses the frame from its block headers first.
    """
    raised, elapsed, peak = _measure(lambda: _pipeline("zstd").loads(_zstd_frame(declared)))
    assert isinstance(raised, DecodeError)
    assert elapsed < 0.5
    assert peak < MiB


def test_zstd_frame_of_fake_compressed_blocks_allocates_at_most_the_inherent_ratio() -> None:
    """Attack: a frame of many 1-byte "compressed" blocks, each able to hold 128 KiB.

    Such a frame may make the reader allocate what its blocks could hold (128 KiB per
    4 bytes, the most any zstd data expands), never more, and is then refused as corrupt.
    """
    count = 64
    block = (1 << 3 | 2 << 1).to_bytes(3, "little") + b"\x00"
    last = (1 << 3 | 2 << 1 | 1).to_bytes(3, "little") + b"\x00"
    frame = _zstd_frame(count * zstandard.BLOCKSIZE_MAX, block * (count - 1) + last)
    raised, _, peak = _measure(lambda: _stage("zstd").loads(frame))
    assert isinstance(raised, DecodeError)
    assert peak <= 32768 * len(frame) + MiB


def test_zstd_frame_with_trailing_or_missing_bytes_is_refused() -> None:
    """Attack: append a second frame (which a reader might silently drop) or cut one short."""
    zstd = _stage("zstd")
    frame = zstd.dumps(b"hello" * 100)
    for damaged in (frame + frame, frame + b"\x00", frame[:-1], frame[:6]):
        with pytest.raises(DecodeError):
            zstd.loads(damaged)


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    """Attack: a YAML entry whose redirect history nests aliases (a "billion laughs")."""
    base = preconf.yaml_converter.dumps(RESPONSE)
    document = base
    for _ in range(8):
        document = dict(base, history=[document] * 10)
    data = yaml.safe_dump(document).encode()
    raised, elapsed, _ = _measure(lambda: _pipeline("yaml").loads(data))
    assert isinstance(raised, DecodeError)
    assert elapsed < 0.5


FORMAT_BOMBS = {
    "msgpack-huge-array": ("msgpack", b"\xdd\xff\xff\xff\xff"),
    "msgpack-huge-map": ("msgpack", b"\xdf\xff\xff\xff\xff"),
    "msgpack-huge-bin": ("msgpack", b"\xc6\xff\xff\xff\xff"),
    "msgpack-deep": ("msgpack", b"\x91" * 100_000 + b"\xc0"),
    "json-deep": ("json", b"[" * 100_000 + b"]" * 100_000),
    "json-deep-object": ("json", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    "toml-deep": ("toml", b"a = " + b"[" * 100_000),
    "yaml-deep": ("yaml", b"[" * 100_000),
    "bson-huge-length": ("bson", b"\xff\xff\xff\x7f\x00"),
    "pickle-huge-frame": ("pickle", b"\x80\x05\x95" + b"\xff" * 8 + b"."),
}


@pytest.mark.parametrize("name", sorted(FORMAT_BOMBS))
def test_format_bombs_are_refused_in_bounded_time_and_memory(name: str) -> None:
    """Attack: an entry declaring huge lengths, or nesting deeper than any parser's stack."""
    spec, data = FORMAT_BOMBS[name]
    reader = SerializerPipeline([format_stage(spec)])
    raised, elapsed, peak = _measure(lambda: reader.loads(data))
    assert isinstance(raised, DecodeError)
    assert elapsed < 1
    assert peak < 64 * MiB


# -- random and mutated bytes ---------------------------------------------------------------


def _only_typed_errors(load: Callable[[bytes], Any], data: bytes) -> None:
    try:
        result = load(data)
    except EntryError:
        return
    assert isinstance(result, CachedResponse | bytes), type(result).__name__


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "replace"]),
        st.integers(min_value=0),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=6,
)


def _mutate(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    result = bytearray(data)
    for kind, where, chunk in edits:
        position = where % (len(result) + 1)
        if kind == "flip" and result:
            result[position % len(result)] ^= chunk[0] or 1
        elif kind == "insert":
            result[position:position] = chunk
        elif kind == "delete":
            del result[position : position + len(chunk)]
        else:
            result[position : position + len(chunk)] = chunk
    return bytes(result)


@pytest.mark.parametrize("name", FORMATS + COMPRESSION + AUTHENTICATING)
@FUZZ
@given(data=st.binary(max_size=600))
def test_every_stage_turns_random_bytes_into_a_typed_error(name: str, data: bytes) -> None:
    """Attack: random bytes stored for a reader of any built-in stage on its own."""
    reader = SerializerPipeline([format_stage(name)]) if name in FORMATS else _stage(name)
    _only_typed_errors(reader.loads, data)


@pytest.mark.parametrize("spec", SPECS)
@FUZZ
@given(edits=_EDITS)
def test_every_pipeline_turns_mutated_entries_into_a_typed_error(
    spec: str, edits: list[tuple[str, int, bytes]]
) -> None:
    """Attack: a real entry with bytes flipped, inserted, deleted or replaced."""
    pipeline = _pipeline(spec)
    _only_typed_errors(pipeline.loads, _mutate(pipeline.dumps(RESPONSE), edits))


@pytest.mark.parametrize("name", COMPRESSION)
@FUZZ
@given(edits=_EDITS)
def test_every_codec_turns_mutated_streams_into_a_typed_error(
    name: str, edits: list[tuple[str, int, bytes]]
) -> None:
    """Attack: a real compressed stream, mutated, for a codec with no authentication."""
    codec = _stage(name, max_size=MiB)
    stream = codec.dumps(b"response body " * 200)
    _only_typed_errors(codec.loads, _mutate(stream, edits))


def _rle_frame(size: int) -> bytes:
    """One zstd frame of one RLE block of `size` bytes, declaring that size."""
    block = ((size << 3) | (1 << 1) | 1).to_bytes(3, "little") + b"a"
    descriptor = bytes([0xA0])  # single segment, 4-byte content size, no checksum
    return b"\x28\xb5\x2f\xfd" + descriptor + size.to_bytes(4, "little") + block


def test_zstd_rle_block_claiming_more_than_a_block_may_hold_is_refused() -> None:
    """Attack: an RLE block header claims 2 MiB (the field allows it; the format does not),
    so an 11-byte frame would make the decompressor allocate that much."""
    largest = zstandard.BLOCKSIZE_MAX
    assert zstd_capacity(_rle_frame(largest)) == largest  # the control: a valid block
    assert zstandard.ZstdDecompressor().decompress(_rle_frame(largest)) == b"a" * largest

    with pytest.raises(DecodeError):
        zstd_capacity(_rle_frame(2**21 - 1))
