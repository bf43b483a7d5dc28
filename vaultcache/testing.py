"""Contract tests for storage backends, shared by the built-in backends and plugin packages.

Subclass :class:`StorageContract` in a test module (the subclass name must start with
``Test`` so pytest collects it) and say how to build your storage::

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
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest

from vaultcache.backends.base import BaseStorage

__all__ = ["ODD_KEYS", "StorageContract", "StorageFactory", "run_storage_workers"]

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
