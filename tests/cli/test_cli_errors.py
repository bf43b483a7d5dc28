"""Bad inputs: every failure is one line and a non-zero exit status, with no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

INSPECTING = (
    ("ls",),
    ("stats",),
    ("verify",),
    ("purge", "--expired"),
    ("vacuum",),
    ("keys", "list"),
)


@pytest.mark.parametrize("command", INSPECTING[:3], ids=" ".join)
def test_missing_cache_is_one_line_and_creates_nothing(
    command: tuple[str, ...], cli: Any, tmp_path: Path
) -> None:
    result = cli(*command, "--cache", str(tmp_path / "absent"))

    result.assert_error(2, f"no sqlite cache at {tmp_path / 'absent.sqlite'}")
    assert not (tmp_path / "absent.sqlite").exists()


def test_missing_cache_for_every_inspecting_command(cli: Any, tmp_path: Path) -> None:
    # Default cache name in an empty working directory.
    for command in INSPECTING[3:]:
        cli(*command).assert_error(2, "no sqlite cache at", "http_cache.sqlite")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [("ls",), ("get", "http://127.0.0.1:9/")], ids=" ".join)
def test_garbage_config_is_one_line_exit_2(
    command: tuple[str, ...], cli: Any, tmp_path: Path
) -> None:
    (tmp_path / "bad.toml").write_text("name = [unclosed\n\x00garbage = \n")

    result = cli(*command, "--config", "bad.toml")

    result.assert_error(2, "bad.toml", "invalid TOML")
    assert result.stdout == b""


def test_config_file_that_does_not_exist(cli: Any) -> None:
    cli("stats", "--config", "nowhere.toml").assert_error(2, "nowhere.toml", "not found")


def test_debug_shows_the_traceback(cli: Any) -> None:
    result = cli("--debug", "ls", "--config", "nowhere.toml")

    assert result.status == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("vaultcache: error: ")


def test_no_key_is_one_line_and_no_key_file_is_created(
    cache: Any, cli: Any, tmp_path: Path
) -> None:
    for command in (("ls",), ("verify",), ("keys", "list")):
        cli(*command, "--cache", cache.name, keys="").assert_error(2, "no vaultcache key found")
    assert not (tmp_path / "data").exists()


def test_invalid_key_text_is_one_line(cache: Any, cli: Any) -> None:
    result = cli("ls", "--cache", cache.name, keys="not-a-key")

    result.assert_error(2, "not a valid vaultcache key")
    assert "not-a-key" not in result.stderr


def test_a_file_that_is_not_a_database(cli: Any, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite " * 100)
    junk.chmod(0o600)  # else a (fair) warning about its mode comes first

    for command in (("ls",), ("verify",)):
        cli(*command, "--cache", "junk.sqlite").assert_error(2, "junk.sqlite", "corrupt")


def test_memory_backend_has_nothing_to_inspect(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "memory.toml").write_text('backend = "memory"\n')

    cli("stats", "--config", "memory.toml").assert_error(2, "memory backend")


def test_sqlite_name_given_for_a_filesystem_cache_hints_at_the_backend(
    fs_cache: Any, cli: Any
) -> None:
    cli("ls", "--cache", fs_cache.name).assert_error(2, "backend = 'filesystem'")


def test_config_before_the_subcommand_applies_to_it(cli: Any, tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"

    cli("--config", str(missing), "ls").assert_error(2, "config file not found")
    cli("--config", str(missing), "stats").assert_error(2, str(missing))
