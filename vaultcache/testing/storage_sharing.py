"""The storage contract's tests of sharing: threads, persistence, processes, compare-and-swap."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from vaultcache.backends.base import BaseStorage
from vaultcache.testing.storage_base import (
    StorageTests,
    check_final_state,
    check_shared,
    shared_value,
)

__all__ = ["SharingTests", "run_storage_workers"]


class SharingTests(StorageTests):
    """Threads and processes sharing one storage, persistence, and :meth:`BaseStorage.replace`."""

    # -- concurrency and persistence --------------------------------------------------------

    def test_threads(self, storage: BaseStorage) -> None:
        with ThreadPoolExecutor(self.threads) as pool:
            futures = [
                pool.submit(_exercise, storage, f"t{number}", self.thread_rounds, None)
                for number in range(self.threads)
            ]
            expected: dict[str, bytes] = {}
            for future in futures:
                expected.update(future.result())
        check_final_state(storage, expected)

    def test_persistence(self, tmp_path: Path) -> None:
        if not self.persistent:
            pytest.skip("storage is not persistent")
        with self.make_storage(tmp_path) as first:
            first["kept"] = b"value"
            first["deleted"] = b"value"
            del first["deleted"]
        with self.make_storage(tmp_path) as second:
            assert second["kept"] == b"value"
            assert list(second) == ["kept"]

    def test_instances_open_at_once_share_entries(self, tmp_path: Path) -> None:
        if not self.persistent:
            pytest.skip("storage is not persistent")
        with self.make_storage(tmp_path) as first, self.make_storage(tmp_path) as second:
            first["from first"] = b"one"
            second["from second"] = b"two"
            assert second["from first"] == b"one"
            assert first["from second"] == b"two"
            del second["from first"]
            assert sorted(first) == ["from second"]

    def test_processes(self, tmp_path: Path) -> None:
        if not self.multiprocess:
            pytest.skip("storage is not shared between processes")
        factory, args = self.storage_args(tmp_path)
        with factory(*args) as storage:
            storage["before"] = b"written by the parent"
            expected = run_storage_workers(
                factory,
                args,
                processes=self.processes,
                threads=self.process_threads,
                rounds=self.process_rounds,
            )
            expected["before"] = b"written by the parent"
            check_final_state(storage, expected)

    # -- compare-and-swap ---------------------------------------------------------------------

    def test_replace_swaps_the_expected_value(self, storage: BaseStorage) -> None:
        storage["key"] = b"old"
        storage["other"] = b"old"
        assert storage.replace("key", b"old", b"new, and longer") is True
        assert storage["key"] == b"new, and longer"
        assert storage["other"] == b"old"
        assert storage.replace("key", b"new, and longer", b"") is True
        assert storage["key"] == b""
        assert len(storage) == 2

    def test_replace_refuses_any_other_value(self, storage: BaseStorage) -> None:
        storage["key"] = b"current"
        for stale in (b"stale", b"curren", b"current!", b""):
            assert storage.replace("key", stale, b"new") is False
        assert storage["key"] == b"current"

    def test_replace_of_a_missing_key(self, storage: BaseStorage) -> None:
        assert storage.replace("missing", b"", b"new") is False
        assert "missing" not in storage
        storage["gone"] = b"value"
        del storage["gone"]
        assert storage.replace("gone", b"value", b"new") is False
        assert "gone" not in storage
        assert len(storage) == 0

    def test_replace_checks_types(self, storage: BaseStorage) -> None:
        storage["key"] = b"value"
        with pytest.raises(TypeError):
            storage.replace("key", b"value", "text")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            storage.replace("key", "value", b"new")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            storage.replace(1, b"value", b"new")  # type: ignore[arg-type]
        assert storage["key"] == b"value"

    def test_replace_race_has_one_winner(self, storage: BaseStorage) -> None:
        storage["key"] = b"v0"
        barrier = threading.Barrier(self.threads)

        def contend(number: int) -> bool:
            barrier.wait()
            return storage.replace("key", b"v0", f"v{number}".encode())

        with ThreadPoolExecutor(self.threads) as pool:
            won = list(pool.map(contend, range(1, self.threads + 1)))
        assert won.count(True) == 1
        assert storage["key"] == f"v{won.index(True) + 1}".encode()

    def test_replace_keeps_every_increment(self, storage: BaseStorage) -> None:
        storage["counter"] = b"0"
        with ThreadPoolExecutor(self.threads) as pool:
            futures = [
                pool.submit(_increment, storage, "counter", self.replace_rounds)
                for _ in range(self.threads)
            ]
            for future in futures:
                future.result()
        assert storage["counter"] == str(self.threads * self.replace_rounds).encode()

    def test_replace_across_processes(self, tmp_path: Path) -> None:
        if not self.multiprocess:
            pytest.skip("storage is not shared between processes")
        factory, args = self.storage_args(tmp_path)
        with factory(*args) as storage:
            storage["counter"] = b"0"
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(self.processes, mp_context=context) as pool:
                futures = [
                    pool.submit(_increment_in_process, factory, args, self.replace_rounds)
                    for _ in range(self.processes)
                ]
                for future in futures:
                    future.result(timeout=120)
            assert storage["counter"] == str(self.processes * self.replace_rounds).encode()


def run_storage_workers(
    factory: Callable[..., BaseStorage],
    args: tuple[Any, ...],
    *,
    processes: int = 2,
    threads: int = 4,
    rounds: int = 50,
    duration: float | None = None,
    timeout: float = 120.0,
) -> dict[str, bytes]:
    """Run `processes` spawned processes of `threads` threads each, writing and reading one storage.

    Each process builds its own storage with ``factory(*args)``. Each thread runs `rounds`
    rounds, or as many as fit in `duration` seconds, of writes, reads, overwrites and deletes
    of its own keys and of one key all threads share, checking every read. Returns the
    entries that must be present afterwards (the shared key excluded); any failure in a
    worker is raised here.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [
            pool.submit(
                _process_worker,
                factory,
                args,
                name=f"p{number}",
                threads=threads,
                rounds=rounds,
                duration=duration,
            )
            for number in range(processes)
        ]
        expected: dict[str, bytes] = {}
        for future in futures:
            expected.update(future.result(timeout=timeout))
    return expected


def _process_worker(
    factory: Callable[..., BaseStorage],
    args: tuple[Any, ...],
    *,
    name: str,
    threads: int,
    rounds: int,
    duration: float | None,
) -> dict[str, bytes]:
    """The body of one spawned process: `threads` threads exercising its own storage."""
    with factory(*args) as storage, ThreadPoolExecutor(threads) as pool:
        futures = [
            pool.submit(_exercise, storage, f"{name}t{number}", rounds, duration)
            for number in range(threads)
        ]
        expected: dict[str, bytes] = {}
        for future in futures:
            expected.update(future.result())
    return expected


def _exercise(
    storage: BaseStorage, worker: str, rounds: int, duration: float | None
) -> dict[str, bytes]:
    """Write, read back, overwrite and delete `worker`'s own keys; write and read a shared key.

    Returns `worker`'s entries as they must be at the end.
    """
    deadline = None if duration is None else time.monotonic() + duration
    own: dict[str, bytes] = {}
    number = 0
    while (number < rounds) if deadline is None else (time.monotonic() < deadline):
        key = f"{worker}-{number % 10}"
        value = f"{worker}:{number}:".encode() + bytes(range(256))
        storage[key] = value
        own[key] = value
        assert storage[key] == value, f"{worker} read back another value for its own key"
        storage["shared"] = shared_value(f"{worker}:{number}")
        check_shared(storage.get("shared"))
        if number % 7 == 6:
            del storage[key]
            del own[key]
            assert key not in storage, f"{worker} still sees a key it deleted"
        number += 1
    return own


def _increment(storage: BaseStorage, key: str, times: int) -> None:
    """Add one to the decimal counter under `key`, `times` times, by compare-and-swap."""
    for _ in range(times):
        while True:
            current = storage[key]
            if storage.replace(key, current, str(int(current) + 1).encode()):
                break


def _increment_in_process(
    factory: Callable[..., BaseStorage], args: tuple[Any, ...], times: int
) -> None:
    """The body of one spawned process in the compare-and-swap test."""
    with factory(*args) as storage:
        _increment(storage, "counter", times)
