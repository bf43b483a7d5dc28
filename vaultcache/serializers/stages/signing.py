"""The ``signed`` stage: HMAC-SHA256 over the context and the data, with itsdangerous.

itsdangerous signs with the *last* of its secret keys; vaultcache's KeyRing is primary-first.
Rather than hand itsdangerous the ring, the stage keeps one Signer per key, and the key the
entry's header names picks the one that signs or verifies, so a retired key never verifies
anything and a rotation takes effect for new entries at once.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import Signer
from itsdangerous.encoding import base64_encode

from vaultcache.crypto_keys import Key, KeyRing
from vaultcache.errors import IntegrityError
from vaultcache.hookspecs import hookimpl
from vaultcache.registry import StageRegistrar
from vaultcache.serializers.sealing import StandaloneSealing
from vaultcache.serializers.stages.options import reject_options

__all__ = ["SignedStage"]

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for

SALT = b"vaultcache.signed"
SEPARATOR = b"."  # itsdangerous' default


class SignedStage(StandaloneSealing):
    """Appends an HMAC-SHA256 signature of the context and the data; verifies it before
    anything later is decoded."""

    name = "signed"
    kind = "signing"
    is_binary = True

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys
        self._derived: dict[bytes, bytes] = {}

    def _key(self, key: Key) -> bytes:
        derived = self._derived.get(key.id)
        if derived is None:
            # itsdangerous' "hmac" derivation (secret and salt -> signing key), done once here
            # instead of on every call; the signatures are the same.
            derived = self._derived[key.id] = Signer(
                key.subkey(self.name),
                salt=SALT,
                key_derivation="hmac",
                digest_method=hashlib.sha256,
            ).derive_key()
        return derived

    def _signature(self, key: Key, context: bytes, data: bytes | memoryview) -> bytes:
        """What itsdangerous' ``Signer.get_signature`` gives for the context's length, the
        context and `data`, fed to the MAC in turn rather than joined into one copy."""
        mac = hmac.new(self._key(key), len(context).to_bytes(4, "big") + context, "sha256")
        mac.update(data)
        return base64_encode(mac.digest())

    def seal(self, data: bytes, context: bytes, key: Key) -> bytes:
        """`data`, the separator, and the signature of the context and `data`."""
        return b"".join((data, SEPARATOR, self._signature(key, context, data)))

    def open(self, data: bytes | memoryview, context: bytes, key: Key) -> bytes:
        """Verify; IntegrityError on any mismatch."""
        view = memoryview(data)
        position = bytes(view[-64:]).rfind(SEPARATOR)
        if position < 0:
            raise IntegrityError(self.name)
        position += max(len(view) - 64, 0)
        value = view[:position]
        # Compare the signature as written, not as decoded: itsdangerous' unsign decodes it
        # leniently (padding, unused low bits), so some altered entries would still verify.
        expected = self._signature(key, context, value)
        if not hmac.compare_digest(bytes(view[position + 1 :]), expected):
            raise IntegrityError(self.name)
        return bytes(value)


def _signed(options: dict[str, Any], keys: KeyRing) -> SignedStage:
    reject_options("signed", options)
    return SignedStage(keys)


@hookimpl
def vaultcache_register_stages(registry: StageRegistrar) -> None:
    """Register the built-in signing stage."""
    registry.add(
        "signed",
        _signed,
        kind="signing",
        description="HMAC-SHA256 signature (itsdangerous); authenticates, does not hide",
    )
