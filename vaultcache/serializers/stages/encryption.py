"""Encryption stages: ``aesgcm`` (recommended) and ``fernet``.

Each record of an entry is sealed with the key its header names, and the entry's header and
the record's place in the entry are authenticated with it (AES-GCM associated data; for
Fernet, a digest of them inside the token), so a record cannot be moved to another entry or
place, and the header cannot be changed. Each key's encryption subkey is derived with HKDF for
that algorithm alone.

AES-256-GCM is the recommended stage: on this project's benchmark it runs many times faster
than Fernet and needs no base64 expansion (see docs/stages.md for the figures). Fernet
(AES-128-CBC + HMAC-SHA256) is offered because users ask for it by name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vaultcache.crypto_keys import Key, KeyRing
from vaultcache.errors import IntegrityError
from vaultcache.hookspecs import hookimpl
from vaultcache.registry import StageRegistrar
from vaultcache.serializers.sealing import StandaloneSealing
from vaultcache.serializers.stages.options import reject_options

__all__ = ["AESGCMStage", "FernetStage"]

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for

NONCE_SIZE = 12
_DIGEST_SIZE = 32


class AESGCMStage(StandaloneSealing):
    """AES-256-GCM with a random 96-bit nonce; the context is associated data.

    `nonces` makes the nonces (``os.urandom`` by default); only test vectors replace it.
    """

    name = "aesgcm"
    kind = "encryption"
    is_binary = True

    def __init__(self, keys: KeyRing, *, nonces: Callable[[int], bytes] = os.urandom) -> None:
        self.keys = keys
        self._nonces = nonces
        self._ciphers: dict[bytes, AESGCM] = {}

    def _cipher(self, key: Key) -> AESGCM:
        cipher = self._ciphers.get(key.id)
        if cipher is None:
            cipher = self._ciphers[key.id] = AESGCM(key.subkey(self.name))
        return cipher

    def seal(self, data: bytes, context: bytes, key: Key) -> bytes:
        """Nonce, then ciphertext and tag of `data` with `context` as associated data."""
        nonce = self._nonces(NONCE_SIZE)
        return nonce + self._cipher(key).encrypt(nonce, data, context)

    def open(self, data: bytes | memoryview, context: bytes, key: Key) -> bytes:
        """Decrypt and authenticate; IntegrityError on any failure."""
        view = memoryview(data)
        if len(view) < NONCE_SIZE:
            raise IntegrityError(self.name)
        try:
            return self._cipher(key).decrypt(view[:NONCE_SIZE], view[NONCE_SIZE:], context)
        except InvalidTag:
            raise IntegrityError(self.name) from None


class FernetStage(StandaloneSealing):
    """One Fernet token per record, under the key the entry's header names.

    Fernet has no associated data, so the token's plaintext starts with the SHA-256 of the
    context, compared on reading. Only the exact base64 text Fernet writes is accepted.
    """

    name = "fernet"
    kind = "encryption"
    is_binary = True

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys
        self._by_id = {
            key.id: Fernet(base64.urlsafe_b64encode(key.subkey(self.name))) for key in keys
        }

    def seal(self, data: bytes, context: bytes, key: Key) -> bytes:
        """A token of the context's digest followed by `data`."""
        return self._by_id[key.id].encrypt(hashlib.sha256(context).digest() + data)

    def open(self, data: bytes | memoryview, context: bytes, key: Key) -> bytes:
        """Decrypt, then check the spelling and the context digest; IntegrityError on any
        mismatch."""
        token = bytes(data)
        try:
            plain = self._by_id[key.id].decrypt(token)
        except InvalidToken:
            raise IntegrityError(self.name) from None
        if not _canonical_token(token, len(plain)) or not hmac.compare_digest(
            plain[:_DIGEST_SIZE], hashlib.sha256(context).digest()
        ):
            raise IntegrityError(self.name)
        return plain[_DIGEST_SIZE:]


#: Bytes of a Fernet token around its ciphertext: version, timestamp, IV, then the HMAC.
_TOKEN_OVERHEAD = 1 + 8 + 16 + 32


def _canonical_token(token: bytes, plain_size: int) -> bool:
    """True only for the exact text urlsafe_b64encode writes of an authenticated token whose
    plaintext has `plain_size` bytes.

    Fernet decodes leniently: it skips stray characters, accepts missing padding and unused
    low bits, and its older (pure Python) releases read ``+`` and ``/`` as ``-`` and ``_``.
    Once the token has decrypted, its n bytes are the ones written, and carrying them takes
    the 4 * ceil(n / 3) - padding characters of the canonical text. A token of that length
    ending in exactly the canonical padding has no room for one more character, so past
    ``+`` and ``/`` only the last quantum's unused bits can differ. This costs two ``memchr``
    scans instead of a pass over the token with a lookup per character.
    """
    size = _TOKEN_OVERHEAD + (plain_size // 16 + 1) * 16
    padding = -size % 3
    if len(token) != -(-size // 3) * 4 or b"+" in token or b"/" in token:
        return False
    tail = token[-4:]
    if tail.count(b"=") != padding:
        return False
    try:
        return base64.urlsafe_b64encode(base64.urlsafe_b64decode(tail)) == tail
    except binascii.Error:
        return False


def _aesgcm(options: dict[str, Any], keys: KeyRing) -> AESGCMStage:
    reject_options("aesgcm", options)
    return AESGCMStage(keys)


def _fernet(options: dict[str, Any], keys: KeyRing) -> FernetStage:
    reject_options("fernet", options)
    return FernetStage(keys)


@hookimpl
def vaultcache_register_stages(registry: StageRegistrar) -> None:
    """Register the built-in encryption stages."""
    registry.add(
        "aesgcm",
        _aesgcm,
        kind="encryption",
        description="AES-256-GCM authenticated encryption (recommended)",
    )
    registry.add(
        "fernet",
        _fernet,
        kind="encryption",
        description="Fernet tokens (AES-128-CBC + HMAC-SHA256); slower than aesgcm",
    )
