"""``vaultcache rotate``, ``export`` and ``import`` run in a subprocess against temp caches."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from vaultcache import generate_key
from vaultcache.crypto_keys import Key
from vaultcache.models import CachedResponse
from vaultcache.session import CachedSession


def _run(tmp_path: Path, keys: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("VAULTCACHE_") and name != "COLUMNS"
    }
    env.update(VAULTCACHE_KEYS=keys, VAULTCACHE_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "vaultcache.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vaultcache: error: ")
    return lines[0]


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def source(tmp_path: Path, key: str) -> Path:
    """A sqlite cache with four responses and one redirect, written under `key`."""
    path = tmp_path / "source"
    session = CachedSession(str(path), keys=[key])
    for index in range(4):
        session.cache.save_response(
            CachedResponse(
                url=f"https://example.org/{index}",
                status_code=200,
                content=f"response {index}".encode() * 30,
                cache_key=f"{index:032x}",
            ),
            redirect_keys=[f"{index + 100:032x}"] if index == 0 else (),
        )
    session.close()
    return path


def _stored(path: Path, key: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    session = CachedSession(str(path), keys=[key])
    try:
        cache = session.cache
        return (
            {k: cache.storage[k] for k in cache.storage},
            {k: cache.redirect_storage[k] for k in cache.redirect_storage},
        )
    finally:
        session.close()


def test_export_import_rotate_and_warc(tmp_path: Path, source: Path, key: str) -> None:
    exported = _run(tmp_path, key, "export", "--cache", str(source), "copy.tar")
    assert exported.returncode == 0, exported.stderr
    assert "exported 4 responses and 1 redirects" in exported.stdout
    assert stat.S_IMODE((tmp_path / "copy.tar").stat().st_mode) == 0o600

    imported = _run(tmp_path, key, "import", "--cache", "target", "copy.tar")
    assert imported.returncode == 0, imported.stderr
    assert "imported 4 responses and 1 redirects" in imported.stdout
    assert _stored(tmp_path / "target", key) == _stored(source, key)

    new = generate_key()
    rotated = _run(tmp_path, f"{new},{key}", "rotate", "--cache", "target", "--json")
    assert rotated.returncode == 0, rotated.stderr
    report = json.loads(rotated.stdout)
    assert (report["rotated"], report["current"], report["unreadable"]) == (4, 0, [])
    assert report["key_id"] == Key.from_text(new).hex_id
    again = _run(tmp_path, f"{new},{key}", "rotate", "--cache", "target")
    assert again.returncode == 0
    assert "already current    4" in again.stdout
    listed = _run(tmp_path, f"{new},{key}", "keys", "list", "--cache", "target", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = {k["id"]: k["entries"] for k in json.loads(listed.stdout)["keys"]}
    assert entries == {Key.from_text(new).hex_id: 4, Key.from_text(key).hex_id: 0}

    warc = _run(tmp_path, new, "export", "--cache", "target", "--warc", "plain.warc")
    assert warc.returncode == 0, warc.stderr
    assert "wrote 4 WARC response records" in warc.stdout
    assert b"response 3response 3" in (tmp_path / "plain.warc").read_bytes()


def test_import_reports_entries_it_cannot_read(tmp_path: Path, source: Path, key: str) -> None:
    assert _run(tmp_path, key, "export", "--cache", str(source), "a.tar").returncode == 0

    result = _run(tmp_path, generate_key(), "import", "--cache", "elsewhere", "a.tar")

    assert result.returncode == 1
    assert "imported 0 responses and 1 redirects" in result.stdout
    assert "Traceback" not in result.stderr
    assert "4 entries could not be read by this cache (written by key ids " in result.stderr
    assert Key.from_text(key).hex_id in result.stderr


def test_rotate_exits_1_when_entries_are_unreadable(tmp_path: Path, source: Path, key: str) -> None:
    new = generate_key()
    result = _run(tmp_path, f"{new},{generate_key()}", "rotate", "--cache", str(source))
    assert result.returncode == 1
    assert "unreadable         4" in result.stdout
    assert "verify --delete" in result.stderr


def test_import_of_a_missing_file(tmp_path: Path, key: str) -> None:
    result = _run(tmp_path, key, "import", "--cache", "target", "missing.tar")
    assert result.returncode == 2
    assert "missing.tar does not exist" in _one_error_line(result)
    assert not (tmp_path / "target.sqlite").exists()  # nothing created for a bad input


def test_export_refuses_an_existing_file_without_force(
    tmp_path: Path, source: Path, key: str
) -> None:
    (tmp_path / "taken.tar").write_text("precious")
    result = _run(tmp_path, key, "export", "--cache", str(source), "taken.tar")
    assert result.returncode == 2
    assert "already exists" in _one_error_line(result)
    assert (tmp_path / "taken.tar").read_text() == "precious"
    forced = _run(tmp_path, key, "export", "--cache", str(source), "taken.tar", "--force")
    assert forced.returncode == 0, forced.stderr


def test_import_of_a_corrupt_archive_writes_nothing(tmp_path: Path, source: Path, key: str) -> None:
    archive = tmp_path / "a.tar"
    assert _run(tmp_path, key, "export", "--cache", str(source), "a.tar").returncode == 0
    with tarfile.open(archive) as tar:
        offset = tar.getmembers()[2].offset_data
    data = bytearray(archive.read_bytes())
    data[offset + 5] ^= 0xFF
    archive.write_bytes(bytes(data))

    result = _run(tmp_path, key, "import", "--cache", "target", "a.tar")

    assert result.returncode == 2
    assert "is damaged: its SHA-256 does not match" in _one_error_line(result)
    assert _stored(tmp_path / "target", key) == ({}, {})


def test_export_of_a_cache_that_does_not_exist(tmp_path: Path, key: str) -> None:
    result = _run(tmp_path, key, "export", "--cache", "nowhere", "x.tar")
    assert result.returncode == 2
    _one_error_line(result)
    assert not (tmp_path / "x.tar").exists()
    assert not (tmp_path / "nowhere.sqlite").exists()
