"""Run in a subprocess: how much one decompression grows the process's peak memory.

Usage: ``python decompression_worker.py CODEC MAX_SIZE_MIB CONTENT_MIB``. Builds a stream of
CONTENT_MIB MiB of zeros (in pieces, so building it costs little), decompresses it with the
stage's max_size set to MAX_SIZE_MIB MiB, and prints one JSON object: the outcome and the
growth of the peak resident set size (ru_maxrss) in MiB.
"""

from __future__ import annotations

import bz2
import json
import lzma
import resource
import sys
import zlib
from typing import Any

MiB = 1024 * 1024


def _stream(codec: str, size: int) -> bytes:
    if codec == "brotli":
        import brotli  # only installed with the plugin

        compressor: Any = brotli.Compressor(quality=1)
        pieces = [compressor.process(bytes(MiB)) for _ in range(size // MiB)]
        return b"".join(pieces) + compressor.finish()
    compressor = {
        "gzip": lambda: zlib.compressobj(1, wbits=31),
        "zlib": lambda: zlib.compressobj(1),
        "bz2": lambda: bz2.BZ2Compressor(1),
        "lzma": lambda: lzma.LZMACompressor(preset=0),
    }[codec]()
    return b"".join(compressor.compress(bytes(MiB)) for _ in range(size // MiB)) + (
        compressor.flush()
    )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    codec, max_size, content = sys.argv[1], int(sys.argv[2]) * MiB, int(sys.argv[3]) * MiB
    from vaultcache.registry import get_registry

    stage = get_registry().build_stage(codec, {"max_size": max_size}, None)
    stream = _stream(codec, content)
    stage.loads(_stream(codec, MiB))  # warm up: allocator pools, lazy imports
    before = _peak_mib()
    try:
        result = stage.loads(stream)
        outcome, size = "ok", len(result)
    except Exception as exc:
        outcome, size = type(exc).__name__, 0
    print(json.dumps({"outcome": outcome, "size": size, "growth": _peak_mib() - before}))


if __name__ == "__main__":
    main()
