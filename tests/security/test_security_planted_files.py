"""Configuration and cache files planted by another local user are refused.

The attacker is another user of the machine who can write above a build directory (a
``pyproject.toml`` two levels up) or create the cache file first in a shared directory. They
would switch the cache to plaintext and a database they can read.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from vaultcache import CachedSession
from vaultcache.backends.base import BackendError
from vaultcache.config import load_settings
from vaultcache.errors import ConfigError

PLANTED = '[tool.vaultcache]\nname = "/tmp/theirs"\n[tool.vaultcache.serializer]\nspec = "json"\n'


def _another_user(monkeypatch: pytest.MonkeyPatch) -> int:
    """Make every file this test creates look as if another user owned it."""
    me = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: me + 1)
    return me


def _planted(tmp_path: Path, mode: int = 0o644) -> tuple[Path, Path]:
    """A pyproject.toml above a build directory; returns (the file, the build directory)."""
    planted = tmp_path / "pyproject.toml"
    planted.write_text(PLANTED)
    planted.chmod(mode)
    build = tmp_path / "project" / "build"
    build.mkdir(parents=True)
    return planted, build


@pytest.mark.parametrize("how", ["owner", "group-writable", "world-writable"])
def test_config_file_another_user_could_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Attack: plant a pyproject.toml above the victim's build directory."""
    mode = {"owner": 0o644, "group-writable": 0o664, "world-writable": 0o646}[how]
    planted, build = _planted(tmp_path, mode)
    if how == "owner":
        me = _another_user(monkeypatch)

    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, cwd=build)

    assert caught.value.file == str(planted)
    message = str(caught.value)
    assert str(planted) in message
    if how == "owner":
        assert f"uid {me}" in message
    else:
        assert f"mode {mode:o}" in message
    assert "VAULTCACHE_ALLOW_SHARED_CONFIG" in message


def test_shared_config_is_used_when_explicitly_accepted(tmp_path: Path) -> None:
    """The escape hatch for a team's shared config: an explicit environment variable."""
    _, build = _planted(tmp_path, 0o664)

    settings = load_settings(environ={"VAULTCACHE_ALLOW_SHARED_CONFIG": "1"}, cwd=build)

    assert settings.serializer.spec == "json"


@pytest.mark.parametrize("spec", ["json", "signed", "zstd"])
def test_config_choosing_an_unencrypted_spec_is_a_warning_naming_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, key: str, spec: str
) -> None:
    """A careless (or planted) config that turns encryption off does not do so silently."""
    config = tmp_path / "vaultcache.toml"
    config.write_text(f'name = "{tmp_path / "cache"}"\n[serializer]\nspec = "{spec}"\n')
    config.chmod(0o600)

    with caplog.at_level(logging.WARNING):
        CachedSession.from_config(config, keys=[key]).close()

    assert str(config) in caplog.text
    assert "not encrypted" in caplog.text


def test_config_choosing_an_encrypted_spec_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    config = tmp_path / "vaultcache.toml"
    config.write_text(f'name = "{tmp_path / "cache"}"\n[serializer]\nspec = "zstd+aesgcm"\n')
    config.chmod(0o600)

    with caplog.at_level(logging.WARNING):
        CachedSession.from_config(config, keys=[key]).close()

    assert "not encrypted" not in caplog.text


def _existing_cache(tmp_path: Path, backend: str, mode: int) -> Path:
    if backend == "sqlite":
        path = tmp_path / "cache.sqlite"
        path.touch()
    else:
        path = tmp_path / "cache"
        path.mkdir()
    path.chmod(mode)
    return path


@pytest.mark.parametrize("backend", ["sqlite", "filesystem"])
@pytest.mark.parametrize("how", ["owner", "group-writable", "world-writable"])
def test_existing_cache_another_user_could_write_is_refused(
    tmp_path: Path, make_session: Any, monkeypatch: pytest.MonkeyPatch, backend: str, how: str
) -> None:
    """Attack: create the victim's cache file (or directory) first, in a shared directory."""
    base = 0o600 if backend == "sqlite" else 0o700
    mode = {"owner": base, "group-writable": base | 0o060, "world-writable": base | 0o006}[how]
    path = _existing_cache(tmp_path, backend, mode)
    if how == "owner":
        _another_user(monkeypatch)

    with pytest.raises(BackendError) as caught:
        make_session(backend, cache_name=str(tmp_path / "cache"))

    assert str(path) in str(caught.value)
    assert "allow_shared=True" in str(caught.value)


@pytest.mark.parametrize("backend", ["sqlite", "filesystem"])
def test_shared_cache_is_used_when_explicitly_accepted(
    tmp_path: Path, make_session: Any, backend: str
) -> None:
    base = 0o600 if backend == "sqlite" else 0o700
    _existing_cache(tmp_path, backend, base | 0o060)

    session = make_session(backend, cache_name=str(tmp_path / "cache"), allow_shared=True)

    assert session.cache.responses is not None
