"""Files the cache creates are owner-only whatever the umask; shared key files are refused.

The attacker is another user on the same machine, reading (or writing) whatever the umask
lets them. Every test runs under umask 0o000 (the worst) and 0o022 (the usual).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vaultcache import KeyRingError, generate_key
from vaultcache.cli import main
from vaultcache.crypto_key_sources import load_key_ring

UMASKS = [0o000, 0o022]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=UMASKS, ids=lambda umask: f"umask-{umask:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_sqlite_database_wal_and_shm_are_owner_only(
    umask: int, make_session: Any, origin: Any, tmp_path: Path
) -> None:
    """Attack: another local user reads the sqlite database or its -wal / -shm files."""
    cache = tmp_path / "new" / "dir" / "cache"
    session = make_session(cache_name=str(cache))
    session.get(origin.url("/modes/sqlite"))

    files = [Path(f"{cache}.sqlite{suffix}") for suffix in ("", "-wal", "-shm")]
    assert all(path.exists() for path in files)
    assert [_mode(path) for path in files] == [0o600] * 3
    assert _mode(tmp_path / "new") == _mode(tmp_path / "new" / "dir") == 0o700


def test_filesystem_entries_directories_and_lock_are_owner_only(
    umask: int, make_session: Any, origin: Any, tmp_path: Path
) -> None:
    """Attack: another local user lists or reads the entry files of a filesystem cache."""
    cache = tmp_path / "fs"
    session = make_session("filesystem", cache_name=str(cache))
    session.get(origin.url("/redirect/redirect/modes/files"))  # two hops: one redirect record

    directories = [cache, cache / "responses", cache / "redirects"]
    files = [path for directory in directories[1:] for path in directory.iterdir()]
    assert len(files) >= 4  # an entry and the lock file in each
    assert {_mode(path) for path in directories} == {0o700}
    assert {_mode(path) for path in files} == {0o600}


def test_auto_created_key_file_is_owner_only(
    umask: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: another local user reads the key file vaultcache created on first use."""
    data_dir = tmp_path / "data" / "vaultcache"
    monkeypatch.setenv("VAULTCACHE_DATA_DIR", str(data_dir))

    load_key_ring(auto_create=True)

    assert _mode(data_dir / "keys") == 0o600
    assert _mode(data_dir) == 0o700
    assert [path.name for path in data_dir.iterdir()] == ["keys"]  # no temp file left


def test_every_directory_created_for_the_key_file_is_owner_only(
    umask: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: another local user lists or swaps the parents of the key file's directory
    (created 0777 under umask 000 by mkdir(parents=True))."""
    data_dir = tmp_path / "home" / "share" / "vaultcache"
    monkeypatch.setenv("VAULTCACHE_DATA_DIR", str(data_dir))

    load_key_ring(auto_create=True)

    created = [tmp_path / "home", tmp_path / "home" / "share", data_dir]
    assert [_mode(path) for path in created] == [0o700] * 3


@pytest.mark.parametrize("extra", [[], ["--warc"], ["--force"]], ids=["tar", "warc", "force"])
def test_exports_are_owner_only(
    umask: int,
    make_session: Any,
    origin: Any,
    tmp_path: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
) -> None:
    """Attack: another local user reads an export (`vaultcache export`, with or without
    --warc, or overwriting an existing file with --force).
    """
    cache = tmp_path / "exported"
    make_session(cache_name=str(cache)).get(origin.url("/modes/export"))
    monkeypatch.setenv("VAULTCACHE_KEYS", key)
    target = tmp_path / "out.archive"
    if "--force" in extra:
        target.write_bytes(b"old")
        target.chmod(0o644)

    assert main(["export", "--cache", str(cache), str(target), *extra]) == 0

    assert _mode(target) == 0o600
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o660, 0o644, 0o666])
@pytest.mark.parametrize("source", ["file", "data-dir"])
def test_key_file_others_can_access_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int, source: str
) -> None:
    """Attack: a key file that group or others can read (or write: to plant their own key)."""
    path = tmp_path / "data" / "keys"
    path.parent.mkdir(mode=0o700)
    path.write_text(generate_key() + "\n")
    path.chmod(mode)
    monkeypatch.setenv("VAULTCACHE_DATA_DIR", str(path.parent))
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(path))

    with pytest.raises(KeyRingError, match="chmod 600") as caught:
        load_key_ring(sources=[source])

    assert path.read_text().strip() not in str(caught.value)


def test_owner_only_key_file_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys"
    path.write_text(generate_key() + "\n")
    path.chmod(0o600)
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(path))
    assert len(load_key_ring(sources=["file"])) == 1
