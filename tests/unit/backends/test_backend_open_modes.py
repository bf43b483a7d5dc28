"""``create=False`` and ``read_only=True``: every built-in backend factory takes them, and
none creates a cache that does not exist (the rule docs/plugins.md gives backend plugins)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vaultcache.backends import (
    BackendError,
    CacheNotFoundError,
    filesystem_cache,
    memory_cache,
    sqlite_cache,
)
from vaultcache.errors import ConfigError


@pytest.mark.parametrize("mode", [{"create": False}, {"read_only": True}], ids=str)
def test_sqlite_does_not_create_a_missing_cache(tmp_path: Path, mode: dict[str, bool]) -> None:
    with pytest.raises(CacheNotFoundError, match=r"no sqlite cache at .*absent\.sqlite"):
        sqlite_cache(tmp_path / "sub" / "absent", **mode)
    assert list(tmp_path.iterdir()) == []


def test_sqlite_points_at_a_filesystem_cache_of_that_name(tmp_path: Path) -> None:
    filesystem_cache(tmp_path / "cache").storage["k"] = b"v"

    with pytest.raises(CacheNotFoundError, match="is a folder: set backend = 'filesystem'"):
        sqlite_cache(tmp_path / "cache", read_only=True)


def test_sqlite_read_only_reads_and_writes_nothing(tmp_path: Path) -> None:
    writable = sqlite_cache(tmp_path / "c")
    writable.storage["k"] = b"value"
    writable.redirect_storage["r"] = b"k"
    writable.close()
    before = (tmp_path / "c.sqlite").read_bytes()

    cache = sqlite_cache(tmp_path / "c", read_only=True)
    assert cache.storage["k"] == b"value"
    assert list(cache.redirect_storage) == ["r"]
    with pytest.raises(BackendError, match="was opened read-only"):
        cache.storage["k"] = b"other"
    cache.close()

    assert (tmp_path / "c.sqlite").read_bytes() == before


def test_sqlite_create_false_opens_an_existing_cache_for_writing(tmp_path: Path) -> None:
    sqlite_cache(tmp_path / "c").close()

    cache = sqlite_cache(tmp_path / "c", create=False)
    cache.storage["k"] = b"value"
    assert cache.storage["k"] == b"value"
    cache.close()


def test_sqlite_read_only_file_without_the_table_is_no_cache(tmp_path: Path) -> None:
    (tmp_path / "empty.sqlite").write_bytes(b"")

    with pytest.raises(BackendError, match="has no table 'responses'"):
        sqlite_cache(tmp_path / "empty", read_only=True)


@pytest.mark.parametrize("mode", [{"create": False}, {"read_only": True}], ids=str)
def test_filesystem_does_not_create_a_missing_cache(tmp_path: Path, mode: dict[str, bool]) -> None:
    with pytest.raises(CacheNotFoundError, match="no filesystem cache at"):
        filesystem_cache(tmp_path / "absent", **mode)
    assert list(tmp_path.iterdir()) == []


def test_filesystem_read_only_reads_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "c" / "responses").mkdir(parents=True)
    writable = filesystem_cache(tmp_path / "c")
    writable.storage["k"] = b"value"
    (tmp_path / "c" / "redirects").rmdir()  # an old cache that never stored a redirect
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    cache = filesystem_cache(tmp_path / "c", read_only=True)
    assert cache.storage["k"] == b"value"
    assert list(cache.redirect_storage) == []
    for write in (
        lambda: cache.storage.__setitem__("k", b"x"),
        lambda: cache.storage.__delitem__("k"),
        cache.storage.clear,
    ):
        with pytest.raises(BackendError, match="opened read-only"):
            write()
    cache.close()

    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("mode", [{"create": False}, {"read_only": True}], ids=str)
def test_memory_has_no_existing_cache(mode: dict[str, bool]) -> None:
    with pytest.raises(CacheNotFoundError, match="keeps nothing between processes"):
        memory_cache("x", **mode)


def test_open_mode_options_must_be_booleans(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected true or false"):
        sqlite_cache(tmp_path / "c", read_only="yes")


def test_the_file_mode_warning_comes_once_per_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sqlite_cache(tmp_path / "shared").close()
    (tmp_path / "shared.sqlite").chmod(0o644)

    with caplog.at_level(logging.WARNING):
        sqlite_cache(tmp_path / "shared").close()  # two tables: two storages on one file
        sqlite_cache(tmp_path / "shared", read_only=True).close()

    warnings = [r for r in caplog.records if "accessible by group or others" in r.getMessage()]
    assert len(warnings) == 1
