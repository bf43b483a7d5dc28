"""SQLiteStorage: the contract, file modes, damaged files, locking and processes."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from vaultcache.backends import SQLiteStorage, sqlite_cache
from vaultcache.backends.base import BackendError
from vaultcache.backends.sqlite_connections import SQLiteConnections
from vaultcache.errors import ConfigError
from vaultcache.testing import StorageContract, StorageFactory, run_storage_workers


class TestSQLiteStorage(StorageContract):
    persistent = True
    multiprocess = True

    def storage_args(self, tmp_path: Path) -> StorageFactory:
        return SQLiteStorage, (str(tmp_path / "cache"),)


class TestSQLiteStorageSecondTable(StorageContract):
    """A second table in a file that already holds another one behaves the same."""

    persistent = True

    def make_storage(self, tmp_path: Path) -> SQLiteStorage:
        with SQLiteStorage(tmp_path / "shared", "responses") as other:
            other["not mine"] = b"other table"
        return SQLiteStorage(tmp_path / "shared", table_name="redirects")


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_new_files_and_directories_are_private(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "new" / "deeper" / "cache") as storage:
        storage["key"] = b"value"
        assert storage["key"] == b"value"
        db = tmp_path / "new" / "deeper" / "cache.sqlite"
        assert storage.path == db
        # Checked while open: sqlite removes -wal and -shm when the last connection closes.
        assert oct(mode(db)) == oct(0o600)
        assert oct(mode(Path(f"{db}-wal"))) == oct(0o600)
        assert oct(mode(Path(f"{db}-shm"))) == oct(0o600)
    assert oct(mode(tmp_path / "new")) == oct(0o700)
    assert oct(mode(tmp_path / "new" / "deeper")) == oct(0o700)


@pytest.mark.usefixtures("umask_022")
def test_existing_directory_modes_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    with SQLiteStorage(tmp_path / "cache"):
        pass
    assert oct(mode(tmp_path)) == oct(0o755)


def test_existing_shared_database_is_used_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "cache.sqlite"
    db.touch(mode=0o644)
    db.chmod(0o644)
    with caplog.at_level(logging.WARNING), SQLiteStorage(db) as storage:
        storage["key"] = b"value"
    assert "chmod 600" in caplog.text


def test_name_without_suffix_gets_sqlite(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as plain, SQLiteStorage(tmp_path / "x.db") as other:
        assert plain.path.name == "cache.sqlite"
        assert other.path.name == "x.db"


def test_use_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with SQLiteStorage("in-temp", use_temp=True) as storage:
        assert storage.path == tmp_path / "in-temp.sqlite"
        assert storage.path.exists()


def test_not_a_database_is_a_backend_error(tmp_path: Path) -> None:
    db = tmp_path / "cache.sqlite"
    db.write_bytes(b"this is not an sqlite database, just some text\n" * 100)
    with pytest.raises(BackendError) as caught:
        SQLiteStorage(db)
    assert not isinstance(caught.value, sqlite3.Error)
    assert str(db) in str(caught.value)
    assert "move it aside or delete it" in str(caught.value)
    assert caught.value.path == str(db)


def test_damaged_database_raises_only_backend_errors(tmp_path: Path) -> None:
    db = tmp_path / "cache.sqlite"
    with SQLiteStorage(db) as storage:
        for number in range(200):
            storage[f"key-{number}"] = bytes(range(256)) * 20
        storage.vacuum()  # everything into the main file, so damage there is seen
    data = bytearray(db.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # keep the header page, wreck the rest
    db.write_bytes(bytes(data))
    try:
        storage = SQLiteStorage(db)
    except BackendError:
        return  # noticed on opening: as good
    with storage:
        for operation in (lambda: list(storage), lambda: storage["key-1"], lambda: len(storage)):
            with pytest.raises(BackendError, match="corrupt or not an sqlite database"):
                operation()


def test_foreign_table_is_a_backend_error(tmp_path: Path) -> None:
    db = tmp_path / "cache.sqlite"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, value BLOB)")
    with pytest.raises(BackendError, match="not created by vaultcache"):
        SQLiteStorage(db)


@pytest.mark.parametrize(
    "name", ["", "1abc", "a-b", 'x"; DROP TABLE y; --', "a b", "sqlite_master", "t" * 64, 3]
)
def test_table_names_are_identifiers(tmp_path: Path, name: object) -> None:
    with pytest.raises(ConfigError) as caught:
        SQLiteStorage(tmp_path / "cache", name)  # type: ignore[arg-type]
    assert caught.value.key == "backend.sqlite.table_name"


@pytest.mark.parametrize("timeout", [0, -1, 601, "30", True, None])
def test_busy_timeout_is_bounded(tmp_path: Path, timeout: object) -> None:
    with pytest.raises(ConfigError) as caught:
        SQLiteStorage(tmp_path / "cache", busy_timeout=timeout)  # type: ignore[arg-type]
    assert caught.value.key == "backend.sqlite.busy_timeout"


@pytest.mark.parametrize("size", [0, 256, 1000, 131072, "4096", 4096.0, True, None])
def test_page_size_is_a_power_of_two_sqlite_allows(tmp_path: Path, size: object) -> None:
    with pytest.raises(ConfigError) as caught:
        SQLiteStorage(tmp_path / "cache", page_size=size)  # type: ignore[arg-type]
    assert caught.value.key == "backend.sqlite.page_size"
    assert not (tmp_path / "cache.sqlite").exists()


def _pragma(storage: SQLiteStorage, name: str) -> int:
    with closing(sqlite3.connect(storage.path)) as conn:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


def test_page_size_applies_when_the_file_is_created(tmp_path: Path) -> None:
    cache = sqlite_cache(tmp_path / "http", page_size=1024)
    try:
        cache.storage["key"] = b"value" * 1000
        assert _pragma(cache.storage, "page_size") == 1024
    finally:
        cache.close()
    # The -wal file is checkpointed after as many bytes as with sqlite's default pages.
    connections = SQLiteConnections(
        cache.storage.path, busy_timeout=1, wal=True, read_only=False, page_size=4096
    )
    try:
        wal_pages = connections.connection().execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    finally:
        connections.close()
    assert wal_pages == 4000
    # An existing file keeps its pages whatever a later opening asks for.
    with (
        SQLiteStorage(tmp_path / "http", page_size=8192) as reopened,
        reopened.for_table("redirects") as redirects,
    ):
        assert reopened["key"] == b"value" * 1000
        assert _pragma(reopened, "page_size") == 1024
        assert redirects.page_size == 8192


def test_small_pages_hold_many_small_entries_in_less_space(tmp_path: Path) -> None:
    # A 3,000-byte row takes a 4 KiB page of its own; with 1 KiB pages it spills into full
    # overflow pages and its remainder shares a page with others.
    sizes = {}
    for page_size in (4096, 1024):
        with SQLiteStorage(tmp_path / f"cache-{page_size}", page_size=page_size) as storage:
            storage.update({f"key-{number}": bytes(3000) for number in range(200)})
        sizes[page_size] = storage.path.stat().st_size
    assert sizes[1024] < 0.85 * sizes[4096]


def test_in_memory_database_is_refused() -> None:
    with pytest.raises(ConfigError, match="'memory' backend"):
        SQLiteStorage(":memory:")


def test_tables_share_one_file(tmp_path: Path) -> None:
    with (
        SQLiteStorage(tmp_path / "cache") as responses,
        responses.for_table("redirects") as redirects,
    ):
        responses["key"] = b"response"
        redirects["key"] = b"redirect"
        redirects.clear()
        assert responses["key"] == b"response"
        assert list(redirects) == []
        assert redirects.path == responses.path


def test_locked_database_drops_writes_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with SQLiteStorage(tmp_path / "cache", busy_timeout=0.2) as storage:
        storage["readable"] = b"value"
        holder = sqlite3.connect(storage.path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
        try:
            with caplog.at_level(logging.WARNING):
                storage["secret-key-name"] = b"secret value"
                assert storage["readable"] == b"value"  # WAL: readers do not wait
                with pytest.raises(BackendError, match="stayed locked"):
                    storage.clear()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert "a write was dropped" in caplog.text
        assert "secret" not in caplog.text
        storage["secret-key-name"] = b"secret value"
        assert storage["secret-key-name"] == b"secret value"


def test_write_waits_for_a_short_lock(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache", busy_timeout=10) as storage:
        holder = sqlite3.connect(storage.path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
        release.start()
        try:
            storage["key"] = b"value"  # blocks until the other writer commits
        finally:
            release.join()
            holder.close()
        assert storage["key"] == b"value"


def open_descriptors(path: Path) -> int:
    fd_dir = Path("/proc/self/fd")
    count = 0
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd) == str(path):
                count += 1
        except OSError:
            continue
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_close_closes_every_threads_connection(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "cache")
    barrier = threading.Barrier(4)

    def use() -> None:
        storage["key"] = b"value"
        barrier.wait()  # all alive at once, so each has its own connection

    threads = [threading.Thread(target=use) for _ in range(3)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    assert open_descriptors(storage.path) >= 4
    storage.close()
    assert open_descriptors(storage.path) == 0
    storage["reopened"] = b"value"  # a closed storage opens a new connection when used
    assert storage["reopened"] == b"value"
    storage.close()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_connections_of_finished_threads_are_closed(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        for _ in range(20):
            thread = threading.Thread(target=storage.__setitem__, args=("key", b"value"))
            thread.start()
            thread.join()
        # Not one per thread: this thread's connection, the last finished thread's, and
        # descriptors sqlite keeps for reuse while another connection holds locks.
        assert open_descriptors(storage.path) <= 4


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_cache_that_cannot_open_its_redirects_table_closes_its_responses(tmp_path: Path) -> None:
    db = tmp_path / "http.sqlite"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE redirects (key TEXT PRIMARY KEY, value BLOB)")
    with pytest.raises(BackendError, match=r"'redirects'.*not created by vaultcache"):
        sqlite_cache(tmp_path / "http")
    assert open_descriptors(db) == 0


def test_vacuum_returns_space(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage.update({f"key-{number}": os.urandom(10_000) for number in range(100)})
        storage.vacuum()
        full = storage.path.stat().st_size
        storage.clear()
        storage.vacuum()
        assert storage.path.stat().st_size < full / 10
        assert len(storage) == 0


def test_two_processes_with_four_threads_each(tmp_path: Path) -> None:
    """2 processes of 4 threads each share one file for 2 s: no errors, no lost writes."""
    path = str(tmp_path / "shared")
    expected = run_storage_workers(SQLiteStorage, (path,), processes=2, threads=4, duration=2.0)
    assert len(expected) > 8  # every thread finished at least a few rounds
    with SQLiteStorage(path) as storage:
        assert sorted(storage) == sorted([*expected, "shared"])
        for key, value in expected.items():
            assert storage[key] == value


# -- retention and compare-and-swap ----------------------------------------------------------


def query(storage: SQLiteStorage, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(storage.path)) as conn:
        return conn.execute(sql, parameters).fetchall()


def stored_accessed(storage: SQLiteStorage, key: str) -> float:
    """The last use of `key` as stored (the side table once it exists, else the write time)."""
    if not query(storage, "SELECT 1 FROM sqlite_master WHERE name = 'responses-lru'"):
        return float(query(storage, "SELECT accessed FROM responses WHERE key = ?", key)[0][0])
    return float(query(storage, 'SELECT accessed FROM "responses-lru" WHERE key = ?', key)[0][0])


def side_table(storage: SQLiteStorage) -> dict[str, int]:
    return dict(query(storage, 'SELECT key, size FROM "responses-lru"'))  # type: ignore[arg-type]


def test_reads_are_stored_in_a_batch_with_the_next_write(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage.track_access = True
        storage["a"] = b"value"
        storage["b"] = b"value"
        storage.evict()  # retention creates the side table on its first write
        written = stored_accessed(storage, "a")
        assert storage["a"] == b"value"
        assert stored_accessed(storage, "a") == written  # the read wrote nothing
        (a_stats,) = [entry for entry in storage.entry_stats() if entry.key == "a"]
        assert a_stats.accessed is not None
        assert a_stats.accessed > written  # but it is known
        storage["c"] = b"value"
        assert stored_accessed(storage, "a") == a_stats.accessed


def test_reads_without_tracking_record_nothing(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage["a"] = b"value"
        assert storage["a"] == b"value"
        assert len(storage._accesses) == 0


def test_many_distinct_reads_are_stored_without_a_write(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage.update(dict.fromkeys("abc", b"value"))
        written = {key: stored_accessed(storage, key) for key in "abc"}
        storage.track_access = True
        storage._accesses.limit = 3
        assert storage["a"] == storage["b"] == b"value"
        assert [stored_accessed(storage, key) for key in "ab"] == [written["a"], written["b"]]
        assert storage["c"] == b"value"  # the third distinct key: the batch is due
        assert all(stored_accessed(storage, key) > written[key] for key in "abc")
        assert len(storage._accesses) == 0


def test_a_read_does_not_wait_for_a_busy_database(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache", busy_timeout=10) as storage:
        storage.update(dict.fromkeys("ab", b"value"))
        storage.track_access = True
        storage._accesses.limit = 2
        holder = sqlite3.connect(storage.path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            assert storage["a"] == b"value"
            assert storage["b"] == b"value"  # due, but the write lock is taken
            assert time.monotonic() - started < 2
            assert len(storage._accesses) == 2  # kept for later
        finally:
            holder.execute("COMMIT")
            holder.close()
        read_a = storage._accesses.get("a")
        storage["c"] = b"value"
        assert stored_accessed(storage, "a") == read_a


def test_close_stores_recorded_reads(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "cache")
    storage.track_access = True
    storage["a"] = b"value"
    written = stored_accessed(storage, "a")
    assert storage["a"] == b"value"
    storage.close()
    assert stored_accessed(storage, "a") > written


def test_access_times_never_move_back(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as mine, SQLiteStorage(tmp_path / "cache") as other:
        mine.track_access = other.track_access = True
        mine["a"] = b"value"
        assert mine["a"] == b"value"  # an earlier read, noted by `mine`
        assert other["a"] == b"value"  # a later read, stored first
        other["b"] = b"value"
        later = stored_accessed(other, "a")
        mine["c"] = b"value"
        assert stored_accessed(mine, "a") == later


def test_eviction_reads_an_index_not_the_values(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage.update({f"key-{number}": b"v" * 100 for number in range(10)})
        assert storage.evict(max_entries=5, max_age=timedelta(days=1)) == 5
        names = {row[0] for row in query(storage, "SELECT name FROM sqlite_master")}
        assert {"responses-lru", "responses-lru-order"} <= names
        for sql in (
            'SELECT COUNT(*), COALESCE(SUM(size), 0) FROM "responses-lru"',
            'SELECT key, size FROM "responses-lru" ORDER BY accessed',
        ):
            assert "COVERING INDEX" in str(query(storage, "EXPLAIN QUERY PLAN " + sql))


def test_without_retention_the_schema_is_unchanged(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage["a"] = b"value"
        assert storage["a"] == b"value"
        del storage["a"]
        storage.bulk_delete(["b"])
        storage.clear()
        tables = query(storage, "SELECT name FROM sqlite_master WHERE type = 'table'")
        assert tables == [("responses",)]


def test_entries_from_before_retention_join_the_side_table(tmp_path: Path) -> None:
    db = tmp_path / "cache.sqlite"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(
            "CREATE TABLE responses (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, "
            "created REAL NOT NULL, accessed REAL NOT NULL)"
        )
        conn.execute("INSERT INTO responses VALUES ('old', x'0102030405', 1.0, 2.0)")
    with SQLiteStorage(db) as storage:
        assert list(storage.entry_stats()) == [("old", 5, 1.0, 2.0)]
        storage["new"] = b"12"
        assert storage.evict(max_bytes=5) == 1  # "old" was the least recently used
        assert list(storage) == ["new"]
        assert side_table(storage) == {"new": 2}


def test_every_writer_keeps_the_side_table_once_it_exists(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as retained, SQLiteStorage(tmp_path / "cache") as plain:
        retained["a"] = b"value"
        plain["b"] = b"value"  # before the side table: `plain` knows nothing of it
        retained.evict()  # creates it
        assert not plain.track_access
        plain["c"] = b"longer value"
        plain.update({"d": b"1", "e": b"22", "f": b"333"})
        del plain["a"]
        assert plain.bulk_delete(["d", "missing"]) == 1
        assert plain.replace("e", b"22", b"4444")
        assert side_table(retained) == {"b": 5, "c": 12, "e": 4, "f": 3}
        assert {key: plain.size_of(key) for key in plain} == side_table(retained)
        plain.clear()
        assert side_table(retained) == {}


def test_replace_keeps_the_times(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage["a"] = b"value"
        (before,) = storage.entry_stats()
        assert storage.replace("a", b"value", b"re-encrypted value")
        (after,) = storage.entry_stats()
        assert (after.created, after.accessed) == (before.created, before.accessed)
        assert after.size == len(b"re-encrypted value")


def test_replace_on_a_locked_database_raises(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache", busy_timeout=0.2) as storage:
        storage["a"] = b"value"
        holder = sqlite3.connect(storage.path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(BackendError, match="could not replace an entry"):
                storage.replace("a", b"value", b"new")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert storage["a"] == b"value"


@pytest.mark.parametrize("value", ["text", 1.5, 2**62], ids=["text", "real", "huge-integer"])
def test_value_that_is_not_a_blob_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, value: object
) -> None:
    """A row rewritten by something else reads as absent (bytes(2**62) would allocate)."""
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage["key"] = b"value"
        storage["other"] = b"kept"
        with closing(sqlite3.connect(storage.path)) as conn, conn:
            conn.execute("UPDATE responses SET value = ? WHERE key = 'key'", (value,))
        with caplog.at_level(logging.WARNING):
            assert storage.get("key") is None
        assert "not a blob" in caplog.text
        assert storage["other"] == b"kept"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_existing_database_of_another_user_is_refused_unless_allowed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "cache.sqlite"
    db.touch(mode=0o600)
    os.chown(db, 12345, -1)
    with pytest.raises(BackendError, match=r"belongs to another user \(uid 12345\)"):
        SQLiteStorage(db)
    with caplog.at_level(logging.WARNING), SQLiteStorage(db, allow_shared=True) as storage:
        storage["key"] = b"value"
    assert "uid 12345" in caplog.text


def test_key_that_is_not_utf8_is_left_out_of_listings(tmp_path: Path) -> None:
    """A row written by something else with a non-UTF-8 key does not break listing."""
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage["key"] = b"value"
        with closing(sqlite3.connect(storage.path)) as conn, conn:
            conn.execute(
                "INSERT INTO responses VALUES (CAST(x'ff61' AS TEXT), x'00', 0, 0)",
            )
        assert list(storage) == ["key"]
        assert storage["key"] == b"value"
        assert len(storage) == 2


def test_text_that_does_not_decode_is_a_backend_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text sqlite reads from a damaged header may not decode (seen with damaged pages in
    tests/security); that is a corrupt database, reported as such."""
    with SQLiteStorage(tmp_path / "cache") as storage:
        storage["key"] = b"value"

    def undecodable(self: SQLiteConnections) -> None:
        raise UnicodeDecodeError("utf-8", b"\xec", 0, 1, "invalid continuation byte")

    monkeypatch.setattr(SQLiteConnections, "_connect", undecodable)
    with pytest.raises(BackendError, match="not UTF-8"):
        SQLiteStorage(tmp_path / "cache")
