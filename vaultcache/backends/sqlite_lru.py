"""The side table that retention keeps beside each sqlite table, and its SQL.

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

import sqlite3
from collections.abc import Mapping

from vaultcache.backends.usage import lru_victims, stored_number

__all__ = ["LruTable"]

# sqlite's limit on parameters per statement was 999 before 3.32.
_DELETE_CHUNK = 500


class LruTable:
    """The side table of a table's entry sizes and times, and the SQL that uses it.

    ``exists`` must be called inside a write transaction (``BEGIN IMMEDIATE``) to be
    reliable: then no other connection can create the table before the transaction ends.
    """

    def __init__(self, quoted_table: str, table_name: str) -> None:
        self.name = f"{table_name}-lru"  # '-' cannot appear in a vaultcache table name
        table, lru = quoted_table, f'"{self.name}"'
        self._table = table
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

    def store_reads(self, conn: sqlite3.Connection, times: Mapping[str, float]) -> None:
        """Store recorded reads' times (key -> epoch time), in the caller's write transaction."""
        if times:
            self.ensure(conn)
            conn.executemany(self.touch, ((when, key, when) for key, when in times.items()))

    def delete_entries(self, conn: sqlite3.Connection, keys: list[str]) -> int:
        """Delete `keys` from the entry table and this one, in the caller's transaction."""
        count = 0
        has_lru = bool(keys) and self.exists(conn)
        for start in range(0, len(keys), _DELETE_CHUNK):
            chunk = keys[start : start + _DELETE_CHUNK]
            marks = ", ".join("?" * len(chunk))
            sql = f"DELETE FROM {self._table} WHERE key IN ({marks})"  # noqa: S608
            count += conn.execute(sql, chunk).rowcount
            if has_lru:
                conn.execute(self.delete_keys(len(chunk)), chunk)
        return count

    def evict(
        self,
        conn: sqlite3.Connection,
        *,
        older_than: float | None,
        max_entries: int | None,
        max_bytes: int | None,
        slack: float,
    ) -> tuple[int, int, int]:
        """Delete entries created before `older_than`, then the least recently used.

        In the caller's write transaction, once :meth:`ensure` has run. Returns how many
        entries were deleted and the entries and bytes that remain.
        """
        doomed: list[str] = []
        if older_than is not None:
            doomed = [row[0] for row in conn.execute(self.older_than, (older_than,))]
        deleted = self.delete_entries(conn, doomed)
        entries, size = conn.execute(self.totals).fetchone()
        cursor = conn.execute(self.oldest_first)
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
        deleted += self.delete_entries(conn, victims)
        return deleted, entries, size
