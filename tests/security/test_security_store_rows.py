"""Rows planted in the store by someone without the key never crash a caller.

Whatever is read from a store is a miss, a BackendError where the store itself fails, or a
bad entry that ``vaultcache verify`` lists and ``verify --delete`` removes.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from security_support import body_for

from vaultcache.cli import main
from vaultcache.retention import Retention

PATHS = [f"/rows/{number}" for number in range(4)]


def _db(cache_path: str) -> Path:
    return Path(cache_path + ".sqlite")


def _fill(session: Any, origin: Any) -> None:
    for path in PATHS:
        session.get(origin.url(path))


def _without_not_null(db: sqlite3.Connection, table: str) -> None:
    """Rebuild `table` as someone else might: the same columns, without NOT NULL."""
    schema = db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC",
        (table,),
    ).fetchall()
    rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
    db.execute(f'DROP TABLE "{table}"')
    for (sql,) in schema:  # the table, then its indexes
        db.execute(sql.replace("NOT NULL", ""))
    columns = len(db.execute(f'PRAGMA table_info("{table}")').fetchall())
    db.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * columns)})', rows)


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("responses-lru", "size"),
        ("responses-lru", "created"),
        ("responses-lru", "accessed"),
        ("responses", "created"),
        ("responses", "accessed"),
    ],
)
@pytest.mark.parametrize("value", ["text, not a number", None, 1e300, float("inf")])
def test_bad_retention_metadata_is_never_an_exception(
    make_session: Any, origin: Any, cache_path: str, table: str, column: str, value: object
) -> None:
    """Attack: put text, NULL or a huge number in a size or time column, so that every
    later write with retention on (or every listing of entry sizes) raises."""
    session = make_session(
        retention=Retention(max_entries=3, max_age=timedelta(days=1), check_every=1)
    )
    _fill(session, origin)
    with closing(sqlite3.connect(_db(cache_path))) as db, db:
        _without_not_null(db, table)
        db.execute(f'UPDATE "{table}" SET {column} = ?', (value,))

    stats = list(session.cache.storage.entry_stats())
    for path in [*PATHS, "/rows/new-1", "/rows/new-2"]:
        assert session.get(origin.url(path)).content == body_for(path)
    assert len(stats) == 3
    assert len(session.cache.storage) <= 4


def _with_null_key_row(cache_path: str, table: str) -> None:
    """Rebuild `table` without NOT NULL and add a row whose key is NULL."""
    with closing(sqlite3.connect(_db(cache_path))) as db, db:
        _without_not_null(db, table)
        db.execute(f"INSERT INTO {table} VALUES (NULL, x'00', 0, 0)")


def test_row_with_a_null_key_is_listed_bad_and_removed_by_verify(
    make_session: Any,
    origin: Any,
    cache_path: str,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Attack: rebuild the table without NOT NULL and add a row with a NULL key, so that
    listing the cache fails everywhere and verify can neither see nor delete the row."""
    session = make_session()
    _fill(session, origin)
    _with_null_key_row(cache_path, "responses")

    assert len(session.cache.urls) == len(PATHS)
    assert session.cache.response_count(check_expiry=True) == len(PATHS)
    assert session.cache.delete(expired=True) == 0
    monkeypatch.setenv("VAULTCACHE_KEYS", key)
    monkeypatch.chdir(_db(cache_path).parent)
    for command in (["ls"], ["stats"], ["keys", "list"], ["rotate"]):
        assert main([*command, "--cache", cache_path]) == 0, command
    capsys.readouterr()

    assert main(["verify", "--cache", cache_path, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["checked"] == len(PATHS) + 1
    assert len(report["bad"]) == 1

    assert main(["verify", "--cache", cache_path, "--delete", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["deleted"] == 1
    assert main(["verify", "--cache", cache_path]) == 0
    with closing(sqlite3.connect(_db(cache_path))) as db, db:
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == len(PATHS)


def test_redirect_row_with_a_null_key_does_not_break_invalidation(
    make_session: Any, origin: Any, cache_path: str
) -> None:
    """Attack: a NULL-key row in the redirects table, so that a POST (which invalidates
    what the URL stored, RFC 9111 §4.4) raises."""
    session = make_session(cache_control=True, allowable_methods=("GET",))
    session.get(origin.url("/redirect/redirect/rows/target"))  # two hops: two records
    session.get(origin.url("/rows/form"))
    assert len(session.cache.redirect_storage) == 2
    _with_null_key_row(cache_path, "redirects")

    assert session.post(origin.url("/rows/form"), data={"a": "1"}).status_code == 200
    assert session.get(origin.url("/rows/form")).from_cache is False
    target = session.get(origin.url("/redirect/redirect/rows/target"))
    assert target.content == body_for("/rows/target")
