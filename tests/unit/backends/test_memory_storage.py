"""MemoryStorage against the storage contract."""

from __future__ import annotations

from pathlib import Path

from vaultcache.backends.memory import MemoryStorage
from vaultcache.testing import StorageContract, StorageFactory


class TestMemoryStorage(StorageContract):
    def storage_args(self, tmp_path: Path) -> StorageFactory:
        return MemoryStorage, ()


def test_repr_counts_entries() -> None:
    storage = MemoryStorage()
    storage["a"] = b"1"
    assert repr(storage) == "<MemoryStorage: 1 entries>"


def test_reads_reorder_entries_only_while_tracked() -> None:
    storage = MemoryStorage()
    storage.update(dict.fromkeys("abc", b"value"))
    assert storage["a"] == b"value"
    assert list(storage) == ["a", "b", "c"]
    storage.track_access = True
    assert storage["a"] == b"value"
    assert list(storage) == ["b", "c", "a"]
    storage["b"] = b"written again"  # a write is a use too
    assert list(storage) == ["c", "a", "b"]
    assert storage.replace("c", b"value", b"re-encrypted")  # re-encrypting is not
    assert list(storage) == ["c", "a", "b"]
    assert storage.evict(max_entries=2) == 1
    assert list(storage) == ["a", "b"]


def test_usage_is_exact() -> None:
    storage = MemoryStorage()
    storage.track_access = True
    storage["a"] = b"12345"
    storage["a"] = b"123"
    storage["b"] = b"1"
    storage.replace("b", b"1", b"12")
    usage = storage.usage.snapshot()
    assert (usage.entries, usage.bytes) == (2, 5)
