"""Compression stages: ``zstd`` (recommended), ``gzip``, ``zlib``, ``bz2``, ``lzma``.

Decompression is always bounded by the stage's ``max_size`` option, so a compression bomb
fails fast with SizeLimitError and bounded memory, authenticated or not. zstd needs care:
``ZstdDecompressor.decompress`` sizes its output from the size a frame *declares* and ignores
``max_output_size`` for such frames, allocating that much up front. So before anything is
allocated the declared size is checked against the bound and against what the frame's blocks
can possibly hold (walking the block headers, see :func:`zstd_capacity`): a 16-byte frame that
declares 200 MiB is refused, and one that makes the decompressor allocate n bytes must be at
least about n / 18000 bytes long, the ratio any zstd data allows. Frames that declare no size
(never written by this stage) are refused.

A zstd stage may compress with a trained dictionary (:class:`ZstdDictionary`, see
:mod:`vaultcache.dictionaries`); its id is then a reading option, so the entry header names it:
``zstd(dict=<id>)``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import threading
import zlib
from collections.abc import Callable
from typing import Any, Protocol

import attrs
import zstandard

from vaultcache.errors import DecodeError, SizeLimitError
from vaultcache.hookspecs import hookimpl
from vaultcache.registry import StageRegistrar
from vaultcache.serializers.stages.options import int_option, parse_options
from vaultcache.serializers.zstd_dictionary import ZstdDictionary

__all__ = [
    "DECOMPRESSION_STEP",
    "DEFAULT_MAX_SIZE",
    "CompressionStage",
    "ZstdStage",
]

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for

#: Largest decompressed entry accepted by default: 256 MiB.
DEFAULT_MAX_SIZE = 256 * 1024 * 1024
_MAX_SIZE_LIMIT = 1 << 40
#: Bytes of input fed, and of output asked for, per decompression step.
DECOMPRESSION_STEP = 256 * 1024


def _max_size_option() -> Any:
    return int_option(DEFAULT_MAX_SIZE, 1, _MAX_SIZE_LIMIT)


class ZstdStage:
    """Zstandard; every frame records its content size, which bounds decompression."""

    name = "zstd"
    kind = "compression"
    is_binary = True

    @attrs.frozen
    class Options:
        """Options of the zstd stage."""

        level: int = int_option(3, -7, zstandard.MAX_COMPRESSION_LEVEL)
        max_size: int = _max_size_option()

    def __init__(
        self,
        level: int = 3,
        max_size: int = DEFAULT_MAX_SIZE,
        *,
        dictionary: ZstdDictionary | None = None,
    ) -> None:
        self.level = level
        self.max_size = max_size
        self.dictionary = dictionary
        self._dict_data: Any = None
        if dictionary is not None:
            # Digested once for this level: a compressor would otherwise load it per call.
            self._dict_data = zstandard.ZstdCompressionDict(
                dictionary.data, dict_type=zstandard.DICT_TYPE_FULLDICT
            )
            self._dict_data.precompute_compress(level=level)
        # zstandard contexts are not thread-safe; each thread gets its own pair.
        self._local = threading.local()

    def reading_options(self) -> dict[str, str]:
        """The dictionary's id, when the stage has one: a reader needs that dictionary."""
        return {} if self.dictionary is None else {"dict": self.dictionary.id}

    def with_dictionary(self, dictionary: ZstdDictionary | None) -> ZstdStage:
        """The same stage, compressing with `dictionary` (None: without one)."""
        return ZstdStage(self.level, self.max_size, dictionary=dictionary)

    def _contexts(self) -> tuple[Any, Any]:
        contexts = getattr(self._local, "contexts", None)
        if contexts is None:
            extra = {} if self._dict_data is None else {"dict_data": self._dict_data}
            contexts = self._local.contexts = (
                zstandard.ZstdCompressor(
                    level=self.level, write_content_size=True, write_checksum=True, **extra
                ),
                zstandard.ZstdDecompressor(**extra),
            )
        return contexts

    def dumps(self, data: bytes) -> bytes:
        """Compress into one frame that declares its content size."""
        return self._contexts()[0].compress(data)  # type: ignore[no-any-return]

    def loads(self, data: bytes) -> bytes:
        """Decompress one frame, refusing frames larger than max_size or of unknown size."""
        try:
            size = zstandard.frame_content_size(data)
        except zstandard.ZstdError:
            raise DecodeError("stage 'zstd': not a zstd frame", stage=self.name) from None
        if size == -1:
            raise DecodeError("stage 'zstd': frame does not declare its size", stage=self.name)
        if size > self.max_size:
            raise SizeLimitError(self.name, self.max_size)
        if size > zstd_capacity(data):
            raise DecodeError("stage 'zstd': frame declares more than it holds", stage=self.name)
        try:
            # One frame, as dumps writes: trailing bytes (garbage, or a second frame that
            # decompress would silently drop) are refused as the other codecs refuse them.
            return self._contexts()[1].decompress(data, allow_extra_data=False)  # type: ignore[no-any-return]
        except zstandard.ZstdError:
            raise DecodeError("stage 'zstd': corrupt or truncated frame", stage=self.name) from None


_BLOCK_RAW, _BLOCK_RLE, _BLOCK_COMPRESSED = 0, 1, 2
_CHECKSUM_FLAG = 0x04


def zstd_capacity(frame: bytes) -> int:
    """The most bytes one zstd frame's blocks can regenerate, from their headers alone.

    A raw or RLE block regenerates exactly the size its header gives; a compressed block at
    most ``BLOCKSIZE_MAX`` (128 KiB), the largest any block may be. Raises DecodeError for a
    frame that is truncated, has a reserved block type or an oversized block, or is followed
    by anything (this stage writes exactly one frame).
    """
    try:
        position = zstandard.frame_header_size(frame)
    except zstandard.ZstdError:
        raise DecodeError("stage 'zstd': not a zstd frame", stage="zstd") from None
    view = memoryview(frame)
    capacity, last = 0, False
    while not last:
        header = bytes(view[position : position + 3])
        if len(header) != 3:
            raise DecodeError("stage 'zstd': truncated frame", stage="zstd")
        value = int.from_bytes(header, "little")
        last, kind, size = bool(value & 1), (value >> 1) & 3, value >> 3
        if size > zstandard.BLOCKSIZE_MAX:  # the format's limit; an RLE block could claim 2 MiB
            raise DecodeError("stage 'zstd': corrupt frame", stage="zstd")
        if kind == _BLOCK_RAW:
            capacity, position = capacity + size, position + 3 + size
        elif kind == _BLOCK_RLE:
            capacity, position = capacity + size, position + 4
        elif kind == _BLOCK_COMPRESSED:
            capacity, position = capacity + zstandard.BLOCKSIZE_MAX, position + 3 + size
        else:
            raise DecodeError("stage 'zstd': corrupt frame", stage="zstd")
    position += 4 if frame[4] & _CHECKSUM_FLAG else 0
    if position != len(frame):
        raise DecodeError("stage 'zstd': truncated frame or trailing data", stage="zstd")
    return capacity


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes | memoryview, max_length: int = ..., /) -> bytes: ...


class CompressionStage:
    """A stdlib codec with bounded decompression: reads at most max_size + 1 bytes of output."""

    kind = "compression"
    is_binary = True

    @attrs.frozen
    class Options:
        """Options of the gzip, zlib, bz2 and lzma stages."""

        level: int = int_option(6, 0, 9)
        max_size: int = _max_size_option()

    def __init__(
        self,
        name: str,
        compress: Callable[[bytes, int], bytes],
        decompressor: Callable[[], _Decompressor],
        level: int = 6,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> None:
        self.name = name
        self._compress = compress
        self._decompressor = decompressor
        self.level = level
        self.max_size = max_size

    def dumps(self, data: bytes) -> bytes:
        """Compress at the configured level."""
        return self._compress(data, self.level)

    def loads(self, data: bytes) -> bytes:
        """Decompress one complete stream of at most max_size bytes.

        Input and output go in steps of ``DECOMPRESSION_STEP`` into one growing buffer, whose
        bytes are returned without a copy: memory peaks at about max_size plus a step.
        """
        decompressor = self._decompressor()
        view = memoryview(data)
        output = io.BytesIO()
        position, total, stalls = 0, 0, 0
        pending: bytes | memoryview = b""  # input zlib has not used yet (bz2, lzma keep it)
        try:
            while not decompressor.eof:
                fed = not pending and getattr(decompressor, "needs_input", True)
                if fed:
                    pending = view[position : position + DECOMPRESSION_STEP]
                    position += len(pending)
                chunk = decompressor.decompress(pending, DECOMPRESSION_STEP)
                pending = getattr(decompressor, "unconsumed_tail", b"")
                total += len(chunk)
                if total > self.max_size:
                    raise SizeLimitError(self.name, self.max_size)
                output.write(chunk)
                stalls = 0 if chunk or (fed and position < len(view)) else stalls + 1
                if stalls > 1:
                    break  # no input left and no output coming: truncated
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
            raise DecodeError(f"stage {self.name!r}: corrupt stream", stage=self.name) from None
        if not decompressor.eof or decompressor.unused_data or position < len(view):
            raise DecodeError(
                f"stage {self.name!r}: truncated stream or trailing data", stage=self.name
            )
        return output.getvalue()


@attrs.frozen
class _Bz2Options(CompressionStage.Options):
    """Options of the bz2 stage: bzip2 has no level 0."""

    level: int = int_option(6, 1, 9)


def _gzip(data: bytes, level: int) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


_CODECS: dict[str, tuple[Callable[[bytes, int], bytes], Callable[[], _Decompressor], str]] = {
    "gzip": (_gzip, lambda: zlib.decompressobj(wbits=31), "gzip (deflate), for compatibility"),
    "zlib": (zlib.compress, zlib.decompressobj, "zlib (deflate)"),
    "bz2": (bz2.compress, bz2.BZ2Decompressor, "bzip2: small output, slow"),
    "lzma": (
        lambda data, level: lzma.compress(data, preset=level),
        # Only the .xz container this stage writes: the legacy .lzma one has no checksum.
        lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ),
        "LZMA/xz: smallest output, slowest",
    ),
}


def _zstd_factory(options: dict[str, Any], keys: object) -> ZstdStage:
    parsed = parse_options("zstd", options, ZstdStage.Options)
    return ZstdStage(level=parsed.level, max_size=parsed.max_size)


def _stdlib_factory(name: str) -> Callable[[dict[str, Any], object], CompressionStage]:
    compress, decompressor, _ = _CODECS[name]

    def factory(options: dict[str, Any], keys: object) -> CompressionStage:
        options_class = _Bz2Options if name == "bz2" else CompressionStage.Options
        parsed: CompressionStage.Options = parse_options(name, options, options_class)
        return CompressionStage(name, compress, decompressor, parsed.level, parsed.max_size)

    return factory


@hookimpl
def vaultcache_register_stages(registry: StageRegistrar) -> None:
    """Register the built-in compression stages."""
    registry.add(
        "zstd",
        _zstd_factory,
        kind="compression",
        description="Zstandard: fast, good ratio (recommended)",
    )
    for name, (_, _, description) in _CODECS.items():
        registry.add(name, _stdlib_factory(name), kind="compression", description=description)
