"""The ``signed`` stage: HMAC-SHA256 over the envelope and the data, with itsdangerous.

itsdangerous signs with the *last* of its secret keys; vaultcache's KeyRing is primary-first.
Rather than hand itsdangerous the ring, the stage keeps one Signer per key: the primary's
signs, and the key id in the envelope picks the one Signer that verifies, so a retired key
never verifies anything and a rotation takes effect for new entries at once.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import Signer

from vaultcache.errors import IntegrityError
from vaultcache.hookspecs import hookimpl
from vaultcache.keys import Key, KeyRing
from vaultcache.registry import StageRegistrar
from vaultcache.serializers.stages.envelope import Envelope
from vaultcache.serializers.stages.options import reject_options

__all__ = ["SignedStage"]

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for

SALT = b"vaultcache.signed"


class SignedStage:
    """Appends an HMAC-SHA256 signature; verifies it before anything later is decoded."""

    name = "signed"
    kind = "signing"
    is_binary = True

    def __init__(self, keys: KeyRing, *, envelope: Envelope | None = None) -> None:
        self._keys = keys
        self._envelope = envelope or Envelope(self.name, ord("s"), keys)
        self._signers: dict[bytes, Signer] = {}

    def bind(self, fingerprint: bytes) -> SignedStage:
        """A copy of this stage bound to a pipeline's fingerprint."""
        return SignedStage(self._keys, envelope=self._envelope.bound(fingerprint))

    def _signer(self, key: Key) -> Signer:
        signer = self._signers.get(key.id)
        if signer is None:
            # itsdangerous' "hmac" derivation (secret and salt -> signing key), done once here
            # instead of on every call; the signatures are the same.
            derived = Signer(
                key.subkey(self.name),
                salt=SALT,
                key_derivation="hmac",
                digest_method=hashlib.sha256,
            ).derive_key()
            signer = self._signers[key.id] = Signer(
                derived, salt=SALT, key_derivation="none", digest_method=hashlib.sha256
            )
        return signer

    def dumps(self, data: bytes) -> bytes:
        """Sign header + data with the primary key."""
        key = self._keys.primary
        return self._signer(key).sign(self._envelope.header(key) + data)

    def loads(self, data: bytes) -> bytes:
        """Verify with the key named in the header; IntegrityError on any mismatch."""
        header, key = self._envelope.open(data)
        # Compare the signature as written, not as decoded: itsdangerous' unsign decodes it
        # leniently (padding, unused low bits), so some altered entries would still verify.
        signer = self._signer(key)
        position = data.rfind(signer.sep)
        if position < 0:
            raise IntegrityError(self.name)
        # A view, so the body is not copied before it is verified; itsdangerous hands it
        # to hmac, which takes any buffer.
        value = memoryview(data)[:position]
        expected = signer.get_signature(value)  # type: ignore[arg-type]
        if not hmac.compare_digest(data[position + 1 :], expected):
            raise IntegrityError(self.name)
        return bytes(value[len(header) :])


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
