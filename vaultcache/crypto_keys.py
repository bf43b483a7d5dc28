"""KeyRing: the secrets that sign and encrypt entries, their ids, and rotation.

A key is 32 random bytes, written as URL-safe base64 (the same text form as a Fernet key).
The ring is primary-first: the first key writes, every key reads. Each key has a public id
(8 bytes, derived one-way from the secret) that every signed or encrypted entry records, so
readers pick the right key directly and rotation knows what each key wrote. Stages never use
a key itself: each asks for a subkey derived with HKDF for its own purpose, so one secret
never serves two algorithms.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vaultcache.errors import KeyRingError

__all__ = ["KEY_ID_SIZE", "KEY_SIZE", "Key", "KeyRing", "generate_key"]

KEY_SIZE = 32
KEY_ID_SIZE = 8
_INFO_PREFIX = b"vaultcache/v1/"


def generate_key() -> str:
    """Return a new random key as text, ready for VAULTCACHE_KEYS or a key file."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_SIZE)).decode("ascii")


def _hkdf(secret: bytes, purpose: str, length: int) -> bytes:
    kdf = HKDF(
        algorithm=hashes.SHA256(),
        length=length,
        salt=None,
        info=_INFO_PREFIX + purpose.encode("ascii"),
    )
    return kdf.derive(secret)


class Key:
    """One secret and its public id. The secret never appears in repr, str or errors."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_SIZE:
            raise KeyRingError(f"a vaultcache key is {KEY_SIZE} bytes")
        self._secret = secret
        self._subkeys: dict[tuple[str, int], bytes] = {}

    @classmethod
    def from_text(cls, text: str | bytes, position: int = 1) -> Key:
        """Parse the base64 text form; `position` only labels the error message."""
        raw = (text.encode("ascii", "replace") if isinstance(text, str) else text).strip()
        try:
            secret = base64.urlsafe_b64decode(raw)
        except (binascii.Error, ValueError):
            secret = b""
        # Only the text generate_key writes: the decoder skips what follows the padding.
        if len(secret) != KEY_SIZE or base64.urlsafe_b64encode(secret) != raw:
            raise KeyRingError(
                f"key #{position} is not a valid vaultcache key (expected {KEY_SIZE} bytes "
                "in URL-safe base64); create one with `vaultcache keys generate`"
            )
        return cls(secret)

    @cached_property
    def id(self) -> bytes:
        """The public key id: one-way from the secret, safe to store and print."""
        return _hkdf(self._secret, "key-id", KEY_ID_SIZE)

    @property
    def hex_id(self) -> str:
        """The key id as 16 hex digits, as the CLI and logs show it."""
        return self.id.hex()

    def subkey(self, purpose: str, length: int = KEY_SIZE) -> bytes:
        """A secret derived for one purpose (``"aesgcm"``, ``"signed"``...), cached."""
        if purpose == "key-id":  # derived like the public id: it would be no secret
            raise ValueError("subkey purpose 'key-id' is reserved for the public key id")
        cache_key = (purpose, length)
        derived = self._subkeys.get(cache_key)
        if derived is None:
            derived = self._subkeys[cache_key] = _hkdf(self._secret, purpose, length)
        return derived

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and secrets.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Key(id={self.hex_id})"


class KeyRing:
    """A primary key that writes, plus older keys that are still accepted for reading."""

    def __init__(self, keys: Iterable[Key | str | bytes]) -> None:
        ring: list[Key] = []
        for position, item in enumerate(keys, start=1):
            key = item if isinstance(item, Key) else Key.from_text(item, position)
            if key not in ring:
                ring.append(key)
        if not ring:
            raise KeyRingError(
                "a key ring needs at least one key; create one with `vaultcache keys generate`"
            )
        self._keys = tuple(ring)
        self._by_id = {key.id: key for key in ring}

    @classmethod
    def from_text(cls, text: str) -> KeyRing:
        """Parse keys separated by commas or newlines, primary first; '#' starts a comment."""
        lines = (line.split("#", 1)[0] for line in text.splitlines())
        return cls(part.strip() for line in lines for part in line.split(",") if part.strip())

    @property
    def primary(self) -> Key:
        """The key that writes new entries."""
        return self._keys[0]

    @property
    def ids(self) -> list[str]:
        """Hex ids of every key, primary first."""
        return [key.hex_id for key in self._keys]

    def get(self, key_id: bytes) -> Key | None:
        """The key with this id, or None when it is not (or no longer) in the ring."""
        return self._by_id.get(key_id)

    def rotated(self, new_primary: Key | str) -> KeyRing:
        """A ring where `new_primary` writes and every current key still reads."""
        return KeyRing([new_primary, *self._keys])

    def retired(self, key_id: str) -> KeyRing:
        """A ring without the key whose hex id is given; it can no longer read."""
        remaining = [key for key in self._keys if key.hex_id != key_id]
        if len(remaining) == len(self._keys):
            raise KeyRingError(f"no key with id {key_id} in the ring")
        return KeyRing(remaining)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyRing) and self._keys == other._keys

    def __hash__(self) -> int:
        return hash(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(ids={self.ids})"


def coerce_key_ring(keys: KeyRing | str | Sequence[str | bytes]) -> KeyRing:
    """Accept what users pass as ``keys=``: a KeyRing, text, or a sequence of keys."""
    if isinstance(keys, KeyRing):
        return keys
    if isinstance(keys, str):
        return KeyRing.from_text(keys)
    return KeyRing(keys)
