"""SQLiteStorage: the default backend, one table in an sqlite database file.

The database runs in WAL mode, so readers never wait for a writer and several processes can
share one file. Every write is its own ``BEGIN IMMEDIATE`` transaction (atomic: a crash never
leaves half an entry), retried with bounded backoff while another connection holds the write
lock. If the database stays busy for longer than ``busy_timeout``, a point write is dropped
and a point read is a miss, each with a WARNING log line that names the file but not the key;
whole-table operations raise BackendError instead. Any other sqlite failure (a corrupt or
foreign file, a full disk) raises BackendError naming the file and the fix, never a raw
``sqlite3`` exception.

Several tables can share one file: ``SQLiteStorage(path, table_name="redirects")``, or
:meth:`SQLiteStorage.for_table`.

Beside this module: per-thread connections, transactions and errors
(:mod:`~vaultcache.backends.sqlite_connections`), the entry table's schema
(:mod:`~vaultcache.backends.sqlite_schema`), retention's side table of sizes and times
(:mod:`~vaultcache.backends.sqlite_lru`), the database file
(:mod:`~vaultcache.backends.sqlite_files`) and the backend's options
(:mod:`~vaultcache.backends.sqlite_options`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from vaultcache.backends.base import BaseStorage
from vaultcache.backends.errors import BackendError
from vaultcache.backends.location import not_found, resolve_location
from vaultcache.backends.options import check_bool
from vaultcache.backends.sqlite_connections import BusyError, SQLiteConnections
from vaultcache.backends.sqlite_files import check_existing, create_private_file
from vaultcache.backends.sqlite_lru import LruTable
from vaultcache.backends.sqlite_options import (
    BACKEND,
    DEFAULT_BUSY_TIMEOUT,
    DEFAULT_PAGE_SIZE,
    check_busy_timeout,
    check_page_size,
    check_table_name,
)
from vaultcache.backends.sqlite_schema import (
    ADDRESSABLE,
    EntryTable,
    describe_damaged,
    text_or_none,
)
from vaultcache.backends.usage import AccessLog, EntryStats, stored_number
from vaultcache.errors import ConfigError

__all__ = ["SQLiteStorage"]

logger = logging.getLogger(__name__)

# How long a read waits for the write lock to store recorded reads before it gives up
# (they are kept for the next attempt): a hit should not wait on another process's write.
_READ_FLUSH_TIMEOUT_MS = 50


class SQLiteStorage(BaseStorage):
    """Entries in one table of an sqlite database file, shared safely by threads and processes.

    `db_path` gets the suffix ``.sqlite`` when it has none. With `use_cache_dir` it is
    relative to the user cache directory, with `use_temp` to the system temp directory.
    A new file is created with mode 0600 (its ``-wal`` and ``-shm`` files inherit that mode)
    and new parent directories with mode 0700. `busy_timeout` bounds, in seconds, how long
    one operation waits for other connections. `wal` (default True) uses write-ahead
    logging, which lets readers proceed while a writer commits; turn it off only for file
    systems that cannot share memory between processes (some network file systems).
    `page_size` (bytes, a power of two from 512 to 65536, default 4096) applies when the file
    is created; 1024 or 2048 store many small responses in less space (user guide,
    "Backends").
    An existing file that another user owns, or that group or others may write, is refused
    (BackendError) unless `allow_shared` is True.
    With `create` False a missing file is a CacheNotFoundError instead of a new cache; with
    `read_only` (which implies it) the file is opened read-only and nothing is ever written,
    so a cache on read-only media or in a read-only directory can be read.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] = "http_cache",
        table_name: str = "responses",
        *,
        use_cache_dir: bool = False,
        use_temp: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        wal: bool = True,
        page_size: int = DEFAULT_PAGE_SIZE,
        allow_shared: bool = False,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        if str(db_path) == ":memory:":
            raise ConfigError(
                "an in-memory sqlite database cannot be shared between threads; "
                "use the 'memory' backend instead",
                key="backend.sqlite.path",
            )
        path = resolve_location(BACKEND, db_path, use_cache_dir=use_cache_dir, use_temp=use_temp)
        self.path = path if path.suffix else path.with_name(path.name + ".sqlite")
        self.table_name = check_table_name(table_name)
        self.busy_timeout = check_busy_timeout(busy_timeout)
        self.wal = check_bool(BACKEND, "wal", wal)
        self.page_size = check_page_size(page_size)
        self.allow_shared = check_bool(BACKEND, "allow_shared", allow_shared)
        self._table = f'"{self.table_name}"'
        self._lru = LruTable(self._table, self.table_name)
        self._schema = EntryTable(self._table, self.table_name, self.path)
        self._accesses = AccessLog()
        self.read_only = check_bool(BACKEND, "read_only", read_only)
        self._db = SQLiteConnections(
            self.path,
            busy_timeout=self.busy_timeout,
            wal=self.wal,
            read_only=self.read_only,
            page_size=self.page_size,
        )
        if check_bool(BACKEND, "create", create) and not self.read_only:
            create_private_file(self.path, allow_shared=self.allow_shared)
        elif self.path.is_file():
            check_existing(self.path, allow_shared=self.allow_shared)
        else:
            folder = self.path.with_suffix("")
            hint = f" ({folder} is a folder: set backend = 'filesystem')" if folder.is_dir() else ""
            raise not_found(BACKEND, self.path, hint)
        try:
            if self.read_only:
                self._db.run(self._schema.check)
            else:
                self._db.run(self._schema.create, write=True)
        except BusyError:
            self.close()
            raise self._db.busy_error("create its table") from None
        except BaseException:
            self.close()
            raise

    # -- the mapping ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise KeyError(key)
        sql = f"SELECT value FROM {self._table} WHERE key = ?"  # noqa: S608 - checked name
        try:
            row = self._db.run(lambda conn: conn.execute(sql, (key,)).fetchone())
        except BusyError:
            self._warn_busy("a read was treated as a miss")
            row = None
        if row is None:
            raise KeyError(key)
        value = row[0]
        if not isinstance(value, bytes):
            # Written by something else: bytes(<an integer>) would allocate that many bytes.
            logger.warning(
                "sqlite cache database %s (table %s) holds a value that is not a blob; "
                "treating it as missing",
                self.path,
                self.table_name,
            )
            raise KeyError(key)
        if self.track_access:
            self.note_access(key)
        return value

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_item(key, value)
        now = time.time()
        size = len(value)
        sql = (
            f"INSERT OR REPLACE INTO {self._table} (key, value, created, accessed) "  # noqa: S608
            "VALUES (?, ?, ?, ?)"
        )
        old_size = f"SELECT length(value) FROM {self._table} WHERE key = ?"  # noqa: S608
        lru = self._lru

        def write(conn: sqlite3.Connection) -> None:
            tracking = self.track_access
            old = conn.execute(old_size, (key,)).fetchone() if tracking else None
            conn.execute(sql, (key, value, now, now))
            if tracking:
                self._flush_accesses(conn)  # creates the side table if need be
            if lru.exists(conn):
                conn.execute(lru.upsert, (key, now, now, size))
            if tracking:
                # Inside the transaction: a concurrent count cannot miss this write.
                self.usage.wrote(size, None if old is None else int(old[0]))

        try:
            self._db.run(write, write=True)
        except BusyError:
            self._warn_busy("a write was dropped")

    def __delitem__(self, key: str) -> None:
        if not isinstance(key, str):
            raise KeyError(key)
        sql = f"DELETE FROM {self._table} WHERE key = ?"  # noqa: S608 - checked name
        lru = self._lru

        def delete(conn: sqlite3.Connection) -> int:
            count = int(conn.execute(sql, (key,)).rowcount)
            if count and lru.exists(conn):
                conn.execute(lru.delete_key, (key,))
            return count

        try:
            deleted = self._db.run(delete, write=True)
        except BusyError:
            self._warn_busy("a delete was dropped")
            return
        if not deleted:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        sql = f"SELECT 1 FROM {self._table} WHERE key = ?"  # noqa: S608 - checked name
        try:
            return self._db.run(lambda conn: conn.execute(sql, (key,)).fetchone()) is not None
        except BusyError:
            self._warn_busy("a read was treated as a miss")
            return False

    def __iter__(self) -> Iterator[str]:
        # Read every key first: a cursor held open across yields would pin a read snapshot
        # (blocking checkpoints) and break if the caller writes while iterating.
        # As blobs: one key that is not UTF-8 (written by something else) must not make the
        # whole listing fail; it is left out.
        # Rows no key can read (see damaged_items) are left out too.
        sql = f"SELECT CAST(key AS BLOB) FROM {self._table} WHERE {ADDRESSABLE}"  # noqa: S608
        rows = self._db.run_or_fail("list its keys", lambda conn: conn.execute(sql).fetchall())
        return iter([key for (raw,) in rows if (key := text_or_none(raw)) is not None])

    def damaged_items(self) -> list[str]:
        """Rows that no key reads: a key that is NULL, not text or not UTF-8, or a value that
        is not a blob (written by something other than vaultcache)."""
        rows = self._db.run_or_fail("list its rows", self._schema.damaged_rows)
        return [describe_damaged(row) for row in rows]

    def delete_damaged(self) -> int:
        """Delete the rows :meth:`damaged_items` lists, in one transaction."""
        rows = self._db.run_or_fail("list its rows", self._schema.damaged_rows)
        undecodable = [raw for kind, raw, _ in rows if kind == "text"]
        return self._db.run_or_fail(
            "delete damaged rows",
            lambda conn: self._schema.delete_damaged(conn, undecodable),
            write=True,
        )

    def __len__(self) -> int:
        sql = f"SELECT COUNT(*) FROM {self._table}"  # noqa: S608 - checked name
        return int(
            self._db.run_or_fail("count its entries", lambda conn: conn.execute(sql).fetchone()[0])
        )

    # -- whole-table operations ---------------------------------------------------------------

    def bulk_delete(self, keys: Iterable[str]) -> int:
        """Delete every key in `keys` that is present, in one transaction; return the count."""
        # Materialise first: the iterable may read this storage, which must not happen
        # inside our write transaction.
        doomed = [key for key in keys if isinstance(key, str)]
        if not doomed:
            return 0

        def delete(conn: sqlite3.Connection) -> int:
            return self._lru.delete_entries(conn, doomed)

        try:
            return self._db.run(delete, write=True)
        except BusyError:
            self._warn_busy("a bulk delete was dropped")
            return 0

    def clear(self) -> None:
        """Delete every entry of this table (other tables in the file are untouched)."""
        sql = f"DELETE FROM {self._table}"  # noqa: S608 - checked name
        lru = self._lru
        self._accesses.take()

        def clear(conn: sqlite3.Connection) -> None:
            conn.execute(sql)
            if lru.exists(conn):
                conn.execute(lru.delete_all)

        self._db.run_or_fail("clear its table", clear, write=True)
        self.usage.cleared()

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        if not isinstance(key, str):
            return None
        sql = f"SELECT length(value) FROM {self._table} WHERE key = ?"  # noqa: S608
        try:
            row = self._db.run(lambda conn: conn.execute(sql, (key,)).fetchone())
        except BusyError:
            self._warn_busy("a read was treated as a miss")
            return None
        return None if row is None else int(row[0])

    def replace(self, key: str, expected: bytes, new: bytes) -> bool:
        """Store `new` under `key` only if it still holds exactly `expected`; True if stored.

        One ``UPDATE ... WHERE key = ? AND value = ?`` in a ``BEGIN IMMEDIATE`` transaction:
        atomic across threads and processes. Creation and last-use times are kept (a
        re-encrypted entry is the same entry, and re-encrypting it is not a use). Raises
        BackendError if the database stays locked, rather than report a change that did not
        happen.
        """
        self._check_item(key, new)
        if not isinstance(expected, bytes):
            raise TypeError(f"expected values must be bytes, not {type(expected).__name__}")
        sql = f"UPDATE {self._table} SET value = ? WHERE key = ? AND value = ?"  # noqa: S608
        lru = self._lru

        def swap(conn: sqlite3.Connection) -> bool:
            if conn.execute(sql, (new, key, expected)).rowcount != 1:
                return False
            if lru.exists(conn):
                conn.execute(lru.resize, (len(new), key))
            return True

        swapped = self._db.run_or_fail("replace an entry", swap, write=True)
        if swapped and self.track_access:
            self.usage.resized(len(new) - len(expected))
        return swapped

    # -- retention ----------------------------------------------------------------------------

    def note_access(self, key: str) -> None:
        """Record a read of `key` in memory; store the batch when it is large or old."""
        if self._accesses.note(key):
            self._flush_from_read()

    def entry_stats(self) -> Iterator[EntryStats]:
        """Every entry's key, size, creation and last-use time (including unstored reads)."""
        lru = self._lru
        plain = f"SELECT key, length(value), created, accessed FROM {self._table}"  # noqa: S608

        def read(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(lru.stats if lru.exists(conn) else plain).fetchall()

        rows = self._db.run_or_fail("list its entries", read)
        for key, size, created, accessed in rows:
            if not isinstance(key, str):
                continue  # a damaged row: see damaged_items
            noted = self._accesses.get(key) or 0.0
            used = max(stored_number(accessed) or 0.0, noted)
            yield EntryStats(key, int(stored_number(size) or 0), stored_number(created), used)

    def evict(
        self,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        max_age: timedelta | None = None,
        now: float | None = None,
        slack: float = 0.0,
    ) -> int:
        """Delete entries older than `max_age`, then the least recently used, in one transaction.

        See :meth:`BaseStorage.evict`. Recorded reads are stored first, so they count. Works
        from the side table's index, never reading the values. Raises BackendError if the
        database stays locked for the busy timeout.
        """
        moment = time.time() if now is None else now

        def evict(conn: sqlite3.Connection) -> int:
            self._lru.ensure(conn)
            self._flush_accesses(conn)
            deleted, entries, size = self._lru.evict(
                conn,
                older_than=None if max_age is None else moment - max_age.total_seconds(),
                max_entries=max_entries,
                max_bytes=max_bytes,
                slack=slack,
            )
            # Inside the transaction, like the writes' reports, so none is counted twice.
            self.usage.counted(entries, size, moment)
            return deleted

        return self._db.run_or_fail("evict entries", evict, write=True)

    def _flush_accesses(self, conn: sqlite3.Connection) -> None:
        """Store the recorded reads' times, in the caller's write transaction."""
        self._lru.store_reads(conn, self._accesses.take())

    def _flush_from_read(self) -> None:
        """Store the recorded reads now, waiting only briefly for the write lock."""
        if len(self._accesses) and not self._db.write_briefly(
            self._flush_accesses, _READ_FLUSH_TIMEOUT_MS
        ):
            logger.debug("sqlite cache database %s busy; access times kept for later", self.path)

    def vacuum(self) -> None:
        """Rebuild the whole database file to return the space of deleted entries to the OS."""

        def vacuum(conn: sqlite3.Connection) -> None:
            conn.execute("VACUUM")
            # VACUUM in WAL mode writes the new pages to the WAL; fold them back in.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        self._db.run_or_fail("vacuum", vacuum)

    def has_table(self, table_name: str) -> bool:
        """True when the database file holds a table called `table_name`."""
        name = check_table_name(table_name)
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return bool(self._db.run(lambda conn: conn.execute(sql, (name,)).fetchone()))

    def for_table(self, table_name: str) -> SQLiteStorage:
        """Another table in the same database file, with the same settings."""
        return SQLiteStorage(
            self.path,
            table_name,
            busy_timeout=self.busy_timeout,
            wal=self.wal,
            page_size=self.page_size,
            allow_shared=self.allow_shared,
            read_only=self.read_only,
        )

    def close(self) -> None:
        """Store recorded reads, close every thread's connection; a later call opens new ones."""
        try:
            if not self.read_only:
                self._flush_from_read()
        except BackendError:
            logger.warning("sqlite cache database %s: recorded reads were lost", self.path)
        self._db.close()

    def __repr__(self) -> str:
        return f"<SQLiteStorage {str(self.path)!r} table {self.table_name!r}>"

    def _warn_busy(self, consequence: str) -> None:
        # Never the key: keys can embed request details.
        logger.warning(
            "sqlite cache database %s (table %s) stayed locked for %gs; %s",
            self.path,
            self.table_name,
            self.busy_timeout,
            consequence,
        )
