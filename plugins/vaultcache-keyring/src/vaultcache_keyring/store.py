"""Putting vaultcache keys into the OS keyring, rotating and retiring them.

Every function works on the entry (`service`, `username`) and returns the key ids (hex,
primary first) of what the entry holds afterwards: ids are public, keys never leave these
functions except into the keyring.
"""

from __future__ import annotations

from collections.abc import Iterable

import keyring

from vaultcache.plugin import Key, KeyRing, KeyRingError, generate_key
from vaultcache_keyring.source import (
    DEFAULT_SERVICE,
    DEFAULT_USERNAME,
    KeyringKeySource,
    keyring_errors,
)

__all__ = ["delete_keys", "generate_keys", "key_ids", "retire_key", "rotate_keys", "store_keys"]

_HEADER = "# vaultcache keys, primary first\n"


def store_keys(
    keys: Iterable[str],
    *,
    service: str = DEFAULT_SERVICE,
    username: str = DEFAULT_USERNAME,
) -> list[str]:
    """Store `keys` (text, primary first) in the entry, replacing what it held; their ids."""
    source = KeyringKeySource(service, username)
    texts = [key.strip() for key in keys if key.strip()]
    ring = source.parse("\n".join(texts))  # checks every key, naming positions, not keys
    with keyring_errors(service, username, "write"):
        keyring.set_password(service, username, _HEADER + "\n".join(texts) + "\n")
    return ring.ids


def generate_keys(
    *,
    service: str = DEFAULT_SERVICE,
    username: str = DEFAULT_USERNAME,
    replace: bool = False,
) -> list[str]:
    """Store one new key in an empty entry; KeyRingError if it holds keys, unless `replace`."""
    if not replace and _stored(service, username):
        raise KeyRingError(
            f"{KeyringKeySource(service, username).describe()} already holds keys; rotate "
            "them instead, or replace them (entries written under them become unreadable)"
        )
    return store_keys([generate_key()], service=service, username=username)


def rotate_keys(*, service: str = DEFAULT_SERVICE, username: str = DEFAULT_USERNAME) -> list[str]:
    """Put a new primary key first; the old keys stay, to read what they wrote."""
    current = _required(service, username)
    return store_keys([generate_key(), *current], service=service, username=username)


def retire_key(
    key_id: str, *, service: str = DEFAULT_SERVICE, username: str = DEFAULT_USERNAME
) -> list[str]:
    """Remove the key with hex id `key_id`; entries it wrote can no longer be read."""
    current = _required(service, username)
    remaining = [text for text in current if Key.from_text(text).hex_id != key_id.lower()]
    if len(remaining) == len(current):
        raise KeyRingError(f"no key with id {key_id} in the keyring entry")
    if not remaining:
        raise KeyRingError(f"key {key_id} is the only key; a key ring needs at least one")
    return store_keys(remaining, service=service, username=username)


def key_ids(*, service: str = DEFAULT_SERVICE, username: str = DEFAULT_USERNAME) -> list[str]:
    """The ids of the stored keys, primary first; empty when the entry does not exist."""
    current = _stored(service, username)
    return KeyRing(current).ids if current else []


def delete_keys(*, service: str = DEFAULT_SERVICE, username: str = DEFAULT_USERNAME) -> bool:
    """Delete the entry; False when there was none. Entries the keys wrote become unreadable."""
    if not _stored(service, username):
        return False
    with keyring_errors(service, username, "delete"):
        keyring.delete_password(service, username)
    return True


def _stored(service: str, username: str) -> list[str]:
    return KeyringKeySource(service, username).load() or []


def _required(service: str, username: str) -> list[str]:
    current = _stored(service, username)
    if not current:
        raise KeyRingError(
            f"{KeyringKeySource(service, username).describe()} holds no keys; "
            "generate or store some first"
        )
    return current
