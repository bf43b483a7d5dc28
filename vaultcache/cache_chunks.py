"""The body chunks of a cache's entries: deleting an entry's, collecting orphans."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from vaultcache.entries import chunk_keys, peek_header, split_chunk_key

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage

__all__ = ["ORPHAN_GRACE", "collect_orphan_chunks", "delete_chunks"]

#: Seconds an unclaimed body chunk is left alone (another process may be writing its entry).
ORPHAN_GRACE = 3600.0


def delete_chunks(
    chunks: BaseStorage, key: str, head: bytes | None, keep: set[str] | None = None
) -> None:
    """Delete the body chunks that the entry `head` of `key` names, except those in `keep`."""
    if head is None:
        return
    doomed = [k for k in chunk_keys(key, head) if keep is None or k not in keep]
    if doomed:
        chunks.bulk_delete(doomed)


def collect_orphan_chunks(entries: BaseStorage, chunks: BaseStorage, min_age: float) -> int:
    """Delete chunks of `chunks` that no entry of `entries` names, once older than `min_age`
    seconds; return how many went (see :meth:`vaultcache.cache.BaseCache.collect_orphan_chunks`).
    """
    now = time.time()
    owners: dict[str, str | None] = {}
    doomed = []
    for stats in chunks.entry_stats():
        parts = split_chunk_key(stats.key)
        if parts is None or stats.created is None or now - stats.created < min_age:
            continue
        key, entry_id, _ = parts
        if key not in owners:
            header = peek_header(entries.get(key))
            owners[key] = None if header is None else header.entry_id
        if owners[key] != entry_id:
            doomed.append(stats.key)
    return chunks.bulk_delete(doomed) if doomed else 0
