"""BaseStorage defaults, option checking and cache locations."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from vaultcache.backends.base import BackendError, BaseStorage, check_options, resolve_location
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
