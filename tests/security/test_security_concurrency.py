"""Several processes with several threads each share one cache: no error reaches a caller
and no response is ever served for the wrong URL.

The origin's bodies encode their URL (path, query digest and a URL-dependent length), so a
response served for the wrong key, or torn, is detected by every caller.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import concurrency_worker
import pytest

PROCESSES, THREADS, REQUESTS = 3, 4, 60


@pytest.mark.parametrize("backend", ["sqlite", "filesystem"])
def test_processes_and_threads_sharing_one_cache_get_only_their_own_responses(
    origin: Any, cache_path: str, key: str, backend: str
) -> None:
    """Attack (or accident): readers and writers racing on the same keys across processes."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        futures = [
            pool.submit(
                concurrency_worker.hammer,
                backend,
                cache_path,
                key,
                origin.base_url,
                seed,
                THREADS,
                REQUESTS,
            )
            for seed in range(PROCESSES)
        ]
        results = [future.result(timeout=120) for future in futures]

    assert [result["problems"] for result in results] == [[]] * PROCESSES
    assert [result["discarded"] for result in results] == [0] * PROCESSES
    assert sum(int(result["hits"]) for result in results) > PROCESSES * THREADS * REQUESTS // 3
