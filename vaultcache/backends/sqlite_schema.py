"""The entry table of the sqlite backend: its schema, and the rows no key can read."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from vaultcache.backends.errors import BackendError
from vaultcache.backends.sqlite_options import BACKEND

__all__ = ["ADDRESSABLE", "EntryTable", "describe_damaged", "text_or_none"]

_COLUMNS = ("key", "value", "created", "accessed")
#: Rows that a key can read: a text key and a blob value (others are damaged_items).
ADDRESSABLE = "typeof(key) = 'text' AND typeof(value) = 'blob'"


class EntryTable:
    """Creating and checking the table `quoted_table` of entries in the database at `path`."""

    def __init__(self, quoted_table: str, table_name: str, path: Path) -> None:
        self._table = quoted_table
        self.table_name = table_name
        self.path = path

    def create(self, conn: sqlite3.Connection) -> None:
        """Create the table unless it exists, then :meth:`check` it."""
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self._table} ("
            "key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, "
            "created REAL NOT NULL, accessed REAL NOT NULL)"
        )
        self.check(conn)

    def check(self, conn: sqlite3.Connection) -> None:
        """BackendError unless the table exists with vaultcache's columns."""
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

    def damaged_rows(self, conn: sqlite3.Connection) -> list[tuple[str, Any, str]]:
        """(key type, key as a blob, value type) of every row no key reads."""
        sql = f"SELECT typeof(key), CAST(key AS BLOB), typeof(value) FROM {self._table}"  # noqa: S608
        return [
            (kind, raw, value_kind)
            for kind, raw, value_kind in conn.execute(sql).fetchall()
            if kind != "text" or value_kind != "blob" or text_or_none(raw) is None
        ]

    def delete_damaged(self, conn: sqlite3.Connection, undecodable: list[bytes]) -> int:
        """Delete the rows whose key or value has the wrong type, and the text keys (given as
        blobs) in `undecodable`; return how many went."""
        by_type = f"DELETE FROM {self._table} WHERE NOT ({ADDRESSABLE})"  # noqa: S608
        by_key = (
            f"DELETE FROM {self._table} WHERE typeof(key) = 'text' "  # noqa: S608
            "AND CAST(key AS BLOB) = ?"
        )
        count = int(conn.execute(by_type).rowcount)
        return count + sum(int(conn.execute(by_key, (raw,)).rowcount) for raw in undecodable)


def text_or_none(raw: object) -> str | None:
    """A key read as a blob, decoded; None for a NULL key or one that is not UTF-8."""
    if not isinstance(raw, bytes):
        return None  # a NULL key
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def describe_damaged(row: tuple[str, Any, str]) -> str:
    """A damaged row (key type, key as a blob, value type), named without its contents."""
    kind, raw, value_kind = row
    if kind != "text":
        return f"<damaged row: key is {kind}>"
    if text_or_none(raw) is None:
        return "<damaged row: key is not UTF-8>"
    return f"<damaged row: value is {value_kind}, not a blob>"
