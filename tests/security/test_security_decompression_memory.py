"""Decompression holds at most about max_size bytes, not twice that, bomb or not.

Measured in a fresh subprocess per case (the growth of its peak resident set size), since
tracemalloc does not see every allocation a codec makes in C.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CODECS = ("gzip", "zlib", "bz2", "lzma", "brotli")
MAX_SIZE_MIB = 48
#: What decompression may hold beyond max_size: its step buffer and the codec's own state.
SLACK_MIB = 12
WORKER = Path(__file__).with_name("decompression_worker.py")


def _run(codec: str, content_mib: int) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(WORKER), codec, str(MAX_SIZE_MIB), str(content_mib)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(completed.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("codec", CODECS)
def test_a_bomb_grows_the_process_by_at_most_max_size(codec: str) -> None:
    """Attack: a bomb four times max_size; refused, having held at most max_size + slack."""
    if codec == "brotli":
        pytest.importorskip("vaultcache_brotli")
    measured = _run(codec, 4 * MAX_SIZE_MIB)

    assert measured["outcome"] == "SizeLimitError"
    assert measured["growth"] < MAX_SIZE_MIB + SLACK_MIB, measured


@pytest.mark.parametrize("codec", CODECS)
def test_an_entry_just_under_max_size_is_decompressed_without_a_second_copy(codec: str) -> None:
    """A legitimate entry near the bound costs its own size, not twice that."""
    if codec == "brotli":
        pytest.importorskip("vaultcache_brotli")
    measured = _run(codec, MAX_SIZE_MIB - 1)

    assert measured["outcome"] == "ok"
    assert measured["size"] == (MAX_SIZE_MIB - 1) * 1024 * 1024
    assert measured["growth"] < MAX_SIZE_MIB + SLACK_MIB, measured
