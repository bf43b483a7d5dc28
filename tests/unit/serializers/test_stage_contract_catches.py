"""The stage contract fails stages that break it (one that passes everything proves nothing)."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from vaultcache import KeyRing, generate_key
from vaultcache.testing import StageContract

# What a failed contract check raises: pytest.fail's exception, or a failed assert/raises.
FAILED = (pytest.fail.Exception, AssertionError)


class UnboundedZlib:
    """Decompresses without a bound and lets zlib's own errors escape."""

    name = "zlib"
    kind = "compression"

    def dumps(self, data: bytes) -> bytes:
        return zlib.compress(data)

    def loads(self, data: bytes) -> bytes:
        return zlib.decompress(data)


class UncheckedSignature:
    """Claims to sign, but never checks the signature it appends."""

    name = "signed"
    kind = "signing"

    def dumps(self, data: bytes) -> bytes:
        return data + bytes(32)

    def loads(self, data: bytes) -> bytes:
        return data[:-32]


class PrimaryOnly:
    """Signs with the primary key and verifies with the primary key only: rotation breaks."""

    name = "signed"
    kind = "signing"

    def __init__(self, keys: KeyRing) -> None:
        self.inner = _Signed().make_stage({}, KeyRing([keys.primary]))

    def dumps(self, data: bytes) -> bytes:
        return bytes(self.inner.dumps(data))

    def loads(self, data: bytes) -> bytes:
        return bytes(self.inner.loads(data))


class _Signed(StageContract):
    stage_name = "signed"


class _Zlib(StageContract):
    stage_name = "zlib"

    def make_stage(self, options: dict[str, Any], keys: KeyRing) -> Any:
        return UnboundedZlib()


class _Unchecked(StageContract):
    stage_name = "signed"

    def make_stage(self, options: dict[str, Any], keys: KeyRing) -> Any:
        return UncheckedSignature()


def test_escaping_exceptions_fail() -> None:
    contract = _Zlib()
    with pytest.raises(FAILED, match="raised error, not an entry error"):
        contract.test_random_input(UnboundedZlib())


def test_unbounded_decompression_fails() -> None:
    with pytest.raises(FAILED):
        _Zlib().test_decompression_is_bounded(KeyRing([generate_key()]))


def test_a_signature_that_is_not_checked_fails() -> None:
    contract = _Unchecked()
    with pytest.raises(FAILED):
        contract.test_every_alteration_fails_authentication(UncheckedSignature())
    with pytest.raises(FAILED):
        contract.test_appended_garbage(UncheckedSignature())


def test_a_stage_that_forgets_older_keys_fails() -> None:
    class _PrimaryOnly(StageContract):
        stage_name = "signed"

        def make_stage(self, options: dict[str, Any], keys: KeyRing) -> Any:
            return PrimaryOnly(keys)

    with pytest.raises(FAILED, match="older key"):
        _PrimaryOnly().test_rotation()


def test_the_real_stages_pass_the_same_checks() -> None:
    keys = KeyRing([generate_key()])
    signed = _Signed()
    signed.test_every_alteration_fails_authentication(signed.make_stage({}, keys))
    signed.test_rotation()
