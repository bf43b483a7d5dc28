"""Errors, reprs and strs never show key material or cached payload."""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from serializer_support import flip

from vaultcache import (
    CachedResponse,
    DecodeError,
    EncodeError,
    EntryError,
    KeyRing,
    KeyRingError,
    SerializerPipeline,
    VaultCacheError,
    build_pipeline,
    generate_key,
    load_key_ring,
)
from vaultcache.crypto_keys import Key
from vaultcache.serializers import Stage
from vaultcache.serializers.stages.formats import format_stage

KEY_TEXT = generate_key()
RING = KeyRing([KEY_TEXT])
KEY = RING.primary
SECRET = base64.urlsafe_b64decode(KEY_TEXT)
MARKER = "PLAINTEXT-MARKER-9c1e"
RESPONSE = CachedResponse(
    url=f"https://example.org/{MARKER}",
    status_code=200,
    headers={"X-Secret": MARKER},
    content=(MARKER * 20).encode(),
)
SPECS = ("signed+zstd+fernet", "zstd+aesgcm", "json+gzip+signed", "pickle+lzma+aesgcm", "signed")


def _forbidden() -> list[str]:
    """Every text form of the secret and of the subkeys derived from it, and the marker."""
    forms = {KEY_TEXT, KEY_TEXT.rstrip("="), SECRET.hex(), repr(SECRET)[2:-1], MARKER}
    forms |= {base64.b64encode(SECRET).decode().rstrip("=")}
    for purpose in ("signed", "aesgcm", "fernet"):
        subkey = KEY.subkey(purpose)
        forms |= {subkey.hex(), base64.urlsafe_b64encode(subkey).decode().rstrip("=")}
        forms |= {repr(subkey)[2:-1]}
    return sorted(forms)


FORBIDDEN = _forbidden()


def assert_clean(thing: Any) -> None:
    """Neither str, repr nor (for errors) args or the formatted traceback holds a secret."""
    texts = [str(thing), repr(thing)]
    if isinstance(thing, BaseException):
        texts += [repr(arg) for arg in thing.args]
        texts.append("".join(traceback.format_exception(thing)))
    for text in texts:
        for secret in FORBIDDEN:
            assert secret not in text, f"{secret[:12]}... appears in {text[:200]!r}"


def _raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except VaultCacheError as exc:
        return exc
    raise AssertionError("no error raised")


def test_forbidden_forms_are_distinct_enough() -> None:
    # Guards assert_clean against vacuous passes: every form is long and really is secret.
    assert all(len(form) >= 20 for form in FORBIDDEN)
    assert MARKER.encode() in build_pipeline("json").dumps(RESPONSE)


# -- objects ----------------------------------------------------------------------------------


def _objects() -> Iterator[Any]:
    yield RING
    yield KEY
    yield RING.rotated(generate_key())
    for spec in SPECS:
        pipeline = build_pipeline(spec, keys=RING)
        yield pipeline
        for stage in pipeline.stages:
            yield stage
            if hasattr(stage, "_envelope"):
                yield stage._envelope


@pytest.mark.parametrize("thing", list(_objects()), ids=lambda thing: type(thing).__name__)
def test_reprs_hold_no_key_material(thing: Any) -> None:
    assert_clean(thing)


def test_key_ring_shows_only_public_ids() -> None:
    assert repr(RING) == f"KeyRing(ids=['{KEY.hex_id}'])"
    assert repr(KEY) == f"Key(id={KEY.hex_id})"
    assert KEY.id != SECRET[:8]


# -- errors while reading ---------------------------------------------------------------------


def _read_errors() -> Iterator[tuple[str, Callable[[], Any]]]:
    for spec in SPECS:
        pipeline = build_pipeline(spec, keys=RING)
        entry = pipeline.dumps(RESPONSE)
        yield f"{spec}: flipped", lambda p=pipeline, e=entry: p.loads(flip(e, len(e) // 2, 3))
        yield f"{spec}: truncated", lambda p=pipeline, e=entry: p.loads(e[:-1])
        other = build_pipeline(spec, keys=KeyRing([generate_key()]))
        yield f"{spec}: other keys", lambda p=other, e=entry: p.loads(e)
    unauthenticated = build_pipeline("json+gzip")
    entry = unauthenticated.dumps(RESPONSE)
    yield "json+gzip: truncated", lambda: unauthenticated.loads(entry[:-5])
    yield "json+gzip: trailing", lambda: unauthenticated.loads(entry + MARKER.encode())
    small = build_pipeline("json+gzip", options={"gzip": {"max_size": 64}})
    yield "json+gzip: too big", lambda: small.loads(entry)
    # Structurally wrong documents whose decoders quote the offending value.
    documents = {
        "bad time": {"status_code": 200, "created_at": MARKER},
        "bad status": {"status_code": MARKER, "created_at": "2024-01-01T00:00:00+00:00"},
        "bad header": {"status_code": 200, "created_at": "x", "headers": {MARKER: 1}},
        "bad body": {"status_code": 200, "created_at": "x", "content": MARKER + "!"},
    }
    json_pipeline = build_pipeline("json")
    for name, document in documents.items():
        data = json.dumps(document).encode()
        yield f"json: {name}", lambda d=data: json_pipeline.loads(d)
    yield "json: broken", lambda: json_pipeline.loads(f'{{"{MARKER}": '.encode())
    yield "toml: not utf-8", lambda: build_pipeline("toml").loads(b"\xff" + MARKER.encode())
    yield "yaml: bad", lambda: build_pipeline("yaml").loads(f"{MARKER}: [".encode())
    pickle_format = SerializerPipeline([format_stage("pickle")])
    yield (
        "pickle: global",
        lambda: pickle_format.loads(
            b"\x80\x04\x8c\x02os\x8c" + bytes([len(MARKER)]) + MARKER.encode() + b"\x93."
        ),
    )


_READ_ERRORS = list(_read_errors())


@pytest.mark.parametrize(("name", "call"), _READ_ERRORS, ids=[name for name, _ in _READ_ERRORS])
def test_read_errors_hold_no_key_or_payload(name: str, call: Callable[[], Any]) -> None:
    error = _raised(call)
    assert isinstance(error, EntryError)
    assert_clean(error)
    # The underlying exception, whose message may quote the entry, is not chained.
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None


# -- errors while configuring -----------------------------------------------------------------


def _config_errors() -> Iterator[tuple[str, Callable[[], Any]]]:
    for stage in ("aesgcm", "fernet", "signed"):
        yield (
            f"{stage} key option",
            lambda s=stage: build_pipeline(s, keys=RING, options={s: {"key": KEY_TEXT}}),
        )
    for option in ("level", "max_size"):
        yield (
            f"zstd {option}",
            lambda o=option: build_pipeline("zstd", options={"zstd": {o: KEY_TEXT}}),
        )
    yield "spec error", lambda: build_pipeline("zstd+brotli", keys=KEY_TEXT)
    yield "unsafe spec", lambda: build_pipeline("pickle", keys=[KEY_TEXT])
    broken = KEY_TEXT[:-4] + "AAAA!"
    yield "bad key text", lambda: KeyRing([broken])
    yield "bad key in ring text", lambda: KeyRing.from_text(f"{KEY_TEXT}\n{KEY_TEXT[:-2]}")
    yield "short key bytes", lambda: Key(SECRET[:-1])
    yield "bad key as keys=", lambda: build_pipeline("aesgcm", keys=KEY_TEXT[:-3])
    yield "retire unknown", lambda: RING.retired("00" * 8)


_CONFIG_ERRORS = list(_config_errors())


@pytest.mark.parametrize(("name", "call"), _CONFIG_ERRORS, ids=[n for n, _ in _CONFIG_ERRORS])
def test_config_errors_hold_no_key(name: str, call: Callable[[], Any]) -> None:
    assert_clean(_raised(call))


def test_bad_key_from_the_environment_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTCACHE_KEYS", f"{KEY_TEXT[:-4]},{KEY_TEXT}")
    error = _raised(load_key_ring)
    assert isinstance(error, KeyRingError)
    assert_clean(error)
    assert KEY_TEXT[:-4] not in str(error)


def test_a_format_stage_on_its_own_keeps_decoder_messages_out() -> None:
    # The decoders quote payload in their messages (the structurer's ValueError names the
    # bad created_at); the stage itself raises DecodeError without it, chained to nothing.
    data = json.dumps({"status_code": 200, "content": "", "created_at": MARKER}).encode()
    with pytest.raises(DecodeError) as caught:
        format_stage("json").loads(data)
    assert MARKER not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


class _FailingStage:
    """A stage whose dumps raises with payload in its message, as a buggy plugin might."""

    def dumps(self, value: bytes) -> bytes:
        raise RuntimeError(f"cannot write {value!r}")

    def loads(self, value: bytes) -> bytes:
        return value


def test_a_stage_failing_on_write_raises_encode_error_without_its_message() -> None:
    pipeline = SerializerPipeline([Stage(dumps=str.encode, loads=bytes.decode), _FailingStage()])

    with pytest.raises(EncodeError) as caught:
        pipeline.dumps(MARKER)

    assert caught.value.stage == "_failingstage"
    assert "RuntimeError" in str(caught.value)
    assert MARKER not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
