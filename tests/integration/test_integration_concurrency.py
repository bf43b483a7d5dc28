"""Several processes on one sqlite cache, and many threads on one CachedSession."""

from __future__ import annotations

import importlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from requests_futures.sessions import FuturesSession

from vaultcache.session import CachedSession

PATHS = [f"/data/shared-{number}" for number in range(5)]


def test_processes_sharing_one_sqlite_cache(
    origin: Any, cache_path: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    worker = importlib.import_module("vaultcache_integration_worker")
    processes, rounds = 3, 50
    CachedSession(cache_path, keys=[key]).close()  # create the database up front

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [
            pool.submit(worker.fetch_many, cache_path, key, origin.base_url, PATHS, rounds, number)
            for number in range(processes)
        ]
        results = [future.result(timeout=120) for future in futures]

    report = f"results: {results}; origin hits: {origin.total_hits()}"
    assert [result["problems"] for result in results] == [[]] * processes, report
    assert sum(result["requests"] for result in results) == processes * rounds, report
    assert sum(result["from_cache"] for result in results) > processes * rounds // 2, report
    forced = processes * (rounds // 10)
    assert len(PATHS) <= origin.total_hits() <= processes * len(PATHS) + forced, report
    with CachedSession(cache_path, keys=[key]) as session:
        assert session.cache.response_count() == len(PATHS)
        for path in PATHS:
            assert session.get(origin.url(path, size=500 + 100 * PATHS.index(path))).from_cache


def test_threads_sharing_one_cached_session(backend_session: CachedSession, origin: Any) -> None:
    futures_session = FuturesSession(session=backend_session, max_workers=8)
    urls = {path: origin.url(path, size=300 + 50 * n) for n, path in enumerate(PATHS)}
    try:
        pending = [
            (path, futures_session.get(urls[path], force_refresh=number % 25 == 0))
            for number in range(200)
            for path in [PATHS[number % len(PATHS)]]
        ]
        responses = [(path, future.result(timeout=60)) for path, future in pending]
    finally:
        futures_session.executor.shutdown(wait=True)

    for path, response in responses:
        assert response.status_code == 200
        assert response.json()["path"] == path
        assert len(response.content) == 300 + 50 * PATHS.index(path)
    assert sum(bool(response.from_cache) for _, response in responses) > 100
    assert backend_session.cache.response_count() == len(PATHS)
    assert backend_session.cache.stats.discarded == 0


def test_threads_revalidating_the_same_entry(make_session: Any, origin: Any, clock: Any) -> None:
    """Many threads revalidating one expired entry at once all get the right body."""
    session = make_session(expire_after=1)
    path = "/data/threads-revalidate"
    url = origin.url(path, etag=1, size=700)
    expected = session.get(url).content
    clock.advance(5)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: session.get(url), range(40)))

    assert all(r.status_code == 200 and r.content == expected for r in responses)
    assert session.cache.stats.discarded == 0
