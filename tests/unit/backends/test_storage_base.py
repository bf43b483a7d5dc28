"""BaseStorage defaults, option checking and cache locations."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import platformdirs
import pytest

from vaultcache.backends.base import (
    BackendError,
    BaseStorage,
    EntryStats,
    check_options,
    resolve_location,
)
from vaultcache.errors import ConfigError, VaultCacheError
from vaultcache.testing import StorageContract, StorageFactory


class DictStorage(BaseStorage):
    """The smallest storage: only the five abstract methods, to exercise the defaults."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def __getitem__(self, key: str) -> bytes:
        return self.data[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_item(key, value)
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.data))

    def __len__(self) -> int:
        return len(self.data)


class TestMinimalStorage(StorageContract):
    """The defaults of BaseStorage (bulk_delete, clear, size_of, close) meet the contract."""

    threads = 2  # DictStorage has no lock of its own; the GIL keeps single dict ops atomic

    def storage_args(self, tmp_path: Path) -> StorageFactory:
        return DictStorage, ()


def test_base_storage_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseStorage()  # type: ignore[abstract]


def test_backend_error_is_a_vaultcache_error() -> None:
    error = BackendError("broken", backend="sqlite", path="/x")
    assert isinstance(error, VaultCacheError)
    assert (error.backend, error.path, str(error)) == ("sqlite", "/x", "broken")


def test_unknown_option_names_the_key_and_suggests() -> None:
    with pytest.raises(ConfigError) as caught:
        check_options("sqlite", {"busy_timout": 1}, ("busy_timeout", "use_temp"))
    assert caught.value.key == "backend.sqlite.busy_timout"
    assert "did you mean 'busy_timeout'?" in str(caught.value)


def test_known_options_pass() -> None:
    check_options("sqlite", {"use_temp": True}, ("busy_timeout", "use_temp"))


def test_resolve_location_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_location("x", "cache", use_cache_dir=False, use_temp=False) == (
        tmp_path / "cache"
    )


def test_resolve_location_in_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert resolve_location("x", "cache", use_cache_dir=False, use_temp=True) == (
        tmp_path / "cache"
    )


def test_resolve_location_in_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda name: str(tmp_path / name))
    assert resolve_location("x", "cache", use_cache_dir=True, use_temp=False) == (
        tmp_path / "vaultcache" / "cache"
    )


@pytest.mark.parametrize(
    ("location", "options", "key"),
    [
        ("cache", {"use_cache_dir": True, "use_temp": True}, "backend.x.use_temp"),
        ("/abs/cache", {"use_cache_dir": False, "use_temp": True}, "backend.x.use_temp"),
        ("/abs/cache", {"use_cache_dir": True, "use_temp": False}, "backend.x.use_cache_dir"),
        ("cache", {"use_cache_dir": "yes", "use_temp": False}, "backend.x.use_cache_dir"),
        (42, {"use_cache_dir": False, "use_temp": False}, "backend.x.path"),
    ],
)
def test_resolve_location_refuses(location: object, options: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_location("x", location, **options)  # type: ignore[arg-type]
    assert caught.value.key == key


class TimedStorage(DictStorage):
    """A storage that knows some entries' access times, and not others'."""

    def __init__(self, accessed: dict[str, float | None]) -> None:
        super().__init__()
        self.accessed = accessed

    def entry_stats(self) -> Iterator[EntryStats]:
        for key, value in self.data.items():
            yield EntryStats(key, len(value), None, self.accessed.get(key))


def test_default_evict_takes_unknown_access_times_as_oldest() -> None:
    storage = TimedStorage({"new": 30.0, "old": 10.0, "unknown-1": None, "unknown-2": None})
    storage.update(dict.fromkeys(["new", "unknown-1", "old", "unknown-2"], b"value"))
    assert storage.evict(max_entries=3) == 1
    assert sorted(storage) == ["new", "old", "unknown-2"]
    assert storage.evict(max_entries=1) == 2
    assert list(storage) == ["new"]


def test_default_evict_keeps_entries_of_unknown_age() -> None:
    storage = DictStorage()
    storage["key"] = b"value"
    assert storage.evict(max_age=timedelta(seconds=1), now=time.time() + 10**6) == 0
    assert list(storage) == ["key"]


def test_default_entry_stats_and_usage() -> None:
    storage = DictStorage()
    storage.update({"a": b"12", "b": b"1234"})
    assert sorted(storage.entry_stats()) == [("a", 2, None, None), ("b", 4, None, None)]
    assert storage.usage is storage.usage
    assert storage.evict() == 0
    assert storage.usage.snapshot()[:2] == (2, 6)


def test_default_note_access_is_cheap_and_silent() -> None:
    storage = DictStorage()
    storage.note_access("anything")
    assert not storage.track_access
