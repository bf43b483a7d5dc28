"""``rotate --to SPEC`` (and its alias ``recode``) moves a cache between specs, both ways, and
every entry still reads, chunked bodies included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests_mock

from vaultcache import CachedSession

BODIES = {
    "https://example.org/small": b"small",
    "https://example.org/inline": b"0123456789" * 5_000,  # 50 KB: inline
    "https://example.org/big": b"0123456789abcdef" * 150_000,  # 2.4 MB: three chunks
}
SPECS = {"signed+zstd+fernet": "msgpack+zstd+fernet", "zstd+aesgcm": "msgpack+zstd+aesgcm"}


def _fernet_cache(tmp_path: Path, key: str) -> str:
    path = str(tmp_path / "moving")
    session = CachedSession(path, serializer="signed+zstd+fernet", keys=[key])
    adapter = requests_mock.Adapter()
    session.mount("https://", adapter)
    for url, body in BODIES.items():
        adapter.register_uri("GET", url, content=body)
        session.get(url)
    session.close()
    return path


def _check_every_entry_reads(cache: str, key: str) -> None:
    session = CachedSession(cache, keys=[key])
    try:
        for url, body in BODIES.items():
            response = session.get(url, only_if_cached=True)
            assert response.status_code == 200, url
            assert response.from_cache
            assert response.content == body, url
        assert session.cache.chunk_storage is not None
        assert len(session.cache.chunk_storage) == 3  # the big body's; no old chunk left
    finally:
        session.close()


@pytest.mark.parametrize("command", ["rotate", "recode"])
def test_to_moves_a_cache_to_another_spec_and_back(
    tmp_path: Path, key: str, cli: Any, command: str
) -> None:
    cache = _fernet_cache(tmp_path, key)
    assert cli("stats", "--json", "--cache", cache).json()["by_spec"] == {
        SPECS["signed+zstd+fernet"]: len(BODIES)
    }

    for spec in ("zstd+aesgcm", "signed+zstd+fernet"):
        moved = cli(command, "--to", spec, "--json", "--cache", cache)
        assert moved.status == 0, moved.stderr
        report = moved.json()
        assert (report["spec"], report["rotated"], report["unreadable"]) == (
            SPECS[spec],
            len(BODIES),
            [],
        )
        assert cli("stats", "--json", "--cache", cache).json()["by_spec"] == {
            SPECS[spec]: len(BODIES)
        }
        _check_every_entry_reads(cache, key)

    again = cli(command, "--to", "signed+zstd+fernet", "--json", "--cache", cache)
    assert (again.json()["rotated"], again.json()["current"]) == (0, len(BODIES))


def test_recode_needs_a_spec(tmp_path: Path, key: str, cli: Any) -> None:
    cache = _fernet_cache(tmp_path, key)
    refused = cli("recode", "--cache", cache)
    assert refused.status == 2
    assert "--to" in refused.stderr
