"""Rotation and re-encoding: rewrite entries under the primary key, or into another spec.

Each entry is rewritten body chunk by body chunk under a new entry id, then its head is
swapped with the storage's compare-and-swap (``BaseStorage.replace``): an entry another
process rewrote meanwhile is left as that process wrote it (the new chunks are deleted), and
an interrupted run loses nothing: entries already in the target spec and key are skipped
when it runs again. Entries that cannot be read here are reported and left alone.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import attrs

from vaultcache.archive.common import (
    ArchiveError,
    Progress,
    SkippedEntry,
    _no_progress,
    _spec,
    untracked,
)
from vaultcache.entries import CHUNK_SIZE, chunk_keys, parse_header, peek_key_id
from vaultcache.errors import EncodeError, EntryError, ForeignEntryError, describe

if TYPE_CHECKING:
    from vaultcache.cache import BaseCache
    from vaultcache.serializers.pipeline import SerializerPipeline

__all__ = ["RotationReport", "rotate"]


@attrs.frozen
class RotationReport:
    """What :func:`rotate` did with each stored response."""

    key_id: str | None
    spec: str = ""
    rotated: int = 0
    current: int = 0
    concurrent: int = 0
    unreadable: tuple[SkippedEntry, ...] = ()

    @property
    def total(self) -> int:
        """How many entries were looked at."""
        return self.rotated + self.current + self.concurrent + len(self.unreadable)


def rotate(
    cache: BaseCache, *, to: SerializerPipeline | None = None, progress: Progress | None = None
) -> RotationReport:
    """Rewrite every response not already written by `to` (default: the cache's serializer)
    under its primary key. Safe while other processes use the cache, and resumable."""
    pipeline = to if to is not None else cache.serializer
    primary = _writing_key_id(pipeline, required=to is None)
    dictionaries = cache.dictionaries if to is None else None
    if dictionaries is not None:  # first: entries are then written with the current one
        dictionaries.reseal()
        pipeline = dictionaries.writing_pipeline(pipeline)
    storage = cache.storage
    keys = list(storage)
    counts: Counter[str] = Counter()
    unreadable: list[SkippedEntry] = []
    with untracked(storage):
        for key in (progress or _no_progress)(keys, len(keys), "rotate"):
            outcome = _rotate_one(cache, pipeline, key, primary)
            if isinstance(outcome, SkippedEntry):
                unreadable.append(outcome)
            else:
                counts[outcome] += 1
    return RotationReport(
        key_id=primary,
        spec=pipeline.spec,
        rotated=counts["rotated"],
        current=counts["current"],
        concurrent=counts["concurrent"],
        unreadable=tuple(unreadable),
    )


def _rotate_one(
    cache: BaseCache, pipeline: Any, key: str, primary: str | None
) -> str | SkippedEntry:
    """Rewrite one entry; say which counter it goes to, or why it cannot be read."""
    old = cache.storage.get(key)
    if old is None:  # deleted since the keys were listed
        return "concurrent"
    try:
        header, _ = parse_header(old)
        if header.spec == pipeline.spec and header.key_id == primary:
            return "current"
        response = cache.read_entry(key, old)
    except ForeignEntryError as exc:
        return _skipped(key, old, str(exc))
    except EntryError as exc:
        return _skipped(key, old, describe(exc))
    # Through the cache, so that a backend's way of storing chunks (a TTL) applies.
    writer = cache.entry_writer(response, pipeline=pipeline)
    try:
        if response.body_loaded:
            writer.write(response.content or b"")
        else:
            writer.write_all(response.raw.stream(CHUNK_SIZE))
        new = writer.head()
    except (EntryError, EncodeError) as exc:
        # The old entry stays as it was; the chunks written for the new one go.
        writer.abort()
        if isinstance(exc, EncodeError):
            return _skipped(key, old, f"cannot be written as {_spec(pipeline)}: {exc}")
        return _skipped(key, old, str(exc) if isinstance(exc, ForeignEntryError) else describe(exc))
    # False: another process changed the entry after we read it; what it wrote stands.
    if not cache.storage.replace(key, old, new):
        writer.abort()
        return "concurrent"
    if cache.chunk_storage is not None:
        cache.chunk_storage.bulk_delete(chunk_keys(key, old))
    return "rotated"


def _skipped(key: str, data: bytes, reason: str) -> SkippedEntry:
    return SkippedEntry(kind="responses", key=key, key_id=peek_key_id(data), reason=reason)


def _writing_key_id(pipeline: Any, *, required: bool) -> str | None:
    """The id of the key `pipeline` writes with (None without signing or encryption)."""
    ring = pipeline.key_ring if getattr(pipeline, "authenticates", False) else None
    if ring is None and required:
        raise ArchiveError(
            f"serializer {_spec(pipeline)!r} has no signing or encryption stage, so its entries "
            "carry no key id and there is nothing to rotate; use `rotate --to SPEC` to move "
            "entries into another spec"
        )
    return None if ring is None else str(ring.primary.hex_id)
