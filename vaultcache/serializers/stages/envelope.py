"""The header every signing and encryption stage writes in front of its output.

Layout (20 bytes)::

    b"VC" | format version (1) | stage tag (1) | key id (8) | pipeline fingerprint (8)

The header is authenticated by the stage that writes it (as AES-GCM associated data, inside
the Fernet token, or under the HMAC), so a reader can trust it once the stage has verified
the entry. Before verification the reader only uses it to pick the key; every mismatch is
reported as the same opaque IntegrityError.
"""

from __future__ import annotations

import attrs

from vaultcache.errors import IntegrityError
from vaultcache.keys import KEY_ID_SIZE, Key, KeyRing

__all__ = ["HEADER_SIZE", "UNBOUND", "Envelope", "peek_key_id"]

MAGIC = b"VC"
VERSION = 1
FINGERPRINT_SIZE = 8
HEADER_SIZE = len(MAGIC) + 2 + KEY_ID_SIZE + FINGERPRINT_SIZE
#: The fingerprint of a stage used outside any pipeline.
UNBOUND = bytes(FINGERPRINT_SIZE)


@attrs.frozen
class Envelope:
    """Writes and checks the header for one stage (`tag`) bound to one pipeline."""

    stage: str
    tag: int
    keys: KeyRing = attrs.field(repr=False)
    fingerprint: bytes = UNBOUND

    def bound(self, fingerprint: bytes) -> Envelope:
        """The same envelope for a pipeline with this fingerprint."""
        return attrs.evolve(self, fingerprint=fingerprint)

    def header(self, key: Key) -> bytes:
        """The header for an entry written with `key`."""
        return MAGIC + bytes((VERSION, self.tag)) + key.id + self.fingerprint

    def open(self, data: bytes) -> tuple[bytes, Key]:
        """Split off and check the header; return it and the key that wrote the entry.

        Raises IntegrityError for a short or foreign header, another pipeline's
        fingerprint, or a key id that is not in the ring (a retired or unknown key).
        """
        header = bytes(data[:HEADER_SIZE])
        if (
            len(header) != HEADER_SIZE
            or header[:2] != MAGIC
            or header[2] != VERSION
            or header[3] != self.tag
            or header[-FINGERPRINT_SIZE:] != self.fingerprint
        ):
            raise IntegrityError(self.stage)
        key = self.keys.get(header[4 : 4 + KEY_ID_SIZE])
        if key is None:
            raise IntegrityError(self.stage)
        return header, key


def peek_key_id(data: bytes) -> str | None:
    """The hex id of the key that wrote an entry, read from its (unverified) header.

    For listing and rotation only: the id is trusted once the entry has been read back.
    None when the entry does not start with a vaultcache header (no outer signing or
    encryption stage).
    """
    if len(data) < HEADER_SIZE or data[:2] != MAGIC or data[2] != VERSION:
        return None
    return bytes(data[4 : 4 + KEY_ID_SIZE]).hex()
