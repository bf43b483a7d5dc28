"""Reading a cache as it is stored, for the inspection commands: nothing is changed or created.

``get_response`` deletes an entry it cannot read; ``ls``, ``stats``, ``keys list``, ``verify``
and ``purge`` must not, so they read raw bytes here and decode them with the pipeline directly.
How they open the cache (read-only, never creating one) is ``cli/opening.py``.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta

import attrs

from vaultcache.cache import BaseCache
from vaultcache.cli.common import progress
from vaultcache.entries import CHUNK_SIZE, EntryHeader, chunk_key, peek_header
from vaultcache.errors import (
    ConfigError,
    DamagedDictionaryError,
    EntryError,
    ForeignEntryError,
    MissingDictionaryError,
    MissingStageError,
    OldFormatError,
    RefusedSpecError,
    SizeLimitError,
    UnknownKeyError,
    describe,
)
from vaultcache.models import CachedResponse
from vaultcache.policy.expiration import validate_expiration

__all__ = [
    "OK",
    "OUTCOMES",
    "TAMPERED",
    "Entry",
    "Selection",
    "add_selection_arguments",
    "digest_of",
    "format_time",
    "parse_duration",
    "plural",
    "read_entry",
    "scan",
    "selection_from",
]

_DEFAULT_CACHE_NAME = "http_cache"


#: What reading an entry can come to (``vaultcache verify`` counts each).
OK, TAMPERED = "ok", "tampered"
OUTCOMES = (
    OK,
    TAMPERED,
    UnknownKeyError.outcome,
    MissingStageError.outcome,
    RefusedSpecError.outcome,
    OldFormatError.outcome,
    MissingDictionaryError.outcome,
    DamagedDictionaryError.outcome,
    SizeLimitError.outcome,
)


@attrs.frozen
class Entry:
    """One stored response entry: its size, spec and key id, and the response or why not."""

    key: str
    stored_bytes: int
    key_id: str | None
    response: CachedResponse | None = None
    #: Why the entry cannot be read (an error type and stage, never contents); None if readable.
    error: str | None = None
    #: One of :data:`OUTCOMES`: ``ok``, ``tampered`` (proven damaged), or why it is kept.
    outcome: str = OK
    #: The spec its (unverified) header names; None without a header.
    spec: str | None = None
    #: SHA-256 of the stored head of an unreadable entry, to delete it only if unchanged.
    digest: bytes = b""

    @property
    def readable(self) -> bool:
        """True when the entry authenticated, decoded, and belongs to its key."""
        return self.response is not None

    @property
    def unknown_key(self) -> bool:
        """True when the entry was written under a key id the key ring does not hold."""
        return self.outcome == UnknownKeyError.outcome

    @property
    def kept(self) -> bool:
        """True when another reader could read it: not deleted unless asked for by name."""
        return self.outcome not in (OK, TAMPERED)

    def is_expired(self, now: datetime) -> bool:
        """True when the response's expiry has passed (False for unreadable entries)."""
        expires = self.response.expires if self.response is not None else None
        return expires is not None and expires <= now


def read_entry(cache: BaseCache, key: str, data: bytes, *, deep: bool = False) -> Entry:
    """Read the entry whose head `data` is stored under `key`; never raises EntryError.

    Only the metadata is read, unless `deep`: then every chunk of the body is authenticated
    too (one at a time, as ``verify`` needs). Nothing is deleted.
    """
    header = peek_header(data)
    entry = Entry(
        key=key,
        stored_bytes=len(data) + _chunk_bytes(cache, key, header),
        key_id=None if header is None else header.key_id,
        spec=None if header is None else header.spec,
    )
    try:
        response = cache.read_entry(key, data)
        if deep and not response.body_loaded:
            for _ in response.raw.stream(CHUNK_SIZE):
                pass
    except ForeignEntryError as exc:
        outcome = getattr(exc, "outcome", "foreign")
        return attrs.evolve(entry, error=str(exc), outcome=outcome, digest=digest_of(data))
    except EntryError as exc:
        return attrs.evolve(entry, error=describe(exc), outcome=TAMPERED, digest=digest_of(data))
    if deep:
        response = cache.read_entry(key, data)  # a fresh body for whoever uses it next
    return attrs.evolve(entry, response=response)


def _chunk_bytes(cache: BaseCache, key: str, header: EntryHeader | None) -> int:
    """Bytes an entry's chunks take in the chunk storage (they are sized, not read)."""
    storage = cache.chunk_storage
    if header is None or header.body.mode != "chunks" or storage is None:
        return 0
    return sum(
        storage.size_of(chunk_key(key, header.entry_id, i)) or 0 for i in range(header.body.count)
    )


def digest_of(data: bytes) -> bytes:
    """The digest :attr:`Entry.digest` holds."""
    return hashlib.sha256(data).digest()


def scan(cache: BaseCache, label: str, *, deep: bool = False) -> Iterator[Entry]:
    """Every stored response entry, read raw (a progress bar on a terminal)."""
    keys = list(cache.storage)
    for key in progress(keys, len(keys), label):
        data = cache.storage.get(key)
        if data is not None:  # None: deleted by another process since the listing
            yield read_entry(cache, key, data, deep=deep)


# -- selecting entries (ls, purge) ---------------------------------------------------------


@attrs.frozen
class Selection:
    """The filters of ``ls`` and ``purge``; an unreadable entry matches only when none is set."""

    url: str | None = None
    expired: bool | None = None
    created_before: datetime | None = None

    @property
    def active(self) -> bool:
        """True when at least one filter is set."""
        return self.url is not None or self.expired is not None or self.created_before is not None

    def matches(self, entry: Entry, now: datetime) -> bool:
        """True when `entry` passes every filter."""
        response = entry.response
        if response is None:
            return not self.active
        if self.expired is not None and entry.is_expired(now) != self.expired:
            return False
        if self.created_before is not None and response.created_at >= self.created_before:
            return False
        return self.url is None or fnmatch.fnmatchcase(response.url, self.url)


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--url GLOB``, ``--expired`` / ``--fresh`` and ``--older-than DURATION``."""
    parser.add_argument("--url", metavar="GLOB", help="only URLs matching this glob pattern")
    state = parser.add_mutually_exclusive_group()
    state.add_argument(
        "--expired", dest="expired", action="store_const", const=True, help="only expired ones"
    )
    state.add_argument(
        "--fresh", dest="expired", action="store_const", const=False, help="only unexpired ones"
    )
    parser.add_argument(
        "--older-than",
        metavar="DURATION",
        help="only entries created longer ago than this, such as 30d, 12h, 15m or 90s",
    )


def selection_from(args: argparse.Namespace, now: datetime) -> Selection:
    """The Selection that the arguments of :func:`add_selection_arguments` ask for."""
    older_than = getattr(args, "older_than", None)
    return Selection(
        url=args.url,
        expired=getattr(args, "expired", None),
        created_before=None if older_than is None else now - parse_duration(older_than),
    )


def parse_duration(text: str, option: str = "--older-than") -> timedelta:
    """A positive duration written as in config files (``"30d"``, ``"12h"``, ``"90"``)."""
    try:
        value = validate_expiration(text, name=option)
    except ConfigError:
        value = None
    if not isinstance(value, timedelta):
        raise ConfigError(
            f"{option} {text!r} is not a duration; use a number with a unit, such as "
            "30d, 12h, 15m, 90s or 1w"
        )
    return value


# -- what the commands print ----------------------------------------------------------


def plural(count: int, noun: str) -> str:
    """``1 entry``, ``2 entries``: `count` and `noun`, in the plural unless one."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"


def format_time(value: datetime | None) -> str:
    """A UTC time as ``2024-01-31T12:00:00Z``; ``never`` for None."""
    if value is None:
        return "never"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
