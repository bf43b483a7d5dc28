"""A writer killed with SIGKILL at random moments never leaves a torn or wrong entry.

A real subprocess writes through a CachedSession and its cache (twenty URLs with bodies from
a few bytes to 400 KiB, rewritten over and over) and is killed after a random delay, many
times over, on one store.
After each kill the store opens, and every entry in it reads as the complete, correct
response for its URL; none is discarded as unreadable (a torn entry would be).
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from security_support import check_response

from vaultcache.session import CachedSession

WRITER = Path(__file__).with_name("crash_writer.py")
ROUNDS = 16
MAX_DELAY = 0.2


def _start_writer(backend: str, cache: str, key: str, base_url: str, seed: str) -> Any:
    """Start the writer and wait (at most 30 s) until its session is open."""
    process = subprocess.Popen(
        [sys.executable, str(WRITER), backend, cache, key, base_url, seed],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    ready, _, _ = select.select([process.stdout], [], [], 30)
    assert ready, "the writer did not start"
    assert process.stdout.readline() == b"ready\n"
    return process


def _check_store(backend: str, cache: str, key: str) -> int:
    """Open the store, read every entry, return how many there are; fail on any bad one."""
    with CachedSession(cache, backend=backend, keys=[key]) as session:
        entries = list(session.cache.storage)
        for entry_key in entries:
            response = session.cache.get_response(entry_key)
            assert response is not None, "an entry listed a moment ago is gone"
            problem = check_response(response.url, response.status_code, response.content)
            assert problem is None, problem
        assert session.cache.stats.discarded == 0, "a torn or wrong entry was found"
    if backend == "sqlite":
        with closing(sqlite3.connect(cache + ".sqlite")) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return len(entries)


@pytest.mark.parametrize("backend", ["sqlite", "filesystem"])
def test_writer_killed_at_random_moments_never_leaves_a_torn_entry(
    origin: Any, cache_path: str, key: str, backend: str
) -> None:
    """Attack (or accident): SIGKILL a writer mid-write, again and again."""
    rng = random.Random(f"crash-{backend}")
    seen = 0
    for round_number in range(ROUNDS):
        writer = _start_writer(backend, cache_path, key, origin.base_url, f"{round_number}")
        time.sleep(rng.uniform(0.01, MAX_DELAY))  # the random moment is the point, not timing
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(10) == -signal.SIGKILL
        writer.stdout.close()
        seen = max(seen, _check_store(backend, cache_path, key))
    assert seen > 0, "the writer never wrote anything"
