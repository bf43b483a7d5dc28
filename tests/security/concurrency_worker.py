"""The body of each spawned process in the concurrency test (not a test module)."""

from __future__ import annotations

import random
import threading

from security_support import check_response

from vaultcache.session import CachedSession

PATHS = [f"/concurrent/{number}" for number in range(12)]


def hammer(
    backend: str, cache: str, key: str, base_url: str, seed: int, threads: int, count: int
) -> dict[str, object]:
    """`threads` threads each make `count` requests through one CachedSession.

    Returns what went wrong (empty when every response was the right one), how many were
    answered from the cache, and how many stored entries were discarded as unreadable.
    """
    session = CachedSession(cache, backend=backend, keys=[key])
    problems: list[str] = []
    hits = [0] * threads

    def run(number: int) -> None:
        rng = random.Random(f"{seed}-{number}")
        for _ in range(count):
            url = f"{base_url}{rng.choice(PATHS)}?pad={rng.choice((0, 2000, 60_000))}"
            try:
                response = session.get(url, force_refresh=rng.random() < 0.15, timeout=30)
                problem = check_response(url, response.status_code, response.content)
                hits[number] += bool(response.from_cache)
            except Exception as error:  # reported to the parent, which fails the test
                problem = f"{type(error).__name__}: {error}"
            if problem:
                problems.append(problem)

    workers = [threading.Thread(target=run, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    discarded = session.cache.stats.discarded
    session.close()
    return {"problems": problems, "hits": sum(hits), "discarded": discarded}
