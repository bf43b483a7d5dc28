"""``vaultcache import --from-requests-cache``: a cache written by requests-cache itself comes
across, encrypted, only with the trust flag, all or nothing (issue 18, item 17)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from vaultcache.session import CachedSession

requests_cache = pytest.importorskip("requests_cache")
requests_mock = pytest.importorskip("requests_mock")

BASE = "http://legacy.test"


def _fill(session: Any) -> None:
    """Responses as requests-cache stores them: plain, JSON, a redirect, one with a key."""
    adapter = requests_mock.Adapter()
    adapter.register_uri("GET", f"{BASE}/plain", content=b"plain body", headers={"ETag": '"p1"'})
    adapter.register_uri("GET", f"{BASE}/json", json={"n": 1})
    adapter.register_uri("GET", f"{BASE}/old", status_code=301, headers={"Location": f"{BASE}/new"})
    adapter.register_uri("GET", f"{BASE}/new", content=b"moved here")
    adapter.register_uri("GET", f"{BASE}/private", content=b"for one user")
    session.mount("http://", adapter)
    for path in ("/plain", "/json", "/old", "/private?api_key=k-123"):
        session.get(f"{BASE}{path}")
    session.close()


@pytest.fixture
def sqlite_source(tmp_path: Path) -> Path:
    _fill(requests_cache.CachedSession(str(tmp_path / "legacy"), backend="sqlite"))
    return tmp_path / "legacy.sqlite"


@pytest.fixture
def vault(tmp_path: Path, key: str) -> Iterator[Any]:
    """Opens the imported vaultcache (a fresh session each call) with the test's key."""
    opened: list[CachedSession] = []

    def open_vault() -> CachedSession:
        opened.append(CachedSession(str(tmp_path / "vault"), keys=[key]))
        return opened[-1]

    yield open_vault
    for session in opened:
        session.close()


def _hit(session: CachedSession, url: str) -> Any:
    return session.get(url, only_if_cached=True)


def test_import_from_a_requests_cache_sqlite_file(
    cli: Any, sqlite_source: Path, vault: Any, tmp_path: Path
) -> None:
    result = cli(
        "import",
        "--from-requests-cache",
        str(sqlite_source),
        "--trust-local-pickles",
        "--cache",
        "vault",
    )

    assert result.status == 0, result.stderr
    assert "imported 4 of 5 responses" in result.stdout.decode()
    assert "1 entries were skipped" in result.stderr
    session = vault()
    assert _hit(session, f"{BASE}/plain").content == b"plain body"
    assert _hit(session, f"{BASE}/plain").headers["ETag"] == '"p1"'
    assert _hit(session, f"{BASE}/json").json() == {"n": 1}
    assert _hit(session, f"{BASE}/old").content == b"moved here"
    assert _hit(session, f"{BASE}/new").content == b"moved here"
    assert _hit(session, f"{BASE}/private?api_key=k-123").status_code == 504  # skipped
    stored = b"".join(file.read_bytes() for file in tmp_path.glob("vault.sqlite*"))
    assert b"plain body" not in stored  # re-encoded: encrypted at rest


def test_without_the_trust_flag_nothing_is_read(
    cli: Any, sqlite_source: Path, tmp_path: Path
) -> None:
    result = cli("import", "--from-requests-cache", str(sqlite_source), "--cache", "vault")

    assert result.status == 2
    assert "--trust-local-pickles" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "vault.sqlite").exists()


def test_one_unreadable_entry_means_nothing_is_written(
    cli: Any, sqlite_source: Path, vault: Any
) -> None:
    with closing(sqlite3.connect(sqlite_source)) as db, db:
        db.execute(
            "UPDATE responses SET value = ? WHERE key = (SELECT max(key) FROM responses)",
            (b"\x80\x04not a pickle",),
        )

    result = cli(
        "import", "--from-requests-cache", str(sqlite_source), "--trust-local-pickles",
        "--cache", "vault",
    )  # fmt: skip

    assert result.status == 2
    assert "nothing was imported" in result.stderr
    assert vault().cache.response_count() == 0


def test_a_pickle_that_names_a_class_is_refused(cli: Any, sqlite_source: Path, vault: Any) -> None:
    import pickle

    with closing(sqlite3.connect(sqlite_source)) as db, db:
        db.execute(
            "UPDATE responses SET value = ? WHERE key = (SELECT min(key) FROM responses)",
            (pickle.dumps(Path("/etc")),),
        )

    result = cli(
        "import", "--from-requests-cache", str(sqlite_source), "--trust-local-pickles",
        "--cache", "vault",
    )  # fmt: skip

    assert result.status == 2
    assert "names a class or function" in result.stderr
    assert vault().cache.response_count() == 0


def test_import_from_a_requests_cache_directory(cli: Any, tmp_path: Path, vault: Any) -> None:
    _fill(requests_cache.CachedSession(str(tmp_path / "legacy-files"), backend="filesystem"))

    result = cli(
        "import", "--from-requests-cache", str(tmp_path / "legacy-files"),
        "--trust-local-pickles", "--cache", "vault", "--json",
    )  # fmt: skip

    assert result.status == 0, result.stderr
    assert result.json()["responses"] == 4
    assert _hit(vault(), f"{BASE}/json").json() == {"n": 1}


def test_a_failed_write_undoes_the_import(sqlite_source: Path, vault: Any) -> None:
    from vaultcache.importers.requests_cache import import_requests_cache

    session = vault()
    existing = requests.Response()
    existing.status_code, existing._content, existing.url = 200, b"kept", f"{BASE}/plain"
    existing.request = requests.Request("GET", f"{BASE}/plain").prepare()
    session.cache.save_response(existing)
    calls = 0
    save = session.cache.save_response

    def failing_save(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk full")
        save(*args, **kwargs)

    session.cache.save_response = failing_save  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        import_requests_cache(sqlite_source, session.cache, session.create_key)
    session.cache.save_response = save  # type: ignore[method-assign]

    assert session.cache.urls == [f"{BASE}/plain"]
    assert _hit(session, f"{BASE}/plain").content == b"kept"
    assert len(session.cache.redirects) == 0
