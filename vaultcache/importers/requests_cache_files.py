"""Reading a requests-cache 1.x cache: its sqlite file or its directory, entry by entry.

Yields each stored response as the plain dict requests-cache's serializer unstructured it
to (its own cache key beside it); :mod:`vaultcache.importers.requests_cache` turns them into
CachedResponses. Only pickle (the sqlite default, through
:mod:`vaultcache.importers.pickles`) and JSON (the filesystem default) entries are read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from vaultcache.importers.pickles import load_trusted_pickle

__all__ = ["SourceError", "count_entries", "locate", "read_entries"]

#: Files in a requests-cache directory that are not entries.
_NOT_ENTRIES = {"redirects.sqlite", "redirects.sqlite-wal", "redirects.sqlite-shm"}


class SourceError(ValueError):
    """The requests-cache cache cannot be read (names the entry, never its contents)."""


def locate(path: str | Path) -> Path:
    """The sqlite file or directory `path` names (``name`` finds ``name.sqlite``, as
    requests-cache does)."""
    given = Path(path)
    for candidate in (given, given.with_name(given.name + ".sqlite")):
        if candidate.is_dir() or candidate.is_file():
            return candidate
    raise SourceError(f"{given}: no requests-cache sqlite file or directory there")


def count_entries(source: Path) -> int:
    """How many responses the cache at `source` holds."""
    if source.is_dir():
        return sum(1 for _ in _entry_files(source))
    with closing(_connect(source)) as db:
        return int(db.execute("SELECT count(*) FROM responses").fetchone()[0])


def read_entries(source: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(requests-cache key, unstructured response) for every stored response."""
    if source.is_dir():
        for file in _entry_files(source):
            yield file.name, _decode(file.name, file.read_bytes(), file.suffix)
        return
    with closing(_connect(source)) as db:
        try:
            rows = db.execute("SELECT key, value FROM responses ORDER BY key")
            for key, value in rows:
                yield str(key), _decode(str(key), value, None)
        except sqlite3.DatabaseError as exc:
            raise SourceError(f"{source}: not a requests-cache database ({exc})") from None


def _connect(source: Path) -> sqlite3.Connection:
    """A read-only connection to a requests-cache database (closed again if it is none)."""
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        db.execute("SELECT 1 FROM responses LIMIT 1")
    except sqlite3.DatabaseError as exc:
        db.close()
        raise SourceError(f"{source}: not a requests-cache database ({exc})") from None
    return db


def _entry_files(directory: Path) -> Iterator[Path]:
    for file in sorted(directory.iterdir()):
        if file.is_file() and file.name not in _NOT_ENTRIES and not file.name.startswith("."):
            yield file


def _decode(key: str, value: object, suffix: str | None) -> dict[str, Any]:
    """One entry's dict, from a pickle or from JSON (by file suffix, or by its first byte)."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(data, bytes):
        raise SourceError(f"entry {key}: stored value is not bytes or text")
    as_json = suffix == ".json" or (suffix is None and data[:1] in (b"{", b"["))
    if not as_json and suffix not in (None, "", ".pkl", ".pickle"):
        raise SourceError(
            f"entry {key}: written with a serializer this importer does not read "
            f"({suffix}); only pickle and json are read"
        )
    try:
        decoded = json.loads(data) if as_json else load_trusted_pickle(data)
    except ValueError as exc:
        raise SourceError(f"entry {key}: {exc}") from None
    if not isinstance(decoded, dict):
        raise SourceError(f"entry {key}: not a requests-cache response")
    return decoded
