"""Key and KeyRing: the text form, ids, subkeys, rotation, and that secrets never leak."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from vaultcache import IntegrityError, KeyRing, KeyRingError, build_pipeline, generate_key
from vaultcache.crypto_keys import KEY_ID_SIZE, KEY_SIZE, Key, coerce_key_ring
from vaultcache.models import CachedResponse

URLSAFE_KEY = re.compile(r"[A-Za-z0-9_-]{43}=\Z")
RESPONSE = CachedResponse(url="https://example.org/", status_code=200, content=b"secret body")


def _hkdf_sha256(secret: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF with an empty salt, written out independently of the library."""
    prk = hmac.new(b"\0" * 32, secret, hashlib.sha256).digest()
    output, block = b"", b""
    counter = 1
    while len(output) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
        counter += 1
    return output[:length]


def _secret(text: str) -> bytes:
    return base64.urlsafe_b64decode(text)


def _leak_forms(text: str) -> list[str]:
    """Every way a secret could show up in text."""
    secret = _secret(text)
    return [
        text,
        text.rstrip("="),
        secret.hex(),
        repr(secret),
        base64.b64encode(secret).decode(),
        base64.b64encode(secret).decode().rstrip("="),
    ]


# -- generate_key ------------------------------------------------------------------------


def test_generate_key_is_urlsafe_base64_of_32_bytes() -> None:
    text = generate_key()
    assert isinstance(text, str)
    assert URLSAFE_KEY.match(text), text
    assert len(base64.urlsafe_b64decode(text)) == KEY_SIZE == 32


def test_generated_keys_are_distinct() -> None:
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200


def test_generated_key_round_trips_through_key_and_fernet_form() -> None:
    from cryptography.fernet import Fernet

    text = generate_key()
    Fernet(text)  # the same text form as a Fernet key
    assert Key.from_text(text) == Key(_secret(text))
    assert Key.from_text(text.encode()) == Key.from_text(f"  {text}\n")


# -- ids ---------------------------------------------------------------------------------


def test_key_id_is_stable_hex_and_one_way() -> None:
    text = generate_key()
    key = Key.from_text(text)
    assert key.id == Key.from_text(text).id
    assert len(key.id) == KEY_ID_SIZE == 8
    assert re.fullmatch(r"[0-9a-f]{16}", key.hex_id)
    assert key.hex_id == key.id.hex()
    assert key.id not in _secret(text)
    # The derivation is part of the storage format: entries record ids, so it must not change.
    assert key.id == _hkdf_sha256(_secret(text), b"vaultcache/v1/key-id", KEY_ID_SIZE)


def test_key_id_known_answer() -> None:
    key = Key(bytes(range(32)))
    assert key.hex_id == _hkdf_sha256(bytes(range(32)), b"vaultcache/v1/key-id", 8).hex()
    assert key.hex_id == Key(bytes(range(32))).hex_id


def test_key_ids_are_distinct() -> None:
    ids = {Key.from_text(generate_key()).id for _ in range(200)}
    assert len(ids) == 200


# -- subkeys -----------------------------------------------------------------------------


def test_subkeys_differ_per_purpose_and_from_the_secret() -> None:
    text = generate_key()
    key = Key.from_text(text)
    purposes = ["aesgcm", "signed", "fernet", "signed2", "x"]
    subkeys = [key.subkey(purpose) for purpose in purposes]
    assert len(set(subkeys)) == len(purposes)
    for subkey in subkeys:
        assert len(subkey) == KEY_SIZE
        assert subkey != _secret(text)
        assert key.id not in subkey
    assert key.subkey("aesgcm") == _hkdf_sha256(_secret(text), b"vaultcache/v1/aesgcm", 32)


def test_subkeys_are_deterministic_per_key_and_differ_between_keys() -> None:
    text = generate_key()
    assert Key.from_text(text).subkey("aesgcm") == Key.from_text(text).subkey("aesgcm")
    assert Key.from_text(text).subkey("aesgcm") != Key.from_text(generate_key()).subkey("aesgcm")
    key = Key.from_text(text)
    assert key.subkey("aesgcm") is key.subkey("aesgcm")  # cached
    assert len(key.subkey("fernet", 16)) == 16


def test_no_subkey_purpose_yields_the_public_id() -> None:
    # The id is derived like a subkey; a stage named "key-id" must not get a public "secret".
    key = Key.from_text(generate_key())
    with pytest.raises(ValueError, match="reserved"):
        key.subkey("key-id")
    with pytest.raises(ValueError, match="reserved"):
        key.subkey("key-id", KEY_ID_SIZE)


# -- never show the secret ---------------------------------------------------------------


def test_repr_and_str_never_contain_the_secret() -> None:
    texts = [generate_key(), generate_key()]
    ring = KeyRing(texts)
    shown = [repr(ring), str(ring), f"{ring!r}", *(f"{k} {k!r}" for k in ring)]
    shown.append(repr(list(ring)))
    for text in texts:
        for form in _leak_forms(text):
            for rendered in shown:
                assert form not in rendered
    assert repr(ring.primary) == f"Key(id={ring.primary.hex_id})"
    assert repr(ring) == f"KeyRing(ids={ring.ids})"


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-key",
        "ZmFrZQ==",  # valid base64, 4 bytes
        base64.urlsafe_b64encode(b"k" * 31).decode(),
        base64.urlsafe_b64encode(b"k" * 33).decode(),
        generate_key()[:-5] + "!!!!=",
        generate_key()[:40],
        "ключ-" + "a" * 40,
    ],
)
def test_invalid_key_text_is_refused_without_quoting_it(bad: str) -> None:
    good = generate_key()
    with pytest.raises(KeyRingError) as info:
        KeyRing([good, bad])
    message = str(info.value)
    assert "key #2" in message
    assert "vaultcache keys generate" in message
    assert bad not in message
    assert bad.strip("=") not in message
    assert good not in message
    with pytest.raises(KeyRingError) as info:
        KeyRing.from_text(f"{good}\n{bad}")
    assert bad not in str(info.value)
    with pytest.raises(KeyRingError) as info:
        Key.from_text(bad.encode())
    assert bad not in str(info.value)


def test_wrong_secret_length_is_refused() -> None:
    with pytest.raises(KeyRingError, match="32 bytes"):
        Key(b"short")


# -- KeyRing -----------------------------------------------------------------------------


def test_ring_is_primary_first_and_deduplicated() -> None:
    a, b, c = (generate_key() for _ in range(3))
    ring = KeyRing([a, b, Key.from_text(a), c, b.encode()])
    assert len(ring) == 3
    assert [key.hex_id for key in ring] == [Key.from_text(t).hex_id for t in (a, b, c)]
    assert ring.ids == [Key.from_text(t).hex_id for t in (a, b, c)]
    assert ring.primary == Key.from_text(a)
    assert ring.get(Key.from_text(c).id) == Key.from_text(c)
    assert ring.get(b"\0" * 8) is None


def test_empty_ring_says_how_to_make_a_key() -> None:
    with pytest.raises(KeyRingError, match="vaultcache keys generate"):
        KeyRing([])
    with pytest.raises(KeyRingError, match="vaultcache keys generate"):
        KeyRing.from_text("# only a comment\n\n , \n")


def test_from_text_handles_commas_newlines_and_comments() -> None:
    a, b, c, d = (generate_key() for _ in range(4))
    text = f"# vaultcache keys, primary first\n{a}, {b}\n\n  {c}  # old, still reads\n{d},\n"
    ring = KeyRing.from_text(text)
    assert ring.ids == [Key.from_text(t).hex_id for t in (a, b, c, d)]
    assert KeyRing.from_text(f"{a}\r\n{b}\r\n") == KeyRing([a, b])


def test_rings_compare_by_keys_in_order() -> None:
    a, b = generate_key(), generate_key()
    assert KeyRing([a, b]) == KeyRing([a, b])
    assert hash(KeyRing([a, b])) == hash(KeyRing([a, b]))
    assert KeyRing([a, b]) != KeyRing([b, a])
    assert KeyRing([a]) != [a]


def test_rotated_puts_the_new_key_first_and_keeps_the_rest() -> None:
    a, b, c = (generate_key() for _ in range(3))
    ring = KeyRing([a, b])
    rotated = ring.rotated(c)
    assert rotated.ids == [Key.from_text(t).hex_id for t in (c, a, b)]
    assert ring.ids == [Key.from_text(t).hex_id for t in (a, b)]  # unchanged
    assert ring.rotated(Key.from_text(b)).ids == [Key.from_text(t).hex_id for t in (b, a)]
    assert ring.rotated(a) == ring


def test_retired_removes_a_key_by_hex_id() -> None:
    a, b = generate_key(), generate_key()
    ring = KeyRing([a, b])
    retired = ring.retired(Key.from_text(b).hex_id)
    assert retired.ids == [Key.from_text(a).hex_id]
    assert ring.retired(Key.from_text(a).hex_id).primary == Key.from_text(b)


def test_retiring_an_unknown_id_or_the_last_key_fails() -> None:
    ring = KeyRing([generate_key()])
    with pytest.raises(KeyRingError, match="no key with id 0000000000000000"):
        ring.retired("0000000000000000")
    with pytest.raises(KeyRingError):
        ring.retired(ring.primary.hex_id)


def test_rotation_keeps_old_entries_readable_until_retired() -> None:
    old, new = generate_key(), generate_key()
    stored = build_pipeline("zstd+aesgcm", keys=[old]).dumps(RESPONSE)
    ring = KeyRing([old]).rotated(new)
    pipeline = build_pipeline("zstd+aesgcm", keys=ring)
    assert pipeline.loads(stored) == RESPONSE
    rewritten = pipeline.dumps(RESPONSE)
    assert build_pipeline("zstd+aesgcm", keys=[new]).loads(rewritten) == RESPONSE
    retired = build_pipeline("zstd+aesgcm", keys=ring.retired(Key.from_text(old).hex_id))
    with pytest.raises(IntegrityError):
        retired.loads(stored)
    assert retired.loads(rewritten) == RESPONSE


def test_coerce_key_ring_accepts_ring_text_and_sequences() -> None:
    a, b = generate_key(), generate_key()
    ring = KeyRing([a, b])
    assert coerce_key_ring(ring) is ring
    assert coerce_key_ring(f"{a},{b}") == ring
    assert coerce_key_ring([a, b]) == ring
    assert coerce_key_ring((a.encode(), b)) == ring


@pytest.mark.parametrize("suffix", ["AA", "=", "==", "x"])
def test_key_text_with_anything_after_it_is_refused(suffix: str) -> None:
    """The decoder ignores what follows the padding; a key is only the text it was given as."""
    text = generate_key()
    with pytest.raises(KeyRingError) as caught:
        Key.from_text(text + suffix)
    assert text not in str(caught.value)


def test_key_text_in_standard_base64_is_refused() -> None:
    text = generate_key()
    while "-" not in text and "_" not in text:
        text = generate_key()
    with pytest.raises(KeyRingError):
        Key.from_text(text.replace("-", "+").replace("_", "/"))
