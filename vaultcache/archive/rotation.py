"""Key rotation: re-encrypt, with the primary key, every entry an older key wrote.

Each entry is swapped with the storage's compare-and-swap (``BaseStorage.replace``), so an
entry another process rewrote meanwhile is left as that process wrote it, and an interrupted
rotation loses nothing: entries already under the primary key are skipped when it runs again.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import attrs

from vaultcache.archive.common import (
    ArchiveError,
    Progress,
    SkippedEntry,
    _decode,
    _no_progress,
    _pipeline,
    _spec,
    _unreadable,
    untracked,
)
from vaultcache.models import CachedResponse
from vaultcache.entries import peek_key_id

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage
    from vaultcache.cache import BaseCache

__all__ = ["RotationReport", "rotate"]


@attrs.frozen
class RotationReport:
    """What :func:`rotate` did with each stored response."""

    key_id: str
    rotated: int = 0
    current: int = 0
    concurrent: int = 0
    unreadable: tuple[SkippedEntry, ...] = ()

    @property
    def total(self) -> int:
        """How many entries were looked at."""
        return self.rotated + self.current + self.concurrent + len(self.unreadable)


def rotate(cache: BaseCache, *, progress: Progress | None = None) -> RotationReport:
    """Re-encrypt with the primary key every response an older key wrote.

    Safe while other processes use the cache, and resumable: run it again after an
    interruption. Entries that cannot be read are reported and left alone.
    """
    pipeline = _pipeline(cache)
    primary = _writing_key_id(pipeline)
    storage = cache.storage
    keys = list(storage)
    counts: Counter[str] = Counter()
    unreadable: list[SkippedEntry] = []
    with untracked(storage):
        for key in (progress or _no_progress)(keys, len(keys), "rotate"):
            outcome = _rotate_one(pipeline, storage, key, primary)
            if isinstance(outcome, SkippedEntry):
                unreadable.append(outcome)
            else:
                counts[outcome] += 1
    return RotationReport(
        key_id=primary,
        rotated=counts["rotated"],
        current=counts["current"],
        concurrent=counts["concurrent"],
        unreadable=tuple(unreadable),
    )


def _rotate_one(pipeline: Any, storage: BaseStorage, key: str, primary: str) -> str | SkippedEntry:
    """Rotate one entry; say which counter it goes to, or why it cannot be read."""
    old = storage.get(key)
    if old is None:  # deleted since the keys were listed
        return "concurrent"
    if peek_key_id(old) == primary:
        return "current"
    response = _decode(pipeline, key, old)
    if isinstance(response, str):
        return _unreadable(key, old, response)
    # False: another process changed the entry after we read it; what it wrote stands.
    swapped = storage.replace(key, old, pipeline.dumps(response))
    return "rotated" if swapped else "concurrent"


def _writing_key_id(pipeline: Any) -> str:
    """The id of the key this pipeline writes with, read from what it writes."""
    written = pipeline.dumps(CachedResponse(url="https://rotation.invalid/", cache_key="probe"))
    key_id = peek_key_id(written) if isinstance(written, bytes) else None
    if key_id is None:
        raise ArchiveError(
            f"serializer {_spec(pipeline)!r} has no signing or encryption stage, so its entries "
            "carry no key id and there is nothing to rotate"
        )
    return key_id
