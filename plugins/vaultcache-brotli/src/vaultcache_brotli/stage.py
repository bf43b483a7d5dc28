"""BrotliStage: brotli compression with bounded decompression.

Decompression never holds much more than ``max_size`` bytes of output, however far an entry
would expand: it uses ``Decompressor.process(data, output_buffer_limit=...)`` (brotli 1.2),
asking each call for at most ``DECOMPRESSION_STEP`` bytes, appends them to one buffer (returned
without a copy), and stops with SizeLimitError as soon as the output passes ``max_size``.
brotli grows its output buffer in blocks (32 KiB, then doubling), so one call may return up to
about twice what was asked: memory peaks at about ``max_size`` plus two steps. Corrupt,
truncated or trailing input is a DecodeError.
"""

from __future__ import annotations

import io
from typing import Any

import attrs
import brotli

from vaultcache.plugin import (
    DECOMPRESSION_STEP,
    DEFAULT_MAX_SIZE,
    DecodeError,
    SizeLimitError,
    int_option,
    parse_options,
)

__all__ = ["DEFAULT_QUALITY", "BrotliStage", "brotli_stage"]

#: The default quality: 11 compresses at under 1 MB/s, far too slow for a cache's misses;
#: 5 is a middle ground (see the package README for measured speeds and ratios).
DEFAULT_QUALITY = 5
_MAX_SIZE_LIMIT = 1 << 40
_NAME = "brotli"


class BrotliStage:
    """Brotli at `quality` (0 to 11); ``loads`` refuses output larger than `max_size` bytes."""

    name = _NAME
    kind = "compression"
    is_binary = True

    @attrs.frozen
    class Options:
        """Options of the brotli stage."""

        quality: int = int_option(DEFAULT_QUALITY, 0, 11)
        max_size: int = int_option(DEFAULT_MAX_SIZE, 1, _MAX_SIZE_LIMIT)

    def __init__(self, quality: int = DEFAULT_QUALITY, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.quality = quality
        self.max_size = max_size

    def dumps(self, data: bytes) -> bytes:
        """Compress `data` into one brotli stream."""
        return bytes(brotli.compress(data, quality=self.quality))

    def loads(self, data: bytes) -> bytes:
        """Decompress one complete stream of at most ``max_size`` bytes."""
        decompressor = brotli.Decompressor()
        output = io.BytesIO()
        total = 0
        pending = bytes(data)
        try:
            while not decompressor.is_finished():
                chunk = decompressor.process(pending, output_buffer_limit=DECOMPRESSION_STEP)
                pending = b""  # all input goes in the first call; brotli keeps what it holds
                total += len(chunk)
                if total > self.max_size:
                    raise SizeLimitError(self.name, self.max_size)
                output.write(chunk)
                if not chunk:
                    break  # every input byte used and nothing more comes: truncated
        except brotli.error:
            raise DecodeError(
                f"stage {self.name!r}: corrupt stream or trailing data", stage=self.name
            ) from None
        if not decompressor.is_finished():
            raise DecodeError(f"stage {self.name!r}: truncated stream", stage=self.name)
        return output.getvalue()  # the buffer itself, not a copy

    def __repr__(self) -> str:
        return f"BrotliStage(quality={self.quality}, max_size={self.max_size})"


def brotli_stage(options: dict[str, Any], keys: object = None) -> BrotliStage:
    """Build the stage from its options (``quality``, ``max_size``); ConfigError if bad."""
    parsed = parse_options(_NAME, options, BrotliStage.Options)
    return BrotliStage(quality=parsed.quality, max_size=parsed.max_size)
