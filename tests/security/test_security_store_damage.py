"""A damaged or planted store: corrupt, truncated or foreign database files and entry files.

Each gives a typed error (BackendError) when the cache is opened, or misses; a request
through a session gets the right response either way, and entries that are not damaged
are not lost.
"""

from __future__ import annotations

import os
import random
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from security_support import body_for

from vaultcache.backends.base import BackendError

PATHS = [f"/store/{number}" for number in range(6)]


def _fill(session: Any, origin: Any) -> dict[str, str]:
    """Fetch every path once; return path -> cache key."""
    return {path: session.get(origin.url(path)).cache_key for path in PATHS}


def _all_correct(session: Any, origin: Any) -> list[bool]:
    """Request every path; assert each body is right; return which came from the cache."""
    served = []
    for path in PATHS:
        response = session.get(origin.url(path))
        assert response.content == body_for(path)
        served.append(bool(response.from_cache))
    return served


def _db(cache_path: str) -> Path:
    return Path(cache_path + ".sqlite")


@pytest.mark.parametrize(
    "content",
    [b"not a database\n" * 500, os.urandom(8192), b"SQLite format 3\x00" + bytes(100)],
    ids=["text", "random", "header-only"],
)
def test_file_that_is_not_an_sqlite_database_is_a_typed_error(
    make_session: Any, cache_path: str, content: bytes
) -> None:
    """Attack: replace the database with a file that is not one."""
    _db(cache_path).write_bytes(content)
    with pytest.raises(BackendError) as caught:
        make_session()
    assert caught.value.path == str(_db(cache_path))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_database_is_a_typed_error_or_answers_correctly(
    make_session: Any, origin: Any, cache_path: str, fraction: float
) -> None:
    """Attack: truncate the database file."""
    session = make_session()
    _fill(session, origin)
    session.close()
    data = _db(cache_path).read_bytes()
    _db(cache_path).write_bytes(data[: int(len(data) * fraction)])
    try:
        damaged = make_session()
    except BackendError:
        return
    _all_correct(damaged, origin)


@pytest.mark.parametrize("seed", range(16))
def test_database_with_damaged_pages_is_a_typed_error_or_answers_correctly(
    make_session: Any, origin: Any, cache_path: str, seed: int
) -> None:
    """Attack: overwrite random runs of bytes inside the database file."""
    session = make_session()
    _fill(session, origin)
    session.close()
    rng = random.Random(seed)
    data = bytearray(_db(cache_path).read_bytes())
    for _ in range(8):
        start = rng.randrange(100, len(data))
        data[start : start + 64] = rng.randbytes(64)
    _db(cache_path).write_bytes(bytes(data))
    try:
        damaged = make_session()
    except BackendError:
        return
    _all_correct(damaged, origin)
    _all_correct(damaged, origin)


def test_garbage_wal_file_is_ignored(make_session: Any, origin: Any, cache_path: str) -> None:
    """Attack: plant a -wal file of garbage next to a closed database."""
    session = make_session()
    _fill(session, origin)
    session.close()
    Path(cache_path + ".sqlite-wal").write_bytes(os.urandom(40_000))
    assert all(_all_correct(make_session(), origin))


@pytest.mark.parametrize(
    "value",
    [b"random bytes", "text, not a blob", 1.5, 2**62, b""],
    ids=["bytes", "text", "real", "huge-integer", "empty"],
)
def test_one_bad_row_is_a_miss_and_the_others_are_kept(
    make_session: Any, origin: Any, cache_path: str, value: object
) -> None:
    """Attack: overwrite one row's value with something else, of any SQL type."""
    session = make_session()
    keys = _fill(session, origin)
    with closing(sqlite3.connect(_db(cache_path))) as db, db:
        db.execute("UPDATE responses SET value = ? WHERE key = ?", (value, keys[PATHS[0]]))

    assert _all_correct(session, origin) == [False] + [True] * (len(PATHS) - 1)
    assert all(_all_correct(session, origin))


def test_row_with_a_key_that_is_not_utf8_does_not_break_listing(
    make_session: Any, origin: Any, cache_path: str
) -> None:
    """Attack: insert a row whose key is not UTF-8, so that listing the cache fails."""
    session = make_session()
    _fill(session, origin)
    with closing(sqlite3.connect(_db(cache_path))) as db, db:
        db.execute("INSERT INTO responses VALUES (CAST(x'ff00' AS TEXT), x'00', 0, 0)")

    assert len(session.cache.urls) == len(PATHS)
    assert all(_all_correct(session, origin))


@pytest.mark.parametrize(
    "damage",
    ["garbage", "empty", "huge-key-length", "other-entry", "directory", "fifo", "device-link"],
)
def test_one_damaged_entry_file_is_a_miss_and_the_others_are_kept(
    make_session: Any, origin: Any, cache_path: str, damage: str
) -> None:
    """Attack: replace one entry file with garbage, another entry, a directory, a FIFO or a
    link to a device."""
    session = make_session("filesystem")
    keys = _fill(session, origin)
    files = Path(cache_path, "responses")
    target = session.cache.storage._path(keys[PATHS[0]])
    other = session.cache.storage._path(keys[PATHS[1]])
    content = {
        "garbage": os.urandom(500),
        "empty": b"",
        "huge-key-length": b"VCF1\xff\xff\xff\xff",
        "other-entry": other.read_bytes(),
    }
    target.unlink()
    if damage == "directory":
        target.mkdir()
    elif damage == "fifo":  # opening it for reading would wait for a writer forever
        os.mkfifo(target)
    elif damage == "device-link":  # reading it would never end
        target.symlink_to("/dev/zero")
    else:
        target.write_bytes(content[damage])
    assert files.is_dir()

    served = _all_correct(session, origin)

    assert served[1:] == [True] * (len(PATHS) - 1)
    if damage != "directory":  # a directory cannot be written over: a miss every time
        assert all(_all_correct(session, origin))


def test_symlink_planted_at_an_entry_path_is_not_followed_on_write(
    make_session: Any, origin: Any, tmp_path: Path
) -> None:
    """Attack: replace an entry file with a symlink to a file of the victim's, so the next
    write of that entry overwrites the victim's file.
    """
    session = make_session("filesystem")
    keys = _fill(session, origin)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = session.cache.storage._path(keys[PATHS[0]])
    target.unlink()
    target.symlink_to(victim)

    assert _all_correct(session, origin)[0] is False

    assert victim.read_text() == "precious"
    assert not target.is_symlink()
