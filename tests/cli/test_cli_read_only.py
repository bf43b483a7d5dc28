"""Read-only commands open a cache read-only, and no command creates a cache that is missing.

A cache on read-only media (or in a folder this user cannot write) can be listed, counted,
verified and exported. As root, permissions do not stop writes, so the folder is mounted
read-only in a private mount namespace (``unshare -m``) for the one command instead.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

READING = (("ls",), ("stats",), ("verify",), ("keys", "list"), ("purge", "--expired", "--dry-run"))


class ReadOnly:
    """Runs the command with the cache's folder read-only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.wrapper: tuple[str, ...] = ()

    def __call__(self, cli: Any, *args: str) -> Any:
        return cli(*args, wrapper=self.wrapper)


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.fixture
def read_only(cache: Any, tmp_path: Path) -> Iterator[tuple[Any, ReadOnly]]:
    """The test's cache, in its folder (the working directory), made read-only."""
    built = cache
    folder = tmp_path
    runner = ReadOnly(folder)
    if os.geteuid() == 0:
        if not _can_unshare():
            pytest.skip("running as root, and `unshare -m` is not available to mount read-only")
        script = (
            'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'
        )
        runner.wrapper = ("unshare", "-m", "sh", "-c", script, "sh", str(folder))
        yield built, runner
        return
    files = [path for path in folder.iterdir() if path.is_file()]
    for path in files:
        path.chmod(stat.S_IRUSR)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        yield built, runner
    finally:
        folder.chmod(stat.S_IRWXU)
        for path in files:
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_reading_commands_work_on_a_read_only_cache(
    read_only: tuple[Any, ReadOnly], cli: Any, command: tuple[str, ...]
) -> None:
    built, run = read_only
    before = _snapshot(run.folder)

    result = run(cli, *command, "--cache", built.name)

    assert result.status == 0, result.stderr
    assert "cannot be opened for writing" not in result.stderr
    assert _snapshot(run.folder) == before


def test_export_of_a_read_only_cache(
    read_only: tuple[Any, ReadOnly], cli: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    built, run = read_only
    archive = tmp_path_factory.mktemp("elsewhere") / "out.tar"

    result = run(cli, "export", str(archive), "--cache", built.name)

    assert result.status == 0, result.stderr
    assert archive.is_file()


def test_writing_commands_say_the_cache_is_read_only(
    read_only: tuple[Any, ReadOnly], cli: Any
) -> None:
    built, run = read_only

    result = run(cli, "purge", "--expired", "--cache", built.name)

    assert result.status == 2
    assert result.stderr.startswith("vaultcache: error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command", [*READING, ("export", "out.tar"), ("vacuum",), ("rotate",)], ids=" ".join
)
def test_no_command_creates_a_missing_cache(
    cli: Any, tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = cli(*command, "--cache", "typo")

    result.assert_error(2, "no sqlite cache at", "no cache exists there")
    assert not any(tmp_path.glob("typo*"))
    assert not (tmp_path / "out.tar").exists()


def test_a_missing_filesystem_cache_is_not_created(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "fs.toml").write_text('backend = "filesystem"\nname = "typo"\n')

    cli("ls", "--config", "fs.toml").assert_error(2, "no filesystem cache at", "typo")
    assert not (tmp_path / "typo").exists()
