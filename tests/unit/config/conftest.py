"""Fixtures for the config tests: a clean environment and a private working directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vaultcache.config import CONFIG_VARIABLE, ENVIRONMENT_VARIABLES
from vaultcache.registry import get_registry

WriteFile = Callable[..., Path]


@pytest.fixture(autouse=True)
def _clean_config_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No config variable of the caller's leaks in; the working directory is empty."""
    for variable in (*ENVIRONMENT_VARIABLES, CONFIG_VARIABLE, "VAULTCACHE_AUTO_CREATE_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _restore_plugin_allow_list() -> Iterator[None]:
    """session_kwargs() gives the process-wide registry the file's allow-list: undo it after."""
    registry = get_registry()
    before = registry.allowed
    yield
    registry.allow(before)


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """write(text, name="vaultcache.toml", directory=tmp_path) -> the path written."""

    def write_file(text: str, name: str = "vaultcache.toml", directory: Path | None = None) -> Path:
        path = (directory or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write_file
