"""How the command line behaves like the tools people know: options anywhere, exit statuses,
JSON for scripts, warnings once, and progress with rate and time left."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vaultcache.cli import inspect, main
from vaultcache.cli.common import progress_line
from vaultcache.crypto_keys import KeyRing


@pytest.mark.parametrize(
    "arguments",
    [("--cache", "{name}", "ls"), ("ls", "--cache", "{name}")],
    ids=["before", "after"],
)
def test_cache_goes_before_or_after_the_subcommand(
    cache: Any, cli: Any, arguments: tuple[str, ...]
) -> None:
    result = cli(*(a.format(name=cache.name) for a in arguments), "--json")

    assert result.status == 0, result.stderr
    assert len(result.json()["entries"]) == cache.entries


def test_the_subcommands_own_option_wins(cache: Any, cli: Any, tmp_path: Path) -> None:
    result = cli("--cache", str(tmp_path / "absent"), "stats", "--cache", cache.name, "--json")

    assert result.status == 0, result.stderr
    assert result.json()["entries"] == cache.entries


def test_config_goes_after_the_subcommand_of_plugins_too(cli: Any, tmp_path: Path) -> None:
    cli("plugins", "--config", str(tmp_path / "nowhere.toml")).assert_error(2, "nowhere.toml")


def test_an_os_error_exits_2_and_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(args: Any) -> int:
        raise PermissionError(13, "Permission denied", "/srv/cache.sqlite")

    monkeypatch.setattr(inspect, "_stats", refused)

    assert main(["stats"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("vaultcache: error: permission denied: /srv/cache.sqlite; check")
    assert "unexpected" not in error


def test_an_unexpected_error_exits_2_not_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: Any) -> int:
        raise LookupError("a bug")

    monkeypatch.setattr(inspect, "_stats", broken)

    assert main(["stats"]) == 2  # 1 means "finished, some entries bad"
    assert "--debug" in capsys.readouterr().err


def test_the_file_mode_warning_is_printed_once(cache: Any, cli: Any, tmp_path: Path) -> None:
    Path(f"{cache.name}.sqlite").chmod(0o644)

    result = cli("stats", "--cache", cache.name)

    assert result.status == 0, result.stderr
    assert result.stderr.count("accessible by group or others") == 1, result.stderr


def test_quiet_leaves_out_warnings(cache: Any, cli: Any) -> None:
    Path(f"{cache.name}.sqlite").chmod(0o644)

    result = cli("stats", "--quiet", "--cache", cache.name)

    assert result.status == 0
    assert result.stderr == ""


def test_plugins_json(cli: Any) -> None:
    result = cli("plugins", "--json")

    assert result.status == 0, result.stderr
    listing = result.json()
    assert {"stages", "backends", "key_sources", "conflicts", "errors"} <= set(listing)
    backends = {entry["name"]: entry for entry in listing["backends"]}
    assert backends["sqlite"]["provider"].startswith("vaultcache")
    assert backends["sqlite"]["available"] is True


def test_keys_generate_json(cli: Any) -> None:
    result = cli("keys", "generate", "--json")

    assert result.status == 0, result.stderr
    generated = result.json()
    assert KeyRing([generated["key"]]).ids == [generated["id"]]


def test_progress_line_has_count_rate_and_time_left() -> None:
    assert progress_line("verifying", 500, 2000, 2.0) == "verifying: 500/2000 (25%), 250/s, 6s left"
    assert progress_line("verifying", 2000, 2000, 8.0) == "verifying: 2000/2000 (100%), 250/s"
    assert progress_line("reading", 30, None, 10.0) == "reading: 30, 3.0/s"
    assert progress_line("rotating", 10, 4000, 1.0).endswith(", 10/s, 6m39s left")
    assert progress_line("rotating", 1, 100_000, 1.0).endswith("27h46m left")


@pytest.mark.parametrize(
    ("option", "shown"),
    [("--progress", True), ("--no-progress", False), ("--quiet", False), (None, False)],
)
def test_progress_options(cache: Any, cli: Any, option: str | None, shown: bool) -> None:
    # stderr is a pipe here: progress shows only when asked for.
    result = cli("verify", "--cache", cache.name, *([option] if option else []))

    assert result.status == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("verifying: ")]
    if shown:
        assert lines[-1].startswith(f"verifying: {cache.entries}/{cache.entries} (100%), ")
        assert lines[-1].endswith("/s")
    else:
        assert lines == []
    assert json.dumps(result.stderr).count("\\r") == 0  # no carriage returns off a terminal
