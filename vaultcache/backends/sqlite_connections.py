"""One sqlite connection per thread to a database file: transactions, retries and errors.

:meth:`SQLiteConnections.run` runs an action on the calling thread's connection, inside
``BEGIN IMMEDIATE ... COMMIT`` for a write, retrying with bounded, jittered backoff while
another connection holds the lock, and turns any other sqlite failure into a BackendError
that names the file and the fix. A forked child forgets its parent's connections.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from vaultcache.backends.errors import BackendError
from vaultcache.backends.sqlite_options import BACKEND, DEFAULT_PAGE_SIZE

__all__ = [
    "CHECKPOINT_BYTES",
    "JOURNAL_SIZE_LIMIT",
    "BusyError",
    "SQLiteConnections",
    "in_transaction",
    "is_busy",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


# Primary result codes (the low byte of an extended code).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


#: Bytes the -wal file is truncated to after a checkpoint.
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024

#: Bytes written to the -wal file before a commit checkpoints it: sqlite's default of 1000
#: pages at its default page size, kept for every page size.
CHECKPOINT_BYTES = 1000 * 4096


class BusyError(Exception):
    """The database stayed locked by other connections for the whole busy timeout."""


class SQLiteConnections:
    """The connections of one database file, one per thread, opened on first use.

    `busy_timeout` bounds, in seconds, how long one operation waits for other connections;
    `wal` chooses write-ahead logging; `page_size` is the page size of a file created empty
    (an existing file keeps its own); `read_only` opens the file so that nothing is written.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float,
        wal: bool,
        read_only: bool,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.wal = wal
        self.read_only = read_only
        self.page_size = page_size
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}
        self._generation = 0
        self._pid = os.getpid()

    def close(self) -> None:
        """Close every thread's connection; a later call opens new ones."""
        if self._pid != os.getpid():
            self._after_fork()  # a forked child must not close its parent's connections
        with self._lock:
            connections = list(self._connections.values())
            self._connections.clear()
            self._generation += 1
        for conn in connections:
            conn.close()

    def run_or_fail(
        self, doing: str, action: Callable[[sqlite3.Connection], T], *, write: bool = False
    ) -> T:
        """:meth:`run`, where a database busy for the whole timeout is a BackendError saying
        that this storage could not do `doing`."""
        try:
            return self.run(action, write=write)
        except BusyError:
            raise self.busy_error(doing) from None

    def write_briefly(self, action: Callable[[sqlite3.Connection], None], timeout_ms: int) -> bool:
        """Run `action` in a write transaction, waiting at most `timeout_ms` for the lock.

        False when the database stayed busy (nothing was done); BackendError for any other
        sqlite failure.
        """
        try:
            conn = self.connection()
            conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            try:
                in_transaction(conn, action)
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        except UnicodeDecodeError as exc:
            raise self.undecodable_error() from exc
        except sqlite3.Error as exc:
            if not is_busy(exc):
                raise self.error(exc) from exc
            return False
        return True

    def run(self, action: Callable[[sqlite3.Connection], T], *, write: bool = False) -> T:
        """Run `action` on this thread's connection, retrying while the database is busy.

        With `write`, inside ``BEGIN IMMEDIATE ... COMMIT``. Raises BusyError once
        `busy_timeout` has passed, BackendError for any other sqlite failure.
        """
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.002
        while True:
            try:
                conn = self.connection()
                return in_transaction(conn, action) if write else action(conn)
            except UnicodeDecodeError as exc:
                # Text read from a damaged file (header or page) need not be UTF-8.
                raise self.undecodable_error() from exc
            except sqlite3.Error as exc:
                if not is_busy(exc):
                    raise self.error(exc) from exc
                if time.monotonic() >= deadline:
                    raise BusyError from exc
            remaining = deadline - time.monotonic()
            # sqlite's own busy handler already waited; this covers the cases it does not
            # (WAL recovery, switching to WAL). Jitter keeps racing processes from colliding.
            time.sleep(max(0.0, min(remaining, delay * random.uniform(0.5, 1.5))))  # noqa: S311
            delay = min(delay * 2, 0.25)

    def connection(self) -> sqlite3.Connection:
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
            # Before anything writes: it sets the size of a new file's pages only.
            conn.execute(f"PRAGMA page_size={self.page_size}")
            mode = conn.execute(f"PRAGMA journal_mode={wanted}").fetchone()[0]
            pages = int(conn.execute("PRAGMA page_size").fetchone()[0])
            conn.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_BYTES // pages}")
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

    def error(self, exc: sqlite3.Error) -> BackendError:
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

    def undecodable_error(self) -> BackendError:
        return BackendError(
            f"sqlite cache database {self.path} is corrupt (it holds text that is not UTF-8); "
            "move it aside or delete it, and vaultcache will create a new, empty cache",
            backend=BACKEND,
            path=str(self.path),
        )

    def busy_error(self, action: str) -> BackendError:
        return BackendError(
            f"sqlite cache database {self.path} stayed locked by other connections for "
            f"{self.busy_timeout:g}s, so this storage could not {action}; retry later, or "
            "raise busy_timeout",
            backend=BACKEND,
            path=str(self.path),
        )


def in_transaction(conn: sqlite3.Connection, action: Callable[[sqlite3.Connection], T]) -> T:
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


def is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text
