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
from vaultcache.errors import ConfigError, EntryError
from vaultcache.keys import KeyRing
from vaultcache.models import CachedResponse
from vaultcache.policy.expiration import validate_expiration
from vaultcache.serializers.stages.envelope import peek_key_id

__all__ = [
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


@attrs.frozen
class Entry:
    """One stored response entry: its raw size and key id, and the response or why not."""

    key: str
    stored_bytes: int
    key_id: str | None
    response: CachedResponse | None = None
    #: Why the entry cannot be read (an error type and stage, never contents); None if readable.
    error: str | None = None
    #: The entry records a key id that the configured key ring does not hold.
    unknown_key: bool = False
    #: SHA-256 of the stored bytes of an unreadable entry, to delete it only if unchanged.
    digest: bytes = b""

    @property
    def readable(self) -> bool:
        """True when the entry authenticated, decoded, and belongs to its key."""
        return self.response is not None

    def is_expired(self, now: datetime) -> bool:
        """True when the response's expiry has passed (False for unreadable entries)."""
        expires = self.response.expires if self.response is not None else None
        return expires is not None and expires <= now


def read_entry(cache: BaseCache, key: str, data: bytes, ring: KeyRing | None = None) -> Entry:
    """Decode `data` (stored under `key`) with the cache's pipeline; never raises EntryError.

    An entry whose key id is not in `ring` (or that has one when there is no ring) is marked
    as written under an unknown key.
    """
    key_id = peek_key_id(data)
    entry = Entry(key=key, stored_bytes=len(data), key_id=key_id)
    try:
        value = cache.serializer.loads(data)
    except EntryError as exc:
        unknown = key_id is not None and (ring is None or key_id not in ring.ids)
        if unknown and ring is not None:
            reason = "unknown key (cannot be read)"
        else:
            reason = type(exc).__name__ + (f" at stage {exc.stage!r}" if exc.stage else "")
        return _unreadable(entry, data, reason, unknown=unknown)
    if not isinstance(value, CachedResponse):
        return _unreadable(entry, data, f"DecodeError: not a response ({type(value).__name__})")
    if value.cache_key != key:
        return _unreadable(entry, data, "entry belongs to another key")
    return attrs.evolve(entry, response=value)


def digest_of(data: bytes) -> bytes:
    """The digest :attr:`Entry.digest` holds."""
    return hashlib.sha256(data).digest()


def _unreadable(entry: Entry, data: bytes, reason: str, *, unknown: bool = False) -> Entry:
    return attrs.evolve(entry, error=reason, unknown_key=unknown, digest=digest_of(data))


def scan(cache: BaseCache, label: str, ring: KeyRing | None = None) -> Iterator[Entry]:
    """Every stored response entry, read raw (a progress bar on a terminal)."""
    keys = list(cache.storage)
    for key in progress(keys, len(keys), label):
        data = cache.storage.get(key)
        if data is not None:  # None: deleted by another process since the listing
            yield read_entry(cache, key, data, ring)


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
