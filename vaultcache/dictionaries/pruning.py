"""Deleting the stored dictionaries that no entry can be read with any more.

A dictionary stays while any entry's header names it, and while it may still be in use: a
process re-reads which dictionary is current every few seconds, and a long write (a streamed
body) stores its header last, so one that is no longer current is deleted only once the
current one has been stored for `min_age` seconds (an hour by default). Headers are read
unverified: a forged header can keep a dictionary, never delete one. Storages that do not
record when a value was written (:meth:`~vaultcache.backends.BaseStorage.entry_stats`) have
nothing deleted.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, Protocol

import attrs

from vaultcache.cache_chunks import ORPHAN_GRACE
from vaultcache.dictionaries.store import DictionaryStore, dictionary_key, split_dictionary_key
from vaultcache.entries import peek_header

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage

__all__ = ["PrunableCache", "PruneReport", "named_dictionaries", "prune"]

_NAMED: Final = re.compile(r"\(dict=([0-9a-f]{16})\)")


class PrunableCache(Protocol):
    """What pruning reads of a :class:`~vaultcache.cache.BaseCache`."""

    storage: BaseStorage

    @property
    def dictionaries(self) -> DictionaryStore | None:
        """Where the cache keeps its dictionaries (None: it cannot hold any)."""


@attrs.frozen
class PruneReport:
    """What :func:`prune` did: the dictionaries it deleted and the ones it kept, and why
    nothing could be deleted when that is so (None otherwise)."""

    deleted: tuple[str, ...]
    kept: tuple[str, ...]
    held_back: str | None = None


def named_dictionaries(heads: Iterable[bytes | None]) -> Counter[str]:
    """How many of the entry heads `heads` name each dictionary id (unverified headers)."""
    named: Counter[str] = Counter()
    for head in heads:
        header = peek_header(head)
        if header is not None:
            named.update(_NAMED.findall(header.spec))
    return named


def prune(cache: PrunableCache, *, min_age: float = ORPHAN_GRACE) -> PruneReport:
    """Delete the dictionaries of `cache` that are not current and that no entry names, once
    the current one is `min_age` seconds old (see the module docstring)."""
    store = cache.dictionaries
    if store is None:
        return PruneReport((), ())
    stored = {
        dictionary_id: stats.created
        for stats in store.storage.entry_stats()
        if (dictionary_id := split_dictionary_key(stats.key)) is not None
    }
    current = store.current_id()
    now = time.time()
    if current is not None:
        since = stored.get(current)
        if since is None:
            return PruneReport((), tuple(sorted(stored)), _unknown_age(store.storage))
        if now - since < min_age:
            return PruneReport(
                (),
                tuple(sorted(stored)),
                f"the current dictionary was trained less than {min_age:g} s ago",
            )
    named = named_dictionaries(map(cache.storage.get, list(cache.storage)))
    doomed = sorted(
        dictionary_id
        for dictionary_id, created in stored.items()
        if dictionary_id != current
        and dictionary_id not in named
        # Without a current one, each dictionary's own age stands in for the time since.
        and (current is not None or (created is not None and now - created >= min_age))
    )
    if doomed:
        store.storage.bulk_delete([dictionary_key(dictionary_id) for dictionary_id in doomed])
        store.forget(doomed)
    return PruneReport(tuple(doomed), tuple(sorted(set(stored) - set(doomed))))


def _unknown_age(storage: BaseStorage) -> str:
    return f"{type(storage).__name__} does not record when a dictionary was stored"
