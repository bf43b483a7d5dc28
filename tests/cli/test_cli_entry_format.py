"""The command line reads a cache whatever spec wrote it, with no configuration: each entry
names its spec and key id. Verify tells damaged entries from ones another reader could read."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import requests_mock

from vaultcache import CachedSession, generate_key
from vaultcache.entries import parse_header

BIG = b"0123456789abcdef" * 150_000  # 2.4 MiB: three chunks


def _readme_cache(tmp_path: Path, key: str) -> Path:
    """The README's first example: a session with signed+zstd+fernet, and one big body."""
    path = tmp_path / "demo"
    session = CachedSession(str(path), serializer="signed+zstd+fernet", keys=[key])
    adapter = requests_mock.Adapter()
    session.mount("https://", adapter)
    adapter.register_uri("GET", "https://example.org/small", text="small")
    adapter.register_uri("GET", "https://example.org/big", content=BIG)
    session.get("https://example.org/small")
    session.get("https://example.org/big")
    session.close()
    return path


def test_a_fernet_cache_lists_verifies_rotates_and_exports_without_config(
    tmp_path: Path, key: str, cli: Any
) -> None:
    cache = str(_readme_cache(tmp_path, key))

    listed = cli("ls", "--json", "--cache", cache)
    verified = cli("verify", "--cache", cache)
    recoded = cli("rotate", "--to", "zstd+aesgcm", "--json", "--cache", cache)
    stats = cli("stats", "--json", "--cache", cache)
    exported = cli("export", "--cache", cache, "copy.tar")

    assert listed.status == 0, listed.stderr
    assert {e["spec"] for e in listed.json()["entries"]} == {"msgpack+zstd+fernet"}
    assert verified.status == 0
    assert "checked 2 entries: 2 ok" in verified.out
    assert recoded.json()["rotated"] == 2
    assert stats.json()["by_spec"] == {"msgpack+zstd+aesgcm": 2}
    assert exported.status == 0, exported.stderr
    session = CachedSession(cache, keys=[key])
    try:
        assert session.get("https://example.org/big", only_if_cached=True).content == BIG
    finally:
        session.close()


def test_verify_reads_every_chunk_and_counts_each_outcome(
    tmp_path: Path, key: str, cli: Any
) -> None:
    cache = _readme_cache(tmp_path, key)
    session = CachedSession(str(cache), serializer="signed+zstd+fernet", keys=[key])
    chunks = session.cache.chunk_storage
    assert chunks is not None
    last = sorted(chunks, key=lambda k: int(k.rsplit("/", 1)[1]))[-1]
    altered = bytearray(chunks[last])
    altered[-3] ^= 0x01  # one chunk of the big body altered (a flip always changes it)
    chunks[last] = bytes(altered)
    session.close()

    report = cli("verify", "--json", "--cache", str(cache))
    other_key = cli("verify", "--json", "--cache", str(cache), keys=generate_key())

    assert report.status == 1  # tampered
    assert report.json()["outcomes"]["tampered"] == 1
    assert report.json()["outcomes"]["ok"] == 1
    # Under a ring without the key nothing is proven damaged: exit 0, both kept.
    assert other_key.json()["outcomes"]["unknown key"] == 2
    assert other_key.status == 0


def test_verify_delete_removes_a_damaged_body_with_its_chunks(
    tmp_path: Path, key: str, cli: Any
) -> None:
    cache = _readme_cache(tmp_path, key)
    session = CachedSession(str(cache), serializer="signed+zstd+fernet", keys=[key])
    chunks = session.cache.chunk_storage
    assert chunks is not None
    first = min(chunks, key=lambda k: int(k.rsplit("/", 1)[1]))
    del chunks[first]
    big_key = first.split("/")[0]
    assert parse_header(session.cache.storage[big_key])[0].body.count == 3
    session.close()

    deleting = cli("verify", "--delete", "--cache", str(cache))

    assert deleting.status == 1
    session = CachedSession(str(cache), keys=[key])
    try:
        assert big_key not in session.cache.storage
        assert len(session.cache.chunk_storage or {}) == 0
        assert len(session.cache.storage) == 1
    finally:
        session.close()


def test_a_cache_without_a_chunk_table_is_read_read_only(
    tmp_path: Path, key: str, cli: Any
) -> None:
    # A cache written before body chunks existed has no "chunks" table; read-only commands
    # cannot create one, and need none: such a cache holds no chunked entry.
    cache = _readme_cache(tmp_path, key)
    with closing(sqlite3.connect(f"{cache}.sqlite")) as db, db:
        db.execute('DROP TABLE "chunks"')
        db.execute("DELETE FROM responses WHERE value LIKE '%body=chunks%'")

    listed = cli("ls", "--json", "--cache", str(cache))

    assert listed.status == 0, listed.stderr
    assert len(listed.json()["entries"]) == 1
