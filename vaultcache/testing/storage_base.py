"""What every part of the storage contract shares: how a test gets its storage, and checks.

The tests themselves are in :mod:`vaultcache.testing.storage` (single and many entries),
:mod:`vaultcache.testing.storage_sharing` (threads, processes, persistence, compare-and-swap),
:mod:`vaultcache.testing.storage_retention` and :mod:`vaultcache.testing.storage_chunks` (the
chunks of large bodies); :class:`StorageContract` gathers them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from vaultcache.backends.base import BaseStorage

__all__ = ["StorageFactory", "StorageTests", "check_final_state", "check_shared", "shared_value"]

#: A picklable callable that builds a storage, and the arguments to call it with.
StorageFactory = tuple[Callable[..., BaseStorage], tuple[Any, ...]]


class StorageTests:
    """How the storage tests get their storage, and the switches and sizes that tune them.

    ``persistent``: entries outlive the instance that wrote them: a new instance at the same
    place sees them, and so does another instance open there at the same time (in the same
    process). ``multiprocess``: several processes may use one place at once.
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


def shared_value(label: str) -> bytes:
    """A self-checking value: any torn or mixed write fails :func:`check_shared`."""
    body = label.encode() * 50
    return hashlib.sha256(body).digest() + body


def check_shared(value: bytes | None) -> None:
    """Fail unless `value` is one whole value written by :func:`shared_value`."""
    assert value is not None, "the shared key vanished"
    digest, body = value[:32], value[32:]
    assert hashlib.sha256(body).digest() == digest, "the shared key holds a torn value"


def check_final_state(storage: BaseStorage, expected: dict[str, bytes]) -> None:
    """Fail unless `storage` holds exactly `expected` and a whole shared value."""
    check_shared(storage.get("shared"))
    assert sorted(storage) == sorted([*expected, "shared"])
    assert len(storage) == len(expected) + 1
    for key, value in expected.items():
        assert storage[key] == value
