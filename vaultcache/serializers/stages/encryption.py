"""Encryption stages: ``aesgcm`` (recommended) and ``fernet``.

Both write the vaultcache envelope (format version, key id, pipeline fingerprint) and
authenticate it together with the data, so an entry cannot be moved to another pipeline or
read with a key that did not write it. Each key's encryption subkey is derived with HKDF for
that algorithm alone.

AES-256-GCM is the recommended stage: on this project's benchmark it runs many times faster
than Fernet and needs no base64 expansion (see docs/stages.md for the figures). Fernet
(AES-128-CBC + HMAC-SHA256) is offered because users ask for it by name.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vaultcache.errors import IntegrityError
from vaultcache.hookspecs import hookimpl
from vaultcache.keys import Key, KeyRing
from vaultcache.registry import StageRegistrar
from vaultcache.serializers.stages.envelope import HEADER_SIZE, Envelope
from vaultcache.serializers.stages.options import reject_options

__all__ = ["AESGCMStage", "FernetStage"]

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for

NONCE_SIZE = 12


class AESGCMStage:
    """AES-256-GCM with a random 96-bit nonce; the envelope header is associated data."""

    name = "aesgcm"
    kind = "encryption"
    is_binary = True

    def __init__(self, keys: KeyRing, *, envelope: Envelope | None = None) -> None:
        self._keys = keys
        self._envelope = envelope or Envelope(self.name, ord("a"), keys)
        self._ciphers: dict[bytes, AESGCM] = {}

    def bind(self, fingerprint: bytes) -> AESGCMStage:
        """A copy of this stage bound to a pipeline's fingerprint."""
        return AESGCMStage(self._keys, envelope=self._envelope.bound(fingerprint))

    def _cipher(self, key: Key) -> AESGCM:
        cipher = self._ciphers.get(key.id)
        if cipher is None:
            cipher = self._ciphers[key.id] = AESGCM(key.subkey(self.name))
        return cipher

    def dumps(self, data: bytes) -> bytes:
        """Encrypt under the primary key."""
        key = self._keys.primary
        header = self._envelope.header(key)
        nonce = os.urandom(NONCE_SIZE)
        return header + nonce + self._cipher(key).encrypt(nonce, data, header)

    def loads(self, data: bytes) -> bytes:
        """Decrypt and authenticate; IntegrityError on any failure."""
        header, key = self._envelope.open(data)
        view = memoryview(data)
        nonce = view[HEADER_SIZE : HEADER_SIZE + NONCE_SIZE]
        if len(nonce) != NONCE_SIZE:
            raise IntegrityError(self.name)
        try:
            return self._cipher(key).decrypt(nonce, view[HEADER_SIZE + NONCE_SIZE :], header)
        except InvalidTag:
            raise IntegrityError(self.name) from None


class FernetStage:
    """Fernet tokens under a MultiFernet built primary-first from the key ring.

    MultiFernet encrypts with the first key of its list, which is the ring's primary. The
    envelope goes in front (so readers and rotation see the key id without decrypting) and
    again inside the token, where it is authenticated and compared on reading. Reading uses
    the one Fernet whose key id the envelope names, rather than MultiFernet's trial of every
    key in turn.
    """

    name = "fernet"
    kind = "encryption"
    is_binary = True

    def __init__(self, keys: KeyRing, *, envelope: Envelope | None = None) -> None:
        self._keys = keys
        self._envelope = envelope or Envelope(self.name, ord("f"), keys)
        self._by_id = {
            key.id: Fernet(base64.urlsafe_b64encode(key.subkey(self.name))) for key in keys
        }
        self._fernet = MultiFernet([self._by_id[key.id] for key in keys])

    def bind(self, fingerprint: bytes) -> FernetStage:
        """A copy of this stage bound to a pipeline's fingerprint."""
        return FernetStage(self._keys, envelope=self._envelope.bound(fingerprint))

    def dumps(self, data: bytes) -> bytes:
        """Encrypt header + data under the primary key; the header also goes in front."""
        header = self._envelope.header(self._keys.primary)
        return header + self._fernet.encrypt(header + data)

    def loads(self, data: bytes) -> bytes:
        """Decrypt, then check the inner header matches the outer one."""
        header, key = self._envelope.open(data)
        token = bytes(data[HEADER_SIZE:])
        if not _canonical_base64(token):
            raise IntegrityError(self.name)
        try:
            plain = self._by_id[key.id].decrypt(token)
        except InvalidToken:
            raise IntegrityError(self.name) from None
        if not hmac.compare_digest(plain[:HEADER_SIZE], header):
            raise IntegrityError(self.name)
        return plain[HEADER_SIZE:]


_BASE64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _canonical_base64(token: bytes) -> bool:
    """True only for the exact text urlsafe_b64encode writes.

    Fernet decodes leniently (it skips stray characters and ignores what follows the
    padding), so other spellings of a token would decrypt too; only the written one is
    accepted. Past the alphabet and length checks, only the last quantum can differ.
    """
    if len(token) % 4:
        return False
    others = token.translate(None, _BASE64URL_ALPHABET)  # what is not in the alphabet
    if others not in {b"", b"=", b"=="} or not token.endswith(others):
        return False
    tail = token[-4:]
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
