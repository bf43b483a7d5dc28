"""The storage contract's retention tests: entry stats, eviction, and Retention's bounds."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from vaultcache.backends.base import BaseStorage
from vaultcache.retention import Retention
from vaultcache.testing.storage_base import StorageTests, check_shared, shared_value

__all__ = ["RetentionTests"]


class RetentionTests(StorageTests):
    """:meth:`BaseStorage.evict` and :class:`vaultcache.retention.Retention` on the storage.

    A storage that keeps :class:`BaseStorage`'s defaults passes too: the tests that need
    recorded reads (``note_access``) or creation times (``entry_stats``) skip, saying so.
    """

    # -- retention ----------------------------------------------------------------------------

    def test_entry_stats(self, storage: BaseStorage) -> None:
        storage["a"] = b"x" * 10
        storage["b"] = b"y" * 30
        stats = {entry.key: entry for entry in storage.entry_stats()}
        assert set(stats) == {"a", "b"}
        assert stats["a"].size >= 10
        assert stats["b"].size - stats["a"].size == 20  # keys of one length: same overhead
        for entry in stats.values():
            if entry.created is not None and entry.accessed is not None:
                assert entry.accessed >= entry.created

    def test_evict_counts_what_remains(self, storage: BaseStorage) -> None:
        for number in range(6):
            storage[f"key-{number}"] = b"v" * (number + 1)
        assert storage.evict() == 0
        assert len(storage) == 6
        assert storage.evict(max_entries=4) == 2
        assert storage.evict(max_entries=4) == 0
        assert len(storage) == 4
        usage = storage.usage.snapshot()
        assert usage.entries == 4
        assert usage.bytes == sum(entry.size for entry in storage.entry_stats())
        assert usage.counted_at is not None

    def test_max_entries(self, storage: BaseStorage) -> None:
        retention = Retention(max_entries=3, slack=0)
        for number in range(6):
            storage[f"key-{number}"] = b"value"
            retention.after_write(storage)
            assert len(storage) <= 3
        assert len(storage) == 3
        if _records_access(storage):
            assert sorted(storage) == ["key-3", "key-4", "key-5"]

    def test_max_bytes(self, storage: BaseStorage) -> None:
        storage["key-0"] = b"v" * 100
        (entry,) = storage.entry_stats()
        retention = Retention(max_bytes=3 * entry.size + entry.size // 2, slack=0)
        retention.after_write(storage)
        for number in range(1, 6):
            storage[f"key-{number}"] = b"v" * 100
            retention.after_write(storage)
        assert len(storage) == 3
        assert sum(entry.size for entry in storage.entry_stats()) <= 3.5 * entry.size
        if _records_access(storage):
            assert sorted(storage) == ["key-3", "key-4", "key-5"]

    def test_an_entry_larger_than_max_bytes_is_not_kept(self, storage: BaseStorage) -> None:
        # check_every=1: a storage that does not report writes learns sizes only by counting.
        retention = Retention(max_bytes=1000, slack=0, check_every=1)
        storage["small"] = b"v" * 10
        retention.after_write(storage)
        storage["huge"] = b"v" * 5000
        retention.after_write(storage)
        assert len(storage) == 0

    def test_reads_count_as_use(self, storage: BaseStorage) -> None:
        if not _records_access(storage):
            pytest.skip("storage does not record reads (BaseStorage.note_access default)")
        retention = Retention(max_entries=3, slack=0)
        retention.attach(storage)
        for key in ("a", "b", "c"):
            storage[key] = b"value"
            retention.after_write(storage)
        assert storage["a"] == b"value"  # a is now used more recently than b and c
        storage["d"] = b"value"
        retention.after_write(storage)
        assert sorted(storage) == ["a", "c", "d"]
        assert storage.get("c") == b"value"  # now a is the least recently used
        storage["e"] = b"value"
        retention.after_write(storage)
        assert sorted(storage) == ["c", "d", "e"]

    def test_max_age(self, storage: BaseStorage) -> None:
        storage["old"] = b"value"
        _wait_for_clock(time.time() + 0.001)
        storage["new"] = b"value"
        stats = {entry.key: entry for entry in storage.entry_stats()}
        old, new = stats["old"].created, stats["new"].created
        if old is None or new is None:
            pytest.skip("storage does not record creation times (BaseStorage.entry_stats)")
        assert old < new
        retention = Retention(max_age=timedelta(hours=1))
        assert retention.apply(storage, now=time.time()) == 0
        assert retention.apply(storage, now=(old + new) / 2 + 3600) == 1
        assert list(storage) == ["new"]
        assert retention.apply(storage, now=time.time() + 7200) == 1
        assert len(storage) == 0

    def test_reading_an_old_entry_does_not_make_it_young(self, storage: BaseStorage) -> None:
        storage["key"] = b"value"
        (entry,) = storage.entry_stats()
        if entry.created is None:
            pytest.skip("storage does not record creation times (BaseStorage.entry_stats)")
        retention = Retention(max_age=timedelta(seconds=10))
        retention.attach(storage)
        assert storage["key"] == b"value"
        assert retention.apply(storage, now=entry.created + 11) == 1

    def test_retention_with_threads(self, storage: BaseStorage) -> None:
        retention = Retention(max_entries=12, check_every=4)
        with ThreadPoolExecutor(self.threads) as pool:
            futures = [
                pool.submit(_retain, storage, retention, f"t{number}", self.retention_rounds)
                for number in range(self.threads)
            ]
            for future in futures:
                future.result()
        assert len(storage) <= 12 + self.threads
        retention.apply(storage)
        assert len(storage) <= 12
        for key in storage:
            check_shared(storage[key])

    def test_retention_notices_other_writers(self, tmp_path: Path) -> None:
        if not self.persistent:
            pytest.skip("storage is not persistent")
        retention = Retention(max_entries=10, check_every=5, slack=0)
        with self.make_storage(tmp_path) as mine, self.make_storage(tmp_path) as other:
            for number in range(10):
                mine[f"mine-{number}"] = b"value"
                retention.after_write(mine)
            for number in range(20):
                other[f"other-{number}"] = b"value"  # a writer without retention
            assert len(mine) == 30
            writes = 0
            while len(mine) > 10:
                assert writes < retention.check_every, "retention did not count again"
                mine[f"late-{writes}"] = b"value"
                retention.after_write(mine)
                writes += 1
            # Two writers with retention: never far above the bound, and within it after a count.
            for number in range(40):
                storage = mine if number % 2 else other
                storage[f"both-{number}"] = b"value"
                retention.after_write(storage)
                assert len(mine) <= 10 + 2 * retention.check_every
            retention.apply(other)
            assert len(mine) == 10

    def test_retention_across_processes(self, tmp_path: Path) -> None:
        if not self.multiprocess:
            pytest.skip("storage is not shared between processes")
        factory, args = self.storage_args(tmp_path)
        retention = Retention(max_entries=20, check_every=5)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.processes, mp_context=context) as pool:
            futures = [
                pool.submit(
                    _retain_in_process,
                    factory,
                    args,
                    retention,
                    name=f"p{number}",
                    threads=self.process_threads,
                    rounds=self.retention_rounds,
                )
                for number in range(self.processes)
            ]
            for future in futures:
                future.result(timeout=120)
        with factory(*args) as storage:
            slop = self.processes * (self.process_threads + retention.check_every)
            assert len(storage) <= 20 + slop
            retention.apply(storage)
            assert len(storage) <= 20
            for key in storage:
                check_shared(storage[key])


def _records_access(storage: BaseStorage) -> bool:
    """Whether `storage` records reads (overrides the no-op ``note_access``)."""
    return type(storage).note_access is not BaseStorage.note_access


def _wait_for_clock(moment: float) -> None:
    """Spin until the wall clock reaches `moment` (a millisecond or so: no sleep needed)."""
    while time.time() < moment:
        pass


def _retain(storage: BaseStorage, retention: Retention, worker: str, rounds: int) -> None:
    """Write `rounds` new entries with `retention` applied, reading earlier ones back."""
    for number in range(rounds):
        key = f"{worker}-{number}"
        storage[key] = shared_value(key)
        retention.after_write(storage)
        earlier = storage.get(f"{worker}-{number // 2}")
        if earlier is not None:  # it may have been evicted
            check_shared(earlier)


def _retain_in_process(
    factory: Callable[..., BaseStorage],
    args: tuple[Any, ...],
    retention: Retention,
    *,
    name: str,
    threads: int,
    rounds: int,
) -> None:
    """The body of one spawned process in the retention test."""
    with factory(*args) as storage, ThreadPoolExecutor(threads) as pool:
        futures = [
            pool.submit(_retain, storage, retention, f"{name}t{number}", rounds)
            for number in range(threads)
        ]
        for future in futures:
            future.result()
