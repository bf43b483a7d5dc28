"""What the signing and encryption stages share: sealing with a context, and standalone use.

Inside a pipeline, an authenticating stage *seals* each record of an entry with the key the
entry's header names and a context (the header and the record's place in the entry) that it
authenticates along with the data; see docs/format.md. Used on its own, a stage's
``dumps``/``loads`` seal under the primary key with a fixed context and put the key id in
front, so the right key can be picked to open it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

from vaultcache.crypto_keys import KEY_ID_SIZE, Key, KeyRing
from vaultcache.errors import IntegrityError

__all__ = ["SealingStage", "StandaloneSealing"]

#: The context of a stage's own ``dumps``/``loads``, outside any entry.
STANDALONE_CONTEXT = b"vaultcache/standalone"


@runtime_checkable
class SealingStage(Protocol):
    """An authenticating stage: seals data together with a context under a given key."""

    keys: KeyRing

    def seal(self, data: bytes, context: bytes, key: Key) -> bytes:
        """Authenticate (and, for encryption, hide) `data` bound to `context` under `key`."""
        ...

    def open(self, data: bytes | memoryview, context: bytes, key: Key) -> bytes:
        """Undo :meth:`seal`; IntegrityError unless `data` was sealed with `context` and `key`."""
        ...


class StandaloneSealing(ABC):
    """``dumps``/``loads`` for a stage used on its own: key id, then the sealed data."""

    name: str
    keys: KeyRing

    @abstractmethod
    def seal(self, data: bytes, context: bytes, key: Key) -> bytes:
        """Authenticate `data` bound to `context` under `key`."""

    @abstractmethod
    def open(self, data: bytes | memoryview, context: bytes, key: Key) -> bytes:
        """Undo :meth:`seal`; IntegrityError on any mismatch."""

    def dumps(self, data: bytes) -> bytes:
        """Seal under the primary key; the key id goes in front."""
        key = self.keys.primary
        return key.id + self.seal(data, STANDALONE_CONTEXT, key)

    def loads(self, data: bytes) -> bytes:
        """Open what :meth:`dumps` wrote; IntegrityError on any failure.

        Without an entry header to tell them apart, a key id that is not in the ring is
        indistinguishable from an altered one (the cache's entries make that distinction).
        """
        key = self.keys.get(bytes(data[:KEY_ID_SIZE]))
        if key is None:
            raise IntegrityError(self.name)
        return self.open(memoryview(data)[KEY_ID_SIZE:], STANDALONE_CONTEXT, key)
