"""Tampered, truncated, swapped and foreign entries fail with a typed error, never garbage.

Authenticating stages and pipelines that contain one raise IntegrityError for any change to
an entry; pipelines without one raise DecodeError (or SizeLimitError) for what they can
detect. Entries are small, so the single-bit sweeps below cover every bit exhaustively.
"""

from __future__ import annotations

import base64
from typing import Any

import attrs
import pytest
from cryptography.fernet import Fernet, InvalidToken
from hypothesis import given, settings
from hypothesis import strategies as st
from serializer_support import (
    AUTH_STAGES,
    HEADER_SIZE,
    RING,
    SPECS,
    build,
    flip,
    key,
    responses,
    stage,
)

from vaultcache import (
    CachedResponse,
    DecodeError,
    IntegrityError,
    KeyRing,
    build_pipeline,
    generate_key,
)
from vaultcache.backends import memory_cache
from vaultcache.crypto_keys import KEY_ID_SIZE
from vaultcache.serializers.stages.encryption import NONCE_SIZE

AUTH_SPECS = (*SPECS, "signed", "fernet", "aesgcm", "pickle+signed", "json+zstd+fernet")
#: Codecs whose streams carry a checksum of the data: a flip is caught or changes nothing.
CHECKSUMMED = ("gzip", "zlib", "bz2", "lzma")
PAYLOAD = b"PAYLOAD:" + bytes(range(40))
RESPONSE = CachedResponse(
    url="https://example.org/tamper",
    status_code=200,
    headers={"Content-Type": "text/plain"},
    content=b"a body worth protecting " * 4,
)


def _failure(load: Any, data: bytes, error: type[Exception] = IntegrityError) -> str | None:
    """None when load(data) raises `error`; otherwise what happened instead."""
    try:
        result = load(data)
    except error:
        return None
    except Exception as exc:
        return f"raised {type(exc).__name__}: {exc}"
    return f"read back as {result!r:.60}"


def _refused(load: Any, data: bytes, error: type[Exception] = IntegrityError) -> bool:
    failure = _failure(load, data, error)
    assert failure is None, failure
    return True


def _flips(entry: bytes) -> list[tuple[int, int]]:
    return [(position, bit) for position in range(len(entry)) for bit in range(8)]


# -- single-bit flips -------------------------------------------------------------------------


@pytest.mark.parametrize("name", AUTH_STAGES)
def test_auth_stage_refuses_every_single_bit_flip(name: str) -> None:
    s = stage(name)
    entry = s.dumps(PAYLOAD)
    failures = [
        (position, bit, failure)
        for position, bit in _flips(entry)
        if (failure := _failure(s.loads, flip(entry, position, bit)))
    ]
    assert failures == [], f"{len(entry)}-byte entry"


@pytest.mark.parametrize("spec", ["signed+zstd+fernet", "zstd+aesgcm", "json+gzip+signed"])
def test_pipeline_refuses_every_single_bit_flip(spec: str) -> None:
    pipeline = build(spec)
    entry = pipeline.dumps(RESPONSE)
    failures = [
        (position, bit, failure)
        for position, bit in _flips(entry)
        if (failure := _failure(pipeline.loads, flip(entry, position, bit)))
    ]
    assert failures == [], f"{len(entry)}-byte entry"


def _region_position(draw: st.DrawFn, length: int) -> int:
    """A position in the header, the middle, or the tag/signature at the end."""
    region = draw(st.sampled_from(["header", "body", "tail"]))
    if region == "header":
        return draw(st.integers(0, HEADER_SIZE - 1))
    if region == "tail":
        return draw(st.integers(max(HEADER_SIZE, length - 64), length - 1))
    return draw(st.integers(HEADER_SIZE, length - 1))


@pytest.mark.parametrize("name", AUTH_STAGES)
@settings(max_examples=150, deadline=None)
@given(payload=st.binary(max_size=600), data=st.data())
def test_auth_stage_refuses_a_flipped_bit(name: str, payload: bytes, data: st.DataObject) -> None:
    s = stage(name)
    entry = s.dumps(payload)
    position = _region_position(data.draw, len(entry))
    bit = data.draw(st.integers(0, 7))
    with pytest.raises(IntegrityError):
        s.loads(flip(entry, position, bit))


@pytest.mark.parametrize("spec", AUTH_SPECS)
@settings(max_examples=60, deadline=None)
@given(response=responses, data=st.data())
def test_pipeline_refuses_a_flipped_bit(
    spec: str, response: CachedResponse, data: st.DataObject
) -> None:
    pipeline = build(spec)
    entry = pipeline.dumps(response)
    position = _region_position(data.draw, len(entry))
    bit = data.draw(st.integers(0, 7))
    with pytest.raises(IntegrityError):
        pipeline.loads(flip(entry, position, bit))


@pytest.mark.parametrize("name", CHECKSUMMED)
def test_checksummed_codec_never_returns_other_data(name: str) -> None:
    # Without authentication a flip may go unnoticed only where it changes nothing (a gzip
    # header's mtime, say); it must never produce different data.
    s = stage(name)
    entry = s.dumps(PAYLOAD)
    for position, bit in _flips(entry):
        try:
            result = s.loads(flip(entry, position, bit))
        except DecodeError:
            continue
        assert result == PAYLOAD, (position, bit)


# -- truncation and extension -----------------------------------------------------------------


def _length_classes(entry: bytes, name: str) -> list[int]:
    lengths = {0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 1, len(entry) - 1}
    if name.endswith("aesgcm"):
        nonce_end = HEADER_SIZE + NONCE_SIZE
        lengths |= {nonce_end - 1, nonce_end, nonce_end + 1, nonce_end + 15}
    return sorted(length for length in lengths if 0 <= length < len(entry))


@pytest.mark.parametrize("name", AUTH_STAGES)
def test_auth_stage_refuses_truncation(name: str) -> None:
    s = stage(name)
    entry = s.dumps(PAYLOAD)
    for length in _length_classes(entry, name):
        assert _refused(s.loads, entry[:length]), length
    for length in range(len(entry)):  # and every other length: entries are small
        assert _refused(s.loads, entry[:length]), length


@pytest.mark.parametrize("spec", AUTH_SPECS)
def test_pipeline_refuses_truncation(spec: str) -> None:
    pipeline = build(spec)
    entry = pipeline.dumps(RESPONSE)
    for length in _length_classes(entry, spec):
        assert _refused(pipeline.loads, entry[:length]), length


@pytest.mark.parametrize("spec", AUTH_SPECS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_pipeline_refuses_any_prefix(spec: str, data: st.DataObject) -> None:
    pipeline = build(spec)
    entry = pipeline.dumps(RESPONSE)
    length = data.draw(st.integers(0, len(entry) - 1))
    with pytest.raises(IntegrityError):
        pipeline.loads(entry[:length])


@pytest.mark.parametrize("name", AUTH_STAGES)
@pytest.mark.parametrize("suffix", [b"\x00", b"=", b"==", b"\n", b"A", b".", b"x" * 32])
def test_auth_stage_refuses_trailing_bytes(name: str, suffix: bytes) -> None:
    s = stage(name)
    assert _refused(s.loads, s.dumps(PAYLOAD) + suffix)


@pytest.mark.parametrize("name", AUTH_STAGES)
@pytest.mark.parametrize("inserted", [b"\n", b" ", b"=", b"\x00"])
def test_auth_stage_refuses_inserted_bytes(name: str, inserted: bytes) -> None:
    # Base64 readers skip characters outside the alphabet; an entry is exactly what was written.
    s = stage(name)
    entry = s.dumps(PAYLOAD)
    for position in range(HEADER_SIZE, len(entry)):
        assert _refused(s.loads, entry[:position] + inserted + entry[position:]), position


_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _respellings(token: bytes) -> list[bytes]:
    """Other spellings of a Fernet token that its lenient decoder reads as the same bytes:
    skipped whitespace (always possible), ``+`` and ``/``, and, when padded, a missing padding
    or other unused low bits."""
    body = token.rstrip(b"=")
    padding = len(token) - len(body)
    spellings = [token[:20] + blank + token[20:] for blank in (b"\n", b" ", b"\r\n")]
    spellings += [token.replace(b"-", b"+", 1), token.replace(b"_", b"/", 1)]
    if padding:
        spellings.append(body + b"=" * (padding - 1) + b"\n")
        last = _BASE64URL.index(body[-1:])
        spellings += [
            body[:-1] + _BASE64URL[last ^ bit : (last ^ bit) + 1] + b"=" * padding
            for bit in range(1, 2 ** (2 * padding))
        ]
    return [spelling for spelling in spellings if spelling != token]


def _fernet_reads(fernet: Fernet, token: bytes) -> bytes | None:
    try:
        return fernet.decrypt(token)
    except InvalidToken:
        return None


@pytest.mark.parametrize("size", range(0, 48, 5))
def test_fernet_refuses_other_spellings_of_its_token(size: int) -> None:
    # Tokens of every padding length (0, 1, 2) among these sizes. The stage reads none of the
    # spellings; plain Fernet reads at least the whitespace ones as the token itself (``+`` and
    # ``/`` only in its older releases).
    s = stage("fernet")
    entry = s.dumps(PAYLOAD[:size])
    key_id, token = entry[:KEY_ID_SIZE], entry[KEY_ID_SIZE:]
    plain = Fernet(base64.urlsafe_b64encode(RING.primary.subkey("fernet")))
    spellings = _respellings(token)
    read_as_token = [sp for sp in spellings if _fernet_reads(plain, sp) == plain.decrypt(token)]
    assert len(read_as_token) >= 3
    for spelling in spellings:
        assert _refused(s.loads, key_id + spelling), spelling


@pytest.mark.parametrize(
    "spec", ["msgpack", "json", "zstd", "gzip", "zlib", "bz2", "lzma", "json+gzip", "yaml+zstd"]
)
def test_unauthenticated_pipeline_refuses_truncation(spec: str) -> None:
    pipeline = build(spec)
    entry = pipeline.dumps(RESPONSE)
    for length in range(len(entry)):
        assert _refused(pipeline.loads, entry[:length], DecodeError), length


# -- the wrong keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", AUTH_SPECS)
def test_pipeline_refuses_an_entry_written_under_another_key_ring(spec: str) -> None:
    entry = build(spec).dumps(RESPONSE)
    assert _refused(build(spec, KeyRing([generate_key()])).loads, entry)


@pytest.mark.parametrize("name", AUTH_STAGES)
def test_stage_refuses_an_entry_written_under_another_key_ring(name: str) -> None:
    entry = stage(name).dumps(PAYLOAD)
    assert _refused(stage(name, KeyRing([generate_key()])).loads, entry)


@pytest.mark.parametrize("name", AUTH_STAGES)
def test_retired_key_no_longer_reads(name: str) -> None:
    old, new = key(), key()
    ring = KeyRing([old])
    entry = stage(name, ring).dumps(PAYLOAD)
    rotated = ring.rotated(new)
    assert stage(name, rotated).loads(entry) == PAYLOAD
    retired = rotated.retired(old.hex_id)
    assert retired.ids == [new.hex_id]
    assert _refused(stage(name, retired).loads, entry)


@pytest.mark.parametrize("spec", AUTH_SPECS)
def test_retired_key_no_longer_reads_through_a_pipeline(spec: str) -> None:
    old = key()
    ring = KeyRing([old])
    entry = build_pipeline(spec, keys=ring).dumps(RESPONSE)
    retired = ring.rotated(generate_key()).retired(old.hex_id)
    assert _refused(build_pipeline(spec, keys=retired).loads, entry)


@pytest.mark.parametrize("name", AUTH_STAGES)
def test_header_naming_another_key_in_the_ring_is_refused(name: str) -> None:
    # Both keys are in the ring; the header is rewritten to name the one that did not write.
    first, second = key(), key()
    ring = KeyRing([first, second])
    entry = stage(name, ring).dumps(PAYLOAD)
    assert entry[:KEY_ID_SIZE] == first.id
    swapped = second.id + entry[KEY_ID_SIZE:]
    assert _refused(stage(name, ring).loads, swapped)


@pytest.mark.parametrize("name", AUTH_STAGES)
@pytest.mark.parametrize("offset", [0, 1, 2, KEY_ID_SIZE - 1, KEY_ID_SIZE, KEY_ID_SIZE + 1])
@pytest.mark.parametrize("flip", [0x01, 0x80])
def test_every_byte_of_the_key_id_and_what_follows_is_checked(
    name: str, offset: int, flip: int
) -> None:
    # Flipped, not overwritten: an overwrite with the byte already there would change nothing.
    entry = bytearray(stage(name).dumps(PAYLOAD))
    entry[offset] ^= flip
    assert _refused(stage(name).loads, bytes(entry))


# -- entries moved between pipelines ----------------------------------------------------------


@pytest.mark.parametrize(
    ("writer", "reader"),
    [
        ("zstd+aesgcm", "gzip+aesgcm"),
        ("zstd+aesgcm", "json+zstd+aesgcm"),
        ("zstd+aesgcm", "signed+zstd+aesgcm"),
        ("zstd+aesgcm", "aesgcm"),
        ("zstd+aesgcm", "zstd+fernet"),
        ("aesgcm", "fernet"),
        ("fernet", "aesgcm"),
        ("signed", "aesgcm"),
        ("json+gzip+signed", "json+zlib+signed"),
        ("json+gzip+signed", "yaml+gzip+signed"),
        ("pickle+signed", "msgpack+signed"),
        ("signed+zstd+fernet", "zstd+fernet"),
        ("zstd", "zstd+aesgcm"),
    ],
)
def test_entry_written_under_one_spec_is_read_by_a_cache_written_with_another(
    writer: str, reader: str
) -> None:
    # An entry names the spec that wrote it: a cache configured with another spec reads it,
    # unless that would read an unauthenticated entry where the reader authenticates.
    written, read = memory_cache(), memory_cache()
    written.serializer, read.serializer = build(writer), build(reader)
    response = attrs.evolve(RESPONSE, cache_key="k")
    written.save_response(response)
    read.storage["k"] = written.storage["k"]
    if build(writer).outer_authenticates or not build(reader).authenticates:
        assert read.get_response("k") == response
    else:
        assert read.get_response("k") is None
        assert read.stats.kept == 1


def test_same_spec_reads_its_own_entries() -> None:
    # The control for the test above: "msgpack+" is what the builder prepends anyway.
    entry = build("zstd+aesgcm").dumps(RESPONSE)
    assert build("msgpack+zstd+aesgcm").loads(entry) == RESPONSE


@pytest.mark.parametrize("writer", AUTH_STAGES)
@pytest.mark.parametrize("reader", AUTH_STAGES)
def test_stage_refuses_another_stages_entry(writer: str, reader: str) -> None:
    entry = stage(writer).dumps(PAYLOAD)
    if writer == reader:
        assert stage(reader).loads(entry) == PAYLOAD
    else:
        assert _refused(stage(reader).loads, entry)


@pytest.mark.parametrize("spec", ["zstd+aesgcm", "json+gzip+signed", "signed+zstd+fernet"])
def test_authenticated_entry_read_without_authentication_is_a_decode_error(spec: str) -> None:
    entry = build(spec).dumps(RESPONSE)
    with pytest.raises(DecodeError):
        build("zstd").loads(entry)
    with pytest.raises(DecodeError):
        build("msgpack").loads(entry)


def test_the_primary_key_is_the_module_ring() -> None:
    # Guards the fixtures above: they must really write under RING's primary key.
    assert stage("aesgcm").dumps(b"")[:KEY_ID_SIZE] == RING.primary.id
