"""Concurrent identical requests in one process send one request to the origin."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vaultcache.coalescing import KeyLocks


def test_concurrent_misses_for_one_key_make_one_origin_request(
    make_session: Any, origin: Any
) -> None:
    session = make_session()
    path = "/data/coalesced"
    url = origin.url(path)
    gate = origin.hold(path)

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(session.get, url) for _ in range(6)]
        assert origin.wait_for_hits(path, 1)  # the first request reached the origin...
        gate.set()  # ...and the others wait for it, not for the origin
        responses = [future.result(timeout=30) for future in futures]

    assert origin.hits(path) == 1
    assert len({response.content for response in responses}) == 1
    assert sum(response.from_cache for response in responses) == 5
    assert len(session._key_locks) == 0  # every per-key lock was released and dropped


def test_different_keys_do_not_wait_for_each_other(make_session: Any, origin: Any) -> None:
    session = make_session()
    gate = origin.hold("/data/slow")
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(session.get, origin.url("/data/slow"))
        assert origin.wait_for_hits("/data/slow", 1)
        fast = pool.submit(session.get, origin.url("/data/fast")).result(timeout=30)
        assert fast.status_code == 200
        assert not slow.done()
        gate.set()
        assert slow.result(timeout=30).status_code == 200


def test_key_locks_are_dropped_once_released() -> None:
    locks = KeyLocks()
    with locks.hold("a"), locks.hold("b"):
        assert len(locks) == 2
    assert len(locks) == 0
