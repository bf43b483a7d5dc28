"""Retention through the session: bounds set on CachedSession or in a config file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from vaultcache import CachedSession
from vaultcache.retention import Retention


def test_max_entries_evicts_least_recently_used(make_session: Any, origin: Any) -> None:
    session = make_session(retention=Retention(max_entries=3))
    urls = [origin.url(f"/data/retention-{n}") for n in range(4)]
    for url in urls[:3]:
        session.get(url)
    assert session.get(urls[0]).from_cache  # a read makes urls[0] the most recently used
    session.get(urls[3])  # a fourth entry: the least recently used (urls[1]) goes

    session.cache.retention.apply(session.cache.storage)
    assert session.cache.response_count() == 3
    assert session.cache.contains(url=urls[0])
    assert not session.cache.contains(url=urls[1])
    assert session.get(urls[0]).from_cache


def test_retention_from_a_config_file(
    tmp_path: Path, origin: Any, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULTCACHE_KEYS", key)
    config = tmp_path / "vaultcache.toml"
    config.write_text(
        f'name = "{tmp_path / "cache"}"\n[retention]\nmax_entries = 2\nmax_age = "1d"\n'
    )
    with CachedSession.from_config(config) as session:
        assert session.cache.retention == Retention(max_entries=2, max_age=timedelta(days=1))
        for n in range(5):
            session.get(origin.url(f"/data/retention-config-{n}"))
        session.cache.retention.apply(session.cache.storage)
        assert session.cache.response_count() == 2
