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
