"""The key-source contract of vaultcache.testing, run against every built-in key source."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from vaultcache.testing import KeySourceContract


def _write_key_file(path: Path, keys: list[str]) -> None:
    path.write_text("".join(f"{key}\n" for key in keys), encoding="utf-8")
    path.chmod(0o600)


class TestEnvKeySource(KeySourceContract):
    source_name = "env"

    @pytest.fixture
    def options(self, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        monkeypatch.setenv("VAULTCACHE_CONTRACT_KEYS", "")  # restored (unset) after the test
        return {"variable": "VAULTCACHE_CONTRACT_KEYS"}

    def store(self, options: dict[str, Any], keys: list[str]) -> None:
        os.environ[options["variable"]] = ",".join(keys)


class TestFileKeySource(KeySourceContract):
    source_name = "file"

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        return {"path": str(tmp_path / "keys")}

    def store(self, options: dict[str, Any], keys: list[str]) -> None:
        _write_key_file(Path(options["path"]), keys)


class TestDataDirKeySource(KeySourceContract):
    source_name = "data-dir"

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        return {"path": str(tmp_path / "data" / "keys"), "auto_create": False}

    def store(self, options: dict[str, Any], keys: list[str]) -> None:
        path = Path(options["path"])
        path.parent.mkdir(mode=0o700, exist_ok=True)
        _write_key_file(path, keys)
