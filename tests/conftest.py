"""Fixtures shared by the whole test suite: key isolation, sessions on a temporary cache, a
frozen clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import vaultcache.clock
from vaultcache import generate_key
from vaultcache.session import CachedSession


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


@pytest.fixture
def key() -> str:
    """A fresh vaultcache key, passed explicitly to every session."""
    return generate_key()


@pytest.fixture
def cache_path(tmp_path: Path) -> str:
    return str(tmp_path / "cache")


@pytest.fixture
def make_session(cache_path: str, key: str) -> Iterator[Callable[..., CachedSession]]:
    """Build CachedSessions on `cache_path` with `key` (overridable); all closed afterwards."""
    sessions: list[CachedSession] = []

    def make(backend: Any = "sqlite", cache_name: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("keys", [key])
        session_class = kwargs.pop("session_class", CachedSession)
        made = session_class(cache_name or cache_path, backend=backend, **kwargs)
        sessions.append(made)
        return made

    yield make
    for made in reversed(sessions):
        made.close()


class FrozenClock:
    """A replacement for ``vaultcache.clock.now`` that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Freeze ``vaultcache.clock.now`` (every part of vaultcache reads time through it)."""
    frozen = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(vaultcache.clock, "now", frozen)
    return frozen
