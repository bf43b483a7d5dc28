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

Retention keeps each entry's size and creation and last-use times in a side table,
``"<table>-lru"`` (a name no vaultcache table can have), with an index on (accessed, size,
created): counting, the age sweep and the least-recently-used walk read only that index, and
storing a read's time rewrites a row of a few dozen bytes, not the entry (sqlite rewrites a
whole row, value included, on any update). The side table is created, from the entries, the
first time retention needs it; from then on every write and delete by any SQLiteStorage
maintains it in the same transaction (each write transaction checks for it through the
schema version, about a microsecond while it does not exist). Triggers would do the same
without that check, but make sqlite copy every inserted value: +40% on a 1 MiB write.

While :attr:`~vaultcache.backends.base.BaseStorage.track_access` is on, a read only notes the
time in memory; the times are stored in one ``executemany`` at the next write or eviction
(in that transaction), or after 1024 distinct keys or 30 seconds at the next read, which then
waits at most 50 ms for the write lock (else the times wait for the next write).
"""

from __future__ import annotations

import logging
import os
import random
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from vaultcache.backends.base import BaseStorage
from vaultcache.backends.errors import BackendError
from vaultcache.backends.location import not_found, refuse_if_shared, resolve_location
from vaultcache.backends.options import check_bool
from vaultcache.backends.usage import AccessLog, EntryStats, lru_victims, stored_number
from vaultcache.errors import ConfigError
from vaultcache.private_files import make_private_dirs

__all__ = ["SQLiteStorage"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

BACKEND = "sqlite"
DEFAULT_BUSY_TIMEOUT = 30.0
MAX_BUSY_TIMEOUT = 600.0
# Table names are spliced into SQL (they cannot be parameters), so only plain identifiers.
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\Z")
_COLUMNS = ("key", "value", "created", "accessed")
#: Rows that a key can read: a text key and a blob value (others are damaged_items).
_ADDRESSABLE = "typeof(key) = 'text' AND typeof(value) = 'blob'"
# How long a read waits for the write lock to store recorded reads before it gives up
# (they are kept for the next attempt): a hit should not wait on another process's write.
_READ_FLUSH_TIMEOUT_MS = 50
# sqlite's limit on parameters per statement was 999 before 3.32.
_DELETE_CHUNK = 500
# Primary result codes (the low byte of an extended code).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


#: Bytes the -wal file is truncated to after a checkpoint.
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024


class _BusyError(Exception):
    """The database stayed locked by other connections for the whole busy timeout."""


class SQLiteStorage(BaseStorage):
    """Entries in one table of an sqlite database file, shared safely by threads and processes.

    `db_path` gets the suffix ``.sqlite`` when it has none. With `use_cache_dir` it is
    relative to the user cache directory, with `use_temp` to the system temp directory.
    A new file is created with mode 0600 (its ``-wal`` and ``-shm`` files inherit that mode)
    and new parent directories with mode 0700. `busy_timeout` bounds, in seconds, how long
    one operation waits for other connections. `wal` (default True) uses write-ahead
    logging, which lets readers proceed while a writer commits; turn it off only for file
    systems that cannot share memory between processes (some network file systems).
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
        self.table_name = _check_table_name(table_name)
        self.busy_timeout = _check_busy_timeout(busy_timeout)
        self.wal = check_bool(BACKEND, "wal", wal)
        self.allow_shared = check_bool(BACKEND, "allow_shared", allow_shared)
        self._table = f'"{self.table_name}"'
        self._lru = _LruTable(self._table, self.table_name)
        self._accesses = AccessLog()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}
        self._generation = 0
        self._pid = os.getpid()
        self.allow_shared = check_bool(BACKEND, "allow_shared", allow_shared)
        self.read_only = check_bool(BACKEND, "read_only", read_only)
        if check_bool(BACKEND, "create", create) and not self.read_only:
            _create_private_file(self.path, allow_shared=self.allow_shared)
        elif self.path.is_file():
            _check_existing(self.path, allow_shared=self.allow_shared)
        else:
            folder = self.path.with_suffix("")
            hint = f" ({folder} is a folder: set backend = 'filesystem')" if folder.is_dir() else ""
            raise not_found(BACKEND, self.path, hint)
        try:
            if self.read_only:
                self._run(self._check_table)
            else:
                self._run(self._create_table, write=True)
        except _BusyError:
            self.close()
            raise self._busy_error("create its table") from None
        except BaseException:
            self.close()
            raise

    # -- the mapping ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise KeyError(key)
        sql = f"SELECT value FROM {self._table} WHERE key = ?"  # noqa: S608 - checked name
        try:
            row = self._run(lambda conn: conn.execute(sql, (key,)).fetchone())
        except _BusyError:
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
            self._run(write, write=True)
        except _BusyError:
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
            deleted = self._run(delete, write=True)
        except _BusyError:
            self._warn_busy("a delete was dropped")
            return
        if not deleted:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        sql = f"SELECT 1 FROM {self._table} WHERE key = ?"  # noqa: S608 - checked name
        try:
            return self._run(lambda conn: conn.execute(sql, (key,)).fetchone()) is not None
        except _BusyError:
            self._warn_busy("a read was treated as a miss")
            return False

    def __iter__(self) -> Iterator[str]:
        # Read every key first: a cursor held open across yields would pin a read snapshot
        # (blocking checkpoints) and break if the caller writes while iterating.
        # As blobs: one key that is not UTF-8 (written by something else) must not make the
        # whole listing fail; it is left out.
        # Rows no key can read (see damaged_items) are left out too.
        sql = f"SELECT CAST(key AS BLOB) FROM {self._table} WHERE {_ADDRESSABLE}"  # noqa: S608
        try:
            rows = self._run(lambda conn: conn.execute(sql).fetchall())
        except _BusyError:
            raise self._busy_error("list its keys") from None
        return iter([key for (raw,) in rows if (key := _text_or_none(raw)) is not None])

    def damaged_items(self) -> list[str]:
        """Rows that no key reads: a key that is NULL, not text or not UTF-8, or a value that
        is not a blob (written by something other than vaultcache)."""
        return [_describe(row) for row in self._damaged_rows()]

    def delete_damaged(self) -> int:
        """Delete the rows :meth:`damaged_items` lists, in one transaction."""
        by_type = f"DELETE FROM {self._table} WHERE NOT ({_ADDRESSABLE})"  # noqa: S608
        by_key = (
            f"DELETE FROM {self._table} WHERE typeof(key) = 'text' "  # noqa: S608
            "AND CAST(key AS BLOB) = ?"
        )
        undecodable = [(raw,) for kind, raw, _ in self._damaged_rows() if kind == "text"]

        def delete(conn: sqlite3.Connection) -> int:
            count = int(conn.execute(by_type).rowcount)
            return count + sum(int(conn.execute(by_key, raw).rowcount) for raw in undecodable)

        try:
            return self._run(delete, write=True)
        except _BusyError:
            raise self._busy_error("delete damaged rows") from None

    def _damaged_rows(self) -> list[tuple[str, Any, str]]:
        """(key type, key as a blob, value type) of every row no key reads."""
        sql = f"SELECT typeof(key), CAST(key AS BLOB), typeof(value) FROM {self._table}"  # noqa: S608
        try:
            rows = self._run(lambda conn: conn.execute(sql).fetchall())
        except _BusyError:
            raise self._busy_error("list its rows") from None
        return [
            (kind, raw, value_kind)
            for kind, raw, value_kind in rows
            if kind != "text" or value_kind != "blob" or _text_or_none(raw) is None
        ]

    def __len__(self) -> int:
        sql = f"SELECT COUNT(*) FROM {self._table}"  # noqa: S608 - checked name
        try:
            return int(self._run(lambda conn: conn.execute(sql).fetchone()[0]))
        except _BusyError:
            raise self._busy_error("count its entries") from None

    # -- whole-table operations ---------------------------------------------------------------

    def bulk_delete(self, keys: Iterable[str]) -> int:
        """Delete every key in `keys` that is present, in one transaction; return the count."""
        # Materialise first: the iterable may read this storage, which must not happen
        # inside our write transaction.
        doomed = [key for key in keys if isinstance(key, str)]
        if not doomed:
            return 0

        def delete(conn: sqlite3.Connection) -> int:
            return self._delete_keys(conn, doomed)

        try:
            return self._run(delete, write=True)
        except _BusyError:
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

        try:
            self._run(clear, write=True)
        except _BusyError:
            raise self._busy_error("clear its table") from None
        self.usage.cleared()

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        if not isinstance(key, str):
            return None
        sql = f"SELECT length(value) FROM {self._table} WHERE key = ?"  # noqa: S608
        try:
            row = self._run(lambda conn: conn.execute(sql, (key,)).fetchone())
        except _BusyError:
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

        try:
            swapped = self._run(swap, write=True)
        except _BusyError:
            raise self._busy_error("replace an entry") from None
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

        try:
            rows = self._run(read)
        except _BusyError:
            raise self._busy_error("list its entries") from None
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
        lru = self._lru

        def evict(conn: sqlite3.Connection) -> int:
            lru.ensure(conn)
            self._flush_accesses(conn)
            doomed: list[str] = []
            if max_age is not None:
                cutoff = moment - max_age.total_seconds()
                doomed = [row[0] for row in conn.execute(lru.older_than, (cutoff,))]
            deleted = self._delete_keys(conn, doomed)
            entries, size = conn.execute(lru.totals).fetchone()
            cursor = conn.execute(lru.oldest_first)
            try:
                # Sizes come from an unauthenticated table: a planted one counts as 0.
                victims, entries, size = lru_victims(
                    ((row[0], int(stored_number(row[1]) or 0)) for row in cursor),
                    entries=int(entries),
                    size=int(stored_number(size) or 0),
                    max_entries=max_entries,
                    max_bytes=max_bytes,
                    slack=slack,
                )
            finally:
                cursor.close()
            deleted += self._delete_keys(conn, victims)
            # Inside the transaction, like the writes' reports, so none is counted twice.
            self.usage.counted(entries, size, moment)
            return deleted

        try:
            return self._run(evict, write=True)
        except _BusyError:
            raise self._busy_error("evict entries") from None

    def _delete_keys(self, conn: sqlite3.Connection, keys: list[str]) -> int:
        """Delete `keys` from the table (and the side table), in the caller's transaction."""
        count = 0
        has_lru = bool(keys) and self._lru.exists(conn)
        for start in range(0, len(keys), _DELETE_CHUNK):
            chunk = keys[start : start + _DELETE_CHUNK]
            marks = ", ".join("?" * len(chunk))
            sql = f"DELETE FROM {self._table} WHERE key IN ({marks})"  # noqa: S608
            count += conn.execute(sql, chunk).rowcount
            if has_lru:
                conn.execute(self._lru.delete_keys(len(chunk)), chunk)
        return count

    def _flush_accesses(self, conn: sqlite3.Connection) -> None:
        """Store the recorded reads' times, in the caller's write transaction."""
        times = self._accesses.take()
        if times:
            self._lru.ensure(conn)
            conn.executemany(self._lru.touch, ((when, key, when) for key, when in times.items()))

    def _flush_from_read(self) -> None:
        """Store the recorded reads now, waiting only briefly for the write lock."""
        if not len(self._accesses):
            return
        try:
            conn = self._connection()
            conn.execute(f"PRAGMA busy_timeout = {_READ_FLUSH_TIMEOUT_MS}")
            try:
                _in_transaction(conn, self._flush_accesses)
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        except UnicodeDecodeError as exc:
            raise self._undecodable_error() from exc
        except sqlite3.Error as exc:
            if not _is_busy(exc):
                raise self._error(exc) from exc
            logger.debug("sqlite cache database %s busy; access times kept for later", self.path)

    def vacuum(self) -> None:
        """Rebuild the whole database file to return the space of deleted entries to the OS."""

        def vacuum(conn: sqlite3.Connection) -> None:
            conn.execute("VACUUM")
            # VACUUM in WAL mode writes the new pages to the WAL; fold them back in.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        try:
            self._run(vacuum)
        except _BusyError:
            raise self._busy_error("vacuum") from None

    def has_table(self, table_name: str) -> bool:
        """True when the database file holds a table called `table_name`."""
        name = _check_table_name(table_name)
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return bool(self._run(lambda conn: conn.execute(sql, (name,)).fetchone()))

    def for_table(self, table_name: str) -> SQLiteStorage:
        """Another table in the same database file, with the same settings."""
        return SQLiteStorage(
            self.path,
            table_name,
            busy_timeout=self.busy_timeout,
            wal=self.wal,
            allow_shared=self.allow_shared,
            read_only=self.read_only,
        )

    def close(self) -> None:
        """Store recorded reads, close every thread's connection; a later call opens new ones."""
        if self._pid != os.getpid():
            self._after_fork()  # a forked child must not close its parent's connections
        try:
            if not self.read_only:
                self._flush_from_read()
        except BackendError:
            logger.warning("sqlite cache database %s: recorded reads were lost", self.path)
        with self._lock:
            connections = list(self._connections.values())
            self._connections.clear()
            self._generation += 1
        for conn in connections:
            conn.close()

    def __repr__(self) -> str:
        return f"<SQLiteStorage {str(self.path)!r} table {self.table_name!r}>"

    # -- connections and retries --------------------------------------------------------------

    def _run(self, action: Callable[[sqlite3.Connection], T], *, write: bool = False) -> T:
        """Run `action` on this thread's connection, retrying while the database is busy.

        With `write`, inside ``BEGIN IMMEDIATE ... COMMIT``. Raises _BusyError once
        `busy_timeout` has passed, BackendError for any other sqlite failure.
        """
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.002
        while True:
            try:
                conn = self._connection()
                return _in_transaction(conn, action) if write else action(conn)
            except UnicodeDecodeError as exc:
                # Text read from a damaged file (header or page) need not be UTF-8.
                raise self._undecodable_error() from exc
            except sqlite3.Error as exc:
                if not _is_busy(exc):
                    raise self._error(exc) from exc
                if time.monotonic() >= deadline:
                    raise _BusyError from exc
            remaining = deadline - time.monotonic()
            # sqlite's own busy handler already waited; this covers the cases it does not
            # (WAL recovery, switching to WAL). Jitter keeps racing processes from colliding.
            time.sleep(max(0.0, min(remaining, delay * random.uniform(0.5, 1.5))))  # noqa: S311
            delay = min(delay * 2, 0.25)

    def _connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid():
            self._after_fork()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.generation == self._generation:
            return conn
        conn = self._connect()
        with self._lock:
            self._close_dead_threads()
            self._connections[threading.current_thread()] = conn
            self._local.generation = self._generation
        self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False only so close() may close other threads' connections;
        # each connection is otherwise used by the thread that opened it alone.
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        if self.read_only:
            return self._connect_read_only()
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        wanted = "wal" if self.wal else "delete"
        try:
            mode = conn.execute(f"PRAGMA journal_mode={wanted}").fetchone()[0]
            # In WAL mode NORMAL still never corrupts; a power cut may lose the last commits.
            conn.execute(f"PRAGMA synchronous={'NORMAL' if self.wal else 'FULL'}")
            # Without a limit the -wal file keeps the size of the largest write ever made.
            conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        except BaseException:
            conn.close()
            raise
        if str(mode).lower() != wanted:
            logger.warning(
                "sqlite database %s could not use journal mode %s (got %s)",
                self.path,
                wanted,
                mode,
            )
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        """A connection that never writes (mode=ro).

        Reading a WAL database needs its ``-shm`` file; where that cannot be created (a
        read-only folder or medium) the file is opened as immutable: nothing can be writing
        to it there, and sqlite then reads it without locks or a ``-shm`` file.
        """
        for immutable in (False, True):
            parameters = "mode=ro&immutable=1" if immutable else "mode=ro"
            conn = sqlite3.connect(
                f"{self.path.as_uri()}?{parameters}",
                uri=True,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file
            except sqlite3.Error as exc:
                conn.close()
                if immutable or getattr(exc, "sqlite_errorcode", 0) & 0xFF != _SQLITE_CANTOPEN:
                    raise
                continue
            return conn
        raise AssertionError("unreachable")  # pragma: no cover - the second attempt returns

    def _close_dead_threads(self) -> None:
        """Close connections of threads that have exited (threads may come and go for hours)."""
        for thread in [thread for thread in self._connections if not thread.is_alive()]:
            self._connections.pop(thread).close()

    def _after_fork(self) -> None:
        # The parent's connections must not be used, nor closed (closing could disturb the
        # parent's locks): forget them. The lock may have been held by a parent thread.
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections = {}
        self._pid = os.getpid()

    def _create_table(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self._table} ("
            "key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, "
            "created REAL NOT NULL, accessed REAL NOT NULL)"
        )
        self._check_table(conn)

    def _check_table(self, conn: sqlite3.Connection) -> None:
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({self._table})")}
        if not columns:
            raise BackendError(
                f"sqlite database {self.path} has no table {self.table_name!r}, so it is not a "
                "vaultcache cache; check the name or path",
                backend=BACKEND,
                path=str(self.path),
            )
        if not set(_COLUMNS) <= columns:
            raise BackendError(
                f"table {self.table_name!r} in {self.path} was not created by vaultcache "
                f"(its columns are {', '.join(sorted(columns))}); choose another table_name "
                "or database file",
                backend=BACKEND,
                path=str(self.path),
            )

    # -- errors ---------------------------------------------------------------------------

    def _error(self, exc: sqlite3.Error) -> BackendError:
        code = exc.sqlite_errorcode & 0xFF if hasattr(exc, "sqlite_errorcode") else None
        if code in (_SQLITE_NOTADB, _SQLITE_CORRUPT):
            fix = "move it aside or delete it, and vaultcache will create a new, empty cache"
            what = "is corrupt or not an sqlite database"
        elif self.read_only and code == _SQLITE_READONLY:
            fix = "open it without read_only to change it"
            what = "was opened read-only"
        elif code in (_SQLITE_CANTOPEN, _SQLITE_PERM, _SQLITE_READONLY):
            fix = "check that the file and its directory exist and are writable by this user"
            what = "cannot be opened for writing"
        elif code == _SQLITE_FULL:
            fix = "free disk space, or clear or vacuum the cache"
            what = "cannot grow: the disk is full"
        else:
            fix = "if this persists, move the file aside to start a new cache"
            what = "failed"
        return BackendError(
            f"sqlite cache database {self.path} {what} ({exc}); {fix}",
            backend=BACKEND,
            path=str(self.path),
        )

    def _undecodable_error(self) -> BackendError:
        return BackendError(
            f"sqlite cache database {self.path} is corrupt (it holds text that is not UTF-8); "
            "move it aside or delete it, and vaultcache will create a new, empty cache",
            backend=BACKEND,
            path=str(self.path),
        )

    def _busy_error(self, action: str) -> BackendError:
        return BackendError(
            f"sqlite cache database {self.path} stayed locked by other connections for "
            f"{self.busy_timeout:g}s, so this storage could not {action}; retry later, or "
            "raise busy_timeout",
            backend=BACKEND,
            path=str(self.path),
        )

    def _warn_busy(self, consequence: str) -> None:
        # Never the key: keys can embed request details.
        logger.warning(
            "sqlite cache database %s (table %s) stayed locked for %gs; %s",
            self.path,
            self.table_name,
            self.busy_timeout,
            consequence,
        )


class _LruTable:
    """The side table of a table's entry sizes and times, and the SQL that uses it.

    ``exists`` must be called inside a write transaction (``BEGIN IMMEDIATE``) to be
    reliable: then no other connection can create the table before the transaction ends.
    """

    def __init__(self, quoted_table: str, table_name: str) -> None:
        self.name = f"{table_name}-lru"  # '-' cannot appear in a vaultcache table name
        table, lru = quoted_table, f'"{self.name}"'
        index = f'"{table_name}-lru-order"'
        self._ready = False
        self._schema_seen: int | None = None
        self.create = (
            f"CREATE TABLE IF NOT EXISTS {lru} (key TEXT PRIMARY KEY NOT NULL, "
            "accessed REAL NOT NULL, created REAL NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {index} ON {lru} (accessed, size, created)",
            # Entries written before the side table existed; from now on writers keep it.
            f"INSERT OR IGNORE INTO {lru} (key, accessed, created, size) "  # noqa: S608
            f"SELECT key, accessed, created, length(value) FROM {table}",
        )
        self.upsert = (
            f"INSERT OR REPLACE INTO {lru} (key, accessed, created, size) "  # noqa: S608
            "VALUES (?, ?, ?, ?)"
        )
        self.resize = f"UPDATE {lru} SET size = ? WHERE key = ?"  # noqa: S608
        # Never moves a time back: another process may have stored a later read.
        self.touch = f"UPDATE {lru} SET accessed = ? WHERE key = ? AND accessed < ?"  # noqa: S608
        self.delete_key = f"DELETE FROM {lru} WHERE key = ?"  # noqa: S608
        self.delete_all = f"DELETE FROM {lru}"  # noqa: S608
        self._delete_prefix = f"DELETE FROM {lru} WHERE key IN "  # noqa: S608
        # TOTAL, not SUM: a planted huge size must not overflow the sum into an error.
        self.totals = f"SELECT COUNT(*), TOTAL(size) FROM {lru}"  # noqa: S608
        self.oldest_first = f"SELECT key, size FROM {lru} ORDER BY accessed"  # noqa: S608
        self.older_than = f"SELECT key FROM {lru} INDEXED BY {index} WHERE created < ?"  # noqa: S608
        self.stats = (
            f"SELECT t.key, length(t.value), t.created, "  # noqa: S608 - checked names
            f"max(t.accessed, COALESCE(l.accessed, 0)) FROM {table} AS t "
            f"LEFT JOIN {lru} AS l ON l.key = t.key"
        )

    def delete_keys(self, count: int) -> str:
        """DELETE of `count` keys given as parameters."""
        return self._delete_prefix + "(" + ", ".join("?" * count) + ")"

    def exists(self, conn: sqlite3.Connection) -> bool:
        """Whether the side table exists; about a microsecond when nothing changed."""
        if self._ready:
            return True  # it is never dropped
        version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
        if version != self._schema_seen:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self.name,)
            ).fetchone()
            self._ready = found is not None
            self._schema_seen = version
        return self._ready

    def ensure(self, conn: sqlite3.Connection) -> None:
        """Create and fill the side table unless it exists; in a write transaction."""
        if not self.exists(conn):
            for sql in self.create:
                conn.execute(sql)
            self._ready = True


def _in_transaction(conn: sqlite3.Connection, action: Callable[[sqlite3.Connection], T]) -> T:
    # IMMEDIATE takes the write lock up front, so a transaction never fails half-way
    # because another writer got there between our read and our write.
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = action(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                logger.debug("rollback failed; sqlite rolls back on close", exc_info=True)
        raise
    return result


def _text_or_none(raw: object) -> str | None:
    if not isinstance(raw, bytes):
        return None  # a NULL key
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _describe(row: tuple[str, Any, str]) -> str:
    """A damaged row, named without its contents."""
    kind, raw, value_kind = row
    if kind != "text":
        return f"<damaged row: key is {kind}>"
    if _text_or_none(raw) is None:
        return "<damaged row: key is not UTF-8>"
    return f"<damaged row: value is {value_kind}, not a blob>"


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _check_table_name(name: object) -> str:
    if not isinstance(name, str) or not _TABLE_NAME.match(name):
        raise ConfigError(
            f"table name {name!r} is invalid: use letters, digits and '_' (at most 63), "
            "starting with a letter or '_'",
            key="backend.sqlite.table_name",
            expected="identifier",
        )
    if name.lower().startswith("sqlite_"):
        raise ConfigError(
            f"table name {name!r} is reserved by sqlite", key="backend.sqlite.table_name"
        )
    return name


def _check_busy_timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"expected a number of seconds, got {type(value).__name__}",
            key="backend.sqlite.busy_timeout",
            expected="number",
        )
    if not 0 < value <= MAX_BUSY_TIMEOUT:
        raise ConfigError(
            f"{value} is out of range: more than 0 and at most {MAX_BUSY_TIMEOUT:g} seconds",
            key="backend.sqlite.busy_timeout",
            expected=f"number of seconds in (0, {MAX_BUSY_TIMEOUT:g}]",
        )
    return float(value)


def _create_private_file(path: Path, *, allow_shared: bool) -> None:
    """Create the database file with mode 0600 before sqlite does (sqlite would use 0644).

    sqlite gives the ``-wal`` and ``-shm`` files the database file's mode, so they are
    private too.
    """
    try:
        make_private_dirs(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _check_existing(path, allow_shared=allow_shared)
        return
    except OSError as exc:
        raise BackendError(
            f"cannot create the sqlite cache database {path} ({exc.strerror}); choose a "
            "location this user can write, or pass use_cache_dir=True",
            backend=BACKEND,
            path=str(path),
        ) from exc
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
    finally:
        os.close(fd)


#: Files already warned about, as (device, inode, mode, owner): each warning once per process.
_WARNED: set[tuple[int, int, int, int]] = set()


def _check_existing(path: Path, *, allow_shared: bool) -> None:
    """Refuse a database file planted by someone else; warn about loose permissions."""
    refuse_if_shared(BACKEND, path, "sqlite cache database", allow_shared=allow_shared)
    _warn_if_shared(path)


def _warn_if_shared(path: Path) -> None:
    try:
        status = path.stat()
    except OSError:
        return  # sqlite will report a missing or unreadable file itself
    mode = status.st_mode
    if os.name != "posix" or not stat.S_ISREG(mode):
        return
    state = (status.st_dev, status.st_ino, mode, status.st_uid)
    if state in _WARNED:
        return  # the other tables of the file, or the same file opened again
    _WARNED.add(state)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            "sqlite cache database %s is accessible by group or others (mode %o); "
            "run `chmod 600 %s`",
            path,
            stat.S_IMODE(mode),
            path,
        )
