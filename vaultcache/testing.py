"""Contract tests for storage backends and serializer stages, shared by built-ins and plugins.

Stages: subclass :class:`StageContract` and name the stage as registered; the tests build it
through the plugin registry, so they also prove the plugin is installed and loads::

    from vaultcache.testing import StageContract

    class TestBrotliStage(StageContract):
        stage_name = "brotli"
        stage_options = {"quality": 5}

Override ``make_stage(self, options, keys)`` to build the stage some other way. What is
checked follows the stage's registered kind: round trips, input it cannot accept (only
``IntegrityError``, ``DecodeError`` or ``SizeLimitError``), bounded decompression and a
``max_size`` option for compression stages, every bit flip failing authentication and key
rotation for signing and encryption stages, unknown options, and use in a spec string.

Storage backends: subclass :class:`StorageContract` in a test module (the subclass name must
start with ``Test`` so pytest collects it) and say how to build your storage::

    from vaultcache.testing import StorageContract

    class TestRedisStorage(StorageContract):
        persistent = True      # a new instance on the same location sees the old entries
        multiprocess = True    # several processes may share one location

        def storage_args(self, tmp_path):
            return RedisStorage, (f"redis://localhost/0?prefix={tmp_path.name}",)

``storage_args`` returns a picklable callable and its arguments (a class and a tuple of
strings is ideal): the multi-process tests rebuild the storage in fresh ``spawn``-ed
processes from them. Override :meth:`StorageContract.make_storage` instead if building the
storage needs more than one call, and leave ``multiprocess`` False.

The contract covers :meth:`BaseStorage.replace` (compare-and-swap) and retention
(:meth:`BaseStorage.evict` and :class:`vaultcache.retention.Retention`). A storage that keeps
the defaults of :class:`BaseStorage` passes them too: the tests that need recorded reads
(``note_access``) or creation times (``entry_stats``) skip, saying so, when it has none.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from vaultcache._stage_contract import StageContract
from vaultcache.backends.base import BaseStorage
from vaultcache.retention import Retention

__all__ = [
    "ODD_KEYS",
    "StageContract",
    "StorageContract",
    "StorageFactory",
    "run_storage_workers",
]

#: A picklable callable that builds a storage, and the arguments to call it with.
StorageFactory = tuple[Callable[..., BaseStorage], tuple[Any, ...]]

#: Keys every storage must keep apart and give back unchanged.
ODD_KEYS: dict[str, str] = {
    "empty": "",
    "unicode": "ünïcödé ✓ 日本語 🗝️",
    "slashes": "https://example.com/a/b?c=d&e=/f",
    "dot-dot": "../../etc/passwd",
    "backslashes": "C:\\Windows\\..\\x",
    "whitespace": " leading and trailing \t\n",
    "nul": "nul\x00inside",
    "long": "k" * 10_240,
}

_MIB = 1024 * 1024


class StorageContract:
    """Base class of the storage contract tests; implement :meth:`storage_args`.

    Not collected itself (no ``Test`` prefix). Class attributes switch optional parts on:
    ``persistent`` (entries survive a new instance at the same place) and ``multiprocess``
    (several processes may use one place at once).
    """

    persistent: ClassVar[bool] = False
    multiprocess: ClassVar[bool] = False
    #: Size of the thread test: this many threads, each doing this many rounds.
    threads: ClassVar[int] = 8
    thread_rounds: ClassVar[int] = 100
    #: Size of the multi-process test: processes, threads in each, rounds per thread.
    processes: ClassVar[int] = 2
    process_threads: ClassVar[int] = 2
    process_rounds: ClassVar[int] = 50
    #: Increments per thread (and per process) in the compare-and-swap counter tests.
    replace_rounds: ClassVar[int] = 25
    #: Writes per thread (and per process) in the retention concurrency tests.
    retention_rounds: ClassVar[int] = 40

    def storage_args(self, tmp_path: Path) -> StorageFactory:
        """A picklable callable and its arguments that build a storage kept under `tmp_path`.

        Called again with the same `tmp_path`, it must build a storage at the same place.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement storage_args() (or make_storage())"
        )

    def make_storage(self, tmp_path: Path) -> BaseStorage:
        """A new storage kept under `tmp_path`; by default built from :meth:`storage_args`."""
        factory, args = self.storage_args(tmp_path)
        return factory(*args)

    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[BaseStorage]:
        """A fresh, empty storage, closed after the test."""
        storage = self.make_storage(tmp_path)
        try:
            yield storage
        finally:
            storage.close()

    # -- single entries ---------------------------------------------------------------------

    def test_is_a_base_storage(self, storage: BaseStorage) -> None:
        assert isinstance(storage, BaseStorage)
        assert len(storage) == 0
        assert list(storage) == []

    def test_set_then_get(self, storage: BaseStorage) -> None:
        storage["key"] = b"value"
        assert storage["key"] == b"value"
        assert type(storage["key"]) is bytes
        assert "key" in storage
        assert storage.get("key") == b"value"

    def test_overwrite_replaces_the_value(self, storage: BaseStorage) -> None:
        storage["key"] = b"first, and longer than the second"
        storage["key"] = b"second"
        assert storage["key"] == b"second"
        assert len(storage) == 1

    def test_delete(self, storage: BaseStorage) -> None:
        storage["key"] = b"value"
        storage["other"] = b"kept"
        del storage["key"]
        assert "key" not in storage
        assert storage.get("key") is None
        assert list(storage) == ["other"]

    def test_missing_key(self, storage: BaseStorage) -> None:
        with pytest.raises(KeyError):
            storage["missing"]
        with pytest.raises(KeyError):
            del storage["missing"]
        assert "missing" not in storage
        assert storage.get("missing", b"default") == b"default"
        assert storage.pop("missing", None) is None
        assert storage.size_of("missing") is None

    def test_non_str_keys_are_misses_on_read(self, storage: BaseStorage) -> None:
        storage["1"] = b"value"
        keys: list[object] = [1, b"1", None]
        for key in keys:
            assert key not in storage
            assert storage.get(key) is None  # type: ignore[call-overload]

    @pytest.mark.parametrize("key", list(ODD_KEYS.values()), ids=list(ODD_KEYS))
    def test_odd_keys_round_trip(self, storage: BaseStorage, key: str) -> None:
        storage[key] = b"odd:" + key.encode("utf-8")
        storage[key + "/"] = b"neighbour"
        assert storage[key] == b"odd:" + key.encode("utf-8")
        assert sorted(storage) == sorted([key, key + "/"])
        assert storage.size_of(key) == len(b"odd:" + key.encode("utf-8"))
        del storage[key]
        assert key not in storage
        assert list(storage) == [key + "/"]

    @pytest.mark.parametrize("size", [0, 1, 256, 4 * _MIB], ids=["0B", "1B", "256B", "4MiB"])
    def test_value_sizes(self, storage: BaseStorage, size: int) -> None:
        value = bytes(range(256)) * (size // 256) + os.urandom(size % 256)
        storage["key"] = value
        assert storage["key"] == value
        assert storage.size_of("key") == size

    @pytest.mark.parametrize(
        "value",
        ["secret text", bytearray(b"secret"), memoryview(b"secret"), 42, None, [b"secret"]],
        ids=["str", "bytearray", "memoryview", "int", "None", "list"],
    )
    def test_values_must_be_bytes(self, storage: BaseStorage, value: object) -> None:
        with pytest.raises(TypeError) as caught:
            storage["key"] = value  # type: ignore[assignment]
        assert type(value).__name__ in str(caught.value)
        assert "secret" not in str(caught.value)  # the type only, never the content
        assert "key" not in storage

    @pytest.mark.parametrize("key", [b"key", 1, None], ids=["bytes", "int", "None"])
    def test_keys_must_be_str(self, storage: BaseStorage, key: object) -> None:
        with pytest.raises(TypeError):
            storage[key] = b"value"  # type: ignore[index]
        assert len(storage) == 0

    def test_size_of(self, storage: BaseStorage) -> None:
        storage["key"] = b"12345"
        assert storage.size_of("key") == 5

    # -- many entries -----------------------------------------------------------------------

    def test_iteration_and_length(self, storage: BaseStorage) -> None:
        expected = {f"key-{number}": f"value-{number}".encode() for number in range(50)}
        storage.update(expected)
        assert len(storage) == 50
        assert sorted(storage) == sorted(expected)
        assert set(storage.keys()) == set(expected)
        assert dict(storage.items()) == expected

    def test_writing_while_iterating(self, storage: BaseStorage) -> None:
        storage.update({f"key-{number}": b"v" for number in range(20)})
        for key in storage:
            del storage[key]
            storage[key + "-new"] = b"w"
        assert len(storage) == 20

    def test_clear(self, storage: BaseStorage) -> None:
        storage.update({f"key-{number}": b"value" for number in range(20)})
        storage.clear()
        assert len(storage) == 0
        assert list(storage) == []
        storage["after"] = b"still usable"
        assert storage["after"] == b"still usable"

    def test_bulk_delete(self, storage: BaseStorage) -> None:
        storage.update({f"key-{number}": b"value" for number in range(10)})
        doomed = [f"key-{number}" for number in range(5)]
        assert storage.bulk_delete([*doomed, "key-0", "missing", "also missing"]) == 5
        assert sorted(storage) == [f"key-{number}" for number in range(5, 10)]
        assert storage.bulk_delete([]) == 0

    def test_bulk_delete_of_a_generator_that_reads_the_storage(self, storage: BaseStorage) -> None:
        storage.update({f"key-{number}": b"value" for number in range(10)})
        wanted = [f"key-{number}" for number in range(0, 20, 2)]
        assert storage.bulk_delete(key for key in wanted if key in storage) == 5
        assert len(storage) == 5

    def test_close_is_idempotent(self, tmp_path: Path) -> None:
        with self.make_storage(tmp_path) as storage:
            storage["key"] = b"value"
        storage.close()

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
        _check_final_state(storage, expected)

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
            _check_final_state(storage, expected)

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
            _check_shared(storage[key])

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
                _check_shared(storage[key])


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
        storage["shared"] = _shared_value(f"{worker}:{number}")
        _check_shared(storage.get("shared"))
        if number % 7 == 6:
            del storage[key]
            del own[key]
            assert key not in storage, f"{worker} still sees a key it deleted"
        number += 1
    return own


def _records_access(storage: BaseStorage) -> bool:
    """Whether `storage` records reads (overrides the no-op ``note_access``)."""
    return type(storage).note_access is not BaseStorage.note_access


def _wait_for_clock(moment: float) -> None:
    """Spin until the wall clock reaches `moment` (a millisecond or so: no sleep needed)."""
    while time.time() < moment:
        pass


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


def _retain(storage: BaseStorage, retention: Retention, worker: str, rounds: int) -> None:
    """Write `rounds` new entries with `retention` applied, reading earlier ones back."""
    for number in range(rounds):
        key = f"{worker}-{number}"
        storage[key] = _shared_value(key)
        retention.after_write(storage)
        earlier = storage.get(f"{worker}-{number // 2}")
        if earlier is not None:  # it may have been evicted
            _check_shared(earlier)


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


def _shared_value(label: str) -> bytes:
    """A self-checking value: any torn or mixed write fails :func:`_check_shared`."""
    body = label.encode() * 50
    return hashlib.sha256(body).digest() + body


def _check_shared(value: bytes | None) -> None:
    assert value is not None, "the shared key vanished"
    digest, body = value[:32], value[32:]
    assert hashlib.sha256(body).digest() == digest, "the shared key holds a torn value"


def _check_final_state(storage: BaseStorage, expected: dict[str, bytes]) -> None:
    _check_shared(storage.get("shared"))
    assert sorted(storage) == sorted([*expected, "shared"])
    assert len(storage) == len(expected) + 1
    for key, value in expected.items():
        assert storage[key] == value
