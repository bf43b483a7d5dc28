"""The built-in backends are registered through the plugin hook and build BaseCaches."""

from __future__ import annotations

from pathlib import Path

import pytest

from vaultcache.backends import (
    BaseCache,
    FileStorage,
    MemoryStorage,
    SQLiteStorage,
    filesystem_cache,
    memory_cache,
    sqlite_cache,
)
from vaultcache.backends import plugin as backend_plugin
from vaultcache.errors import ConfigError
from vaultcache.registry import PluginRegistry


@pytest.fixture
def registry() -> PluginRegistry:
    registry = PluginRegistry(entry_points=False)
    if "sqlite" not in {registration.name for registration in registry.backends()}:
        # Until vaultcache.backends.plugin is in BUILTIN_PLUGINS, register it by hand.
        registry.register(backend_plugin, distribution="vaultcache")
    return registry


def test_builtin_backends_are_registered(registry: PluginRegistry) -> None:
    names = {registration.name for registration in registry.backends()}
    assert {"sqlite", "filesystem", "memory"} <= names
    for name in ("sqlite", "filesystem", "memory"):
        registration = registry.backend(name)
        assert registration.provider.distribution == "vaultcache"
        assert registration.description


def test_sqlite_factory(registry: PluginRegistry, tmp_path: Path) -> None:
    cache = registry.backend("sqlite").factory(str(tmp_path / "http"), {"busy_timeout": 5})
    try:
        assert isinstance(cache, BaseCache)
        assert isinstance(cache.storage, SQLiteStorage)
        assert isinstance(cache.redirect_storage, SQLiteStorage)
        assert cache.storage.path == cache.redirect_storage.path == tmp_path / "http.sqlite"
        assert (cache.storage.table_name, cache.redirect_storage.table_name) == (
            "responses",
            "redirects",
        )
        assert cache.storage.busy_timeout == 5.0
    finally:
        cache.close()


def test_filesystem_factory(registry: PluginRegistry, tmp_path: Path) -> None:
    cache = registry.backend("filesystem").factory(str(tmp_path / "http"), {"extension": ".bin"})
    assert isinstance(cache.storage, FileStorage)
    assert cache.storage.cache_dir == tmp_path / "http" / "responses"
    assert cache.redirect_storage.cache_dir == tmp_path / "http" / "redirects"
    assert cache.storage.extension == ".bin"


def test_memory_factory(registry: PluginRegistry) -> None:
    cache = registry.backend("memory").factory("anything", {})
    assert isinstance(cache.storage, MemoryStorage)
    assert isinstance(cache.redirect_storage, MemoryStorage)
    assert cache.storage is not cache.redirect_storage


@pytest.mark.parametrize(
    ("name", "option", "suggestion"),
    [
        ("sqlite", "busy_timout", "busy_timeout"),
        ("filesystem", "extention", "extension"),
        ("sqlite", "use_tmp", "use_temp"),
        ("memory", "size", None),
    ],
)
def test_unknown_option_is_a_config_error(
    registry: PluginRegistry, tmp_path: Path, name: str, option: str, suggestion: str | None
) -> None:
    with pytest.raises(ConfigError) as caught:
        registry.backend(name).factory(str(tmp_path / "http"), {option: 1})
    assert caught.value.key == f"backend.{name}.{option}"
    if suggestion:
        assert f"did you mean {suggestion!r}?" in str(caught.value)


def test_bad_option_value_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        sqlite_cache(str(tmp_path / "http"), busy_timeout="soon")
    assert caught.value.key == "backend.sqlite.busy_timeout"
    with pytest.raises(ConfigError) as caught:
        filesystem_cache(str(tmp_path / "http"), use_temp="yes")
    assert caught.value.key == "backend.filesystem.use_temp"


def test_convenience_functions(tmp_path: Path) -> None:
    sqlite = sqlite_cache(tmp_path / "http")
    sqlite.storage["k"] = b"v"
    assert sqlite.storage["k"] == b"v"
    assert "k" not in sqlite.redirect_storage
    sqlite.close()
    files = filesystem_cache(tmp_path / "files")
    files.redirect_storage["k"] = b"v"
    assert list(files.redirect_storage) == ["k"]
    assert isinstance(memory_cache(), BaseCache)
