"""ZstdDictionary: a trained zstd dictionary as the ``zstd`` stage takes it.

Kept apart from the stage's module so that the cache can name dictionaries without loading
any stage (built-in stages load on first use, see :mod:`vaultcache.registry`).
"""

from __future__ import annotations

import attrs

__all__ = ["ZstdDictionary"]


@attrs.frozen
class ZstdDictionary:
    """A trained zstd dictionary and the id entries name it by (16 hex digits)."""

    id: str
    data: bytes = attrs.field(repr=False)
