"""A 4 GiB body is stored and served streamed, with memory bounded by a chunk, not the body."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SIZE = 4 * 1024**3
#: The body compresses to about a thousandth; this leaves room for sqlite's journal too.
NEEDED = 512 * 1024**2


def test_a_4_gib_body_round_trips_in_bounded_memory(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    if free < NEEDED:
        pytest.skip(f"needs {NEEDED >> 20} MiB free in {tmp_path}, has {free >> 20} MiB")
    worker = Path(__file__).with_name("huge_body_worker.py")
    result = subprocess.run(
        [sys.executable, str(worker), str(tmp_path / "cache"), str(SIZE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    assert report["from_cache"] == [False, True]
    assert report["same"]
    assert report["store_growth_mib"] < 64, report
    assert report["hit_growth_mib"] < 64, report
