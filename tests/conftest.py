"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_key_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the real home directory and from the caller's keys.

    Key sources read VAULTCACHE_KEYS, VAULTCACHE_KEY_FILE and the data directory; tests that
    need keys pass them explicitly or set these variables themselves.
    """
    monkeypatch.setenv("VAULTCACHE_DATA_DIR", str(tmp_path_factory.mktemp("vaultcache-data")))
    monkeypatch.delenv("VAULTCACHE_KEYS", raising=False)
    monkeypatch.delenv("VAULTCACHE_KEY_FILE", raising=False)
