"""Installed plugins for real: names from entry points in specs, config files and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vaultcache import CachedSession, PluginConflictError, generate_key
from vaultcache.cli.main import main
from vaultcache.registry import get_registry

from .conftest import Install, Origin


def _fetch_twice(session: CachedSession, origin: Origin, path: str) -> None:
    first = session.get(origin.url(path))
    second = session.get(origin.url(path))
    assert first.text == second.text == f"hello from {path}"
    assert (first.from_cache, second.from_cache) == (False, True)
    assert origin.hits == 1


def test_a_plugin_stage_in_a_spec_string(install: Install, origin: Origin) -> None:
    install("vc-core-plugin", stages=("rot13y",))
    with CachedSession(
        "spec-test", backend="memory", serializer="signed+rot13y+aesgcm", keys=[generate_key()]
    ) as session:
        assert session.cache.serializer.spec == "msgpack+rot13y+aesgcm"
        _fetch_twice(session, origin, "/spec")
    assert get_registry().stage("rot13y").provider.distribution == "vc-core-plugin"


def test_a_plugin_stage_and_backend_in_a_config_file(
    install: Install, origin: Origin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("vc-core-plugin", stages=("rot13y",), backends=("coremem",))
    config = tmp_path / "vaultcache.toml"
    config.write_text(
        'name = "config-test"\n'
        'backend = "coremem"\n'
        "[serializer]\n"
        'spec = "signed+rot13y+aesgcm"\n'
        "[serializer.rot13y]\n"
        "max_size = 1000000\n"
        "[plugins]\n"
        'allow = ["vc-core-plugin"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("VAULTCACHE_KEYS", generate_key())
    with CachedSession.from_config(config) as session:
        assert get_registry().backend("coremem").provider.distribution == "vc-core-plugin"
        assert "rot13y" in session.cache.serializer.spec
        _fetch_twice(session, origin, "/config")


def test_two_distributions_claiming_one_name(install: Install) -> None:
    install("vc-core-plugin", stages=("rot13y",), version="1.0")
    install("vc-core-rival", stages=("rot13y", "rival-only"), version="2.0")
    with pytest.raises(PluginConflictError) as caught:
        CachedSession(
            "conflict", backend="memory", serializer="rot13y+signed", keys=[generate_key()]
        )
    assert set(caught.value.distributions) == {"vc-core-plugin 1.0", "vc-core-rival 2.0"}
    assert "vc-core-plugin 1.0 and vc-core-rival 2.0" in str(caught.value)
    (conflict,) = [c for c in get_registry().conflicts() if c.name == "rot13y"]
    assert set(conflict.distributions) == set(caught.value.distributions)
    # The rival's other name, and everything built in, still work.
    CachedSession("ok", backend="memory", serializer="rival-only+signed", keys=[generate_key()])


def _cli_plugins(site: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k != "VAULTCACHE_PLUGINS"}
    env = {**inherited, "PYTHONPATH": str(site), **environ}
    return subprocess.run(
        [sys.executable, "-m", "vaultcache.cli", "plugins"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=site.parent,
        timeout=60,
    )


def test_the_cli_reports_each_kind_of_problem(install: Install, site: Path) -> None:
    install("vc-core-plugin", stages=("rot13y",))
    install("vc-core-broken", stages=("broken",), fail="needs libnothing, not installed")
    install("vc-core-future", stages=("future",), api="2", version="0.1")
    install("vc-core-silent", stages=("silent",), api=None)
    excluded = install("vc-core-excluded", stages=("excluded",))
    allow = "vc-core-plugin,vc-core-broken,vc-core-future,vc-core-silent"

    result = _cli_plugins(site, VAULTCACHE_PLUGINS=allow)

    assert result.returncode == 1, result.stderr  # failures are problems; exclusions are not
    out = result.stdout
    assert "rot13y" in out.split("Backends:")[0]  # the good plugin's stage is listed
    assert "vc-core-plugin 1.0" in out
    errors = out.split("Not loaded (errors):")[1].split("\n\n")[0]
    assert "vc-core-broken" in errors
    assert "ImportError: needs libnothing" in errors
    incompatible = out.split("Not loaded (incompatible):")[1].split("\n\n")[0]
    assert (
        "vc-core-future 0.1 (entry point future) was written for plugin API 2; "
        "this vaultcache provides 1"
    ) in incompatible
    assert "vc-core-silent 1.0 (entry point silent) declares no VAULTCACHE_PLUGIN_API" in (
        incompatible
    )
    not_allowed = out.split("Installed, not allowed (never imported):")[1]
    assert "vc-core-excluded 1.0 (entry point excluded)" in not_allowed
    assert "VAULTCACHE_PLUGINS" in not_allowed
    assert not excluded.exists()


def test_the_cli_without_problems_exits_zero(install: Install, site: Path) -> None:
    install("vc-core-plugin", stages=("rot13y",))
    install("vc-core-broken", stages=("broken",), fail="needs libnothing")
    # Only ours: whatever else is installed in this environment is not under test.
    result = _cli_plugins(site, VAULTCACHE_PLUGINS="vc-core-plugin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Not loaded" not in result.stdout
    assert "rot13y" in result.stdout
    assert "vc-core-broken 1.0 (entry point broken)" in result.stdout.split("not allowed")[1]


def test_a_plugin_that_raises_on_import_breaks_nothing_else(
    install: Install, origin: Origin
) -> None:
    broken = install("vc-core-broken", stages=("broken",), fail="needs libnothing")
    install("vc-core-plugin", stages=("rot13y",))
    with CachedSession(
        "broken", backend="memory", serializer="rot13y+aesgcm", keys=[generate_key()]
    ) as session:
        _fetch_twice(session, origin, "/after-broken")
    assert broken.exists()  # it was imported, and failed
    (failure,) = [f for f in get_registry().failures() if f.distribution == "vc-core-broken"]
    assert "needs libnothing" in failure.reason


def test_the_cli_applies_the_config_files_allow_list(
    install: Install, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install("vc-core-plugin", stages=("rot13y",))
    left_out = install("vc-core-spy", stages=("spy",))
    config = tmp_path / "vaultcache.toml"
    config.write_text('[plugins]\nallow = ["vc-core-plugin"]\n', encoding="utf-8")

    status = main(["--config", str(config), "plugins"])

    out = capsys.readouterr().out
    assert "rot13y" in out.split("Backends:")[0]
    assert "vc-core-spy 1.0 (entry point spy)" in out.split("not allowed")[1]
    assert not left_out.exists()
    assert status == 0  # the allow-list leaves out every other installed package
    assert "Allowed plugin packages: vc-core-plugin\n" in out
    assert "Not loaded" not in out
