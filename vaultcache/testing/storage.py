"""The storage contract: the tests every storage backend passes, built-in or from a plugin.

Subclass :class:`StorageContract` in a test module (the subclass name must start with ``Test``
so pytest collects it) and say how to build your storage::

    from vaultcache.testing import StorageContract

    class TestRedisStorage(StorageContract):
        persistent = True      # entries outlive the instance: a new one, or another one
                               # open at the same time, at the same location sees them
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

It also checks that the storage can hold a cache's chunked bodies
(:mod:`vaultcache.testing.storage_chunks`): a cache whose response and chunk storages are two
storages from :meth:`StorageContract.make_storage` (in subdirectories ``responses`` and
``chunks`` of the test's ``tmp_path``; override ``chunk_cache_storages`` if yours cannot keep
two places apart) stores a body of several 1 MiB chunks, reads it back whole and streamed,
and leaves no chunk behind when the entry is replaced or deleted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vaultcache.backends.base import BaseStorage
from vaultcache.testing.storage_chunks import ChunkTests
from vaultcache.testing.storage_retention import RetentionTests
from vaultcache.testing.storage_sharing import SharingTests

__all__ = ["ODD_KEYS", "StorageContract"]

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


class StorageContract(SharingTests, RetentionTests, ChunkTests):
    """Base class of the storage contract tests; implement :meth:`storage_args`.

    Not collected itself (no ``Test`` prefix). Class attributes switch optional parts on:
    ``persistent`` (entries outlive the instance that wrote them: a new instance at the same
    place sees them, and so does another instance open there at the same time) and
    ``multiprocess`` (several processes may use one place at once). The tests come from
    :class:`~vaultcache.testing.storage_sharing.SharingTests`,
    :class:`~vaultcache.testing.storage_retention.RetentionTests` and
    :class:`~vaultcache.testing.storage_chunks.ChunkTests` as well as this class.
    """

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
