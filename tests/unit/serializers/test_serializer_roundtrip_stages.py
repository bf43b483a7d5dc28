"""Round trips through every built-in stage on its own.

Formats take CachedResponse objects; compression, signing and encryption stages take bytes.
Small values come from hypothesis; a few multi-MiB bodies are explicit parameters.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serializer_support import (
    AUTH_STAGES,
    COMPRESSION_STAGES,
    FORMATS,
    RING,
    big_body,
    build,
    responses,
    stage,
)

from vaultcache import CachedResponse
from vaultcache.crypto_keys import KEY_ID_SIZE
from vaultcache.serializers.stages.formats import format_stage

BYTE_STAGES = COMPRESSION_STAGES + AUTH_STAGES
STAGES = {name: stage(name) for name in BYTE_STAGES}
MiB = 1024 * 1024


# -- formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
@settings(max_examples=40, deadline=None)
@given(response=responses)
def test_format_stage_round_trips_a_response(name: str, response: CachedResponse) -> None:
    fmt = format_stage(name)
    data = fmt.dumps(response)
    assert isinstance(data, bytes)
    loaded = fmt.loads(data)
    assert isinstance(loaded, CachedResponse)
    assert loaded == response


@pytest.mark.parametrize("name", FORMATS)
@settings(max_examples=15, deadline=None)
@given(response=responses)
def test_format_alone_as_a_built_pipeline(name: str, response: CachedResponse) -> None:
    # pickle is only buildable behind an authenticating stage.
    pipeline = build("pickle+signed" if name == "pickle" else name)
    assert pipeline.spec.startswith(name)
    assert pipeline.loads(pipeline.dumps(response)) == response


@pytest.mark.parametrize("name", FORMATS)
def test_format_keeps_what_a_response_offers(name: str) -> None:
    response = CachedResponse(
        url="https://example.org/a?b=1",
        status_code=201,
        reason="Created",
        headers={"Content-Type": "application/json; charset=utf-8", "X-Thing": "ä€😀"},
        content='{"ünïcode": "😀"}'.encode(),
        encoding="utf-8",
    )
    fmt = format_stage(name)
    loaded = fmt.loads(fmt.dumps(response))
    assert loaded == response
    assert loaded.headers["content-type"] == "application/json; charset=utf-8"
    assert loaded.json() == {"ünïcode": "😀"}
    assert loaded.ok
    assert loaded.from_cache
    assert loaded.created_at.tzinfo is not None


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("kind", ["binary", "text"])
def test_format_round_trips_a_large_body(name: str, kind: str) -> None:
    response = CachedResponse(url="https://example.org/big", status_code=200,
                              content=big_body(3 * MiB, kind))  # fmt: skip
    fmt = format_stage(name)
    assert fmt.loads(fmt.dumps(response)) == response


# -- bytes stages -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", BYTE_STAGES)
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=4096))
def test_bytes_stage_round_trips(name: str, data: bytes) -> None:
    out = STAGES[name].dumps(data)
    assert isinstance(out, bytes)
    assert STAGES[name].loads(out) == data


@pytest.mark.parametrize("name", BYTE_STAGES)
def test_bytes_stage_round_trips_empty_input(name: str) -> None:
    assert STAGES[name].loads(STAGES[name].dumps(b"")) == b""


@pytest.mark.parametrize("name", BYTE_STAGES)
def test_bytes_stage_accepts_bytes_like_input(name: str) -> None:
    out = STAGES[name].dumps(b"payload" * 100)
    assert STAGES[name].loads(bytearray(out)) == b"payload" * 100


_LARGE = [
    pytest.param(name, size, kind, id=f"{name}-{size // MiB}MiB-{kind}")
    for name in BYTE_STAGES
    for kind in ("binary", "text")
    # bz2 and lzma are slow on incompressible data; keep the run short.
    for size in ((1 * MiB,) if name in {"bz2", "lzma"} else (4 * MiB,))
]


@pytest.mark.parametrize(("name", "size", "kind"), _LARGE)
def test_bytes_stage_round_trips_a_large_body(name: str, size: int, kind: str) -> None:
    data = big_body(size, kind)
    assert STAGES[name].loads(STAGES[name].dumps(data)) == data


@pytest.mark.parametrize("name", COMPRESSION_STAGES)
def test_compression_shrinks_text(name: str) -> None:
    data = big_body(256 * 1024, "text")
    assert len(STAGES[name].dumps(data)) < len(data) // 2


_LEVELS = {"zstd": (-7, 22), "gzip": (0, 9), "zlib": (0, 9), "bz2": (1, 9), "lzma": (0, 9)}


@pytest.mark.parametrize("name", COMPRESSION_STAGES)
@settings(max_examples=20, deadline=None)
@given(data=st.binary(max_size=2048), pick=st.data())
def test_compression_round_trips_at_every_level(
    name: str, data: bytes, pick: st.DataObject
) -> None:
    low, high = _LEVELS[name]
    level = pick.draw(st.integers(low, high), label="level")
    compressor = stage(name, level=level)
    assert compressor.loads(compressor.dumps(data)) == data
    # The level only affects writing: any reader of the stage reads it.
    assert STAGES[name].loads(compressor.dumps(data)) == data


@pytest.mark.parametrize("name", ["fernet", "aesgcm"])
def test_encryption_never_repeats_output(name: str) -> None:
    # A fresh nonce (aesgcm) or IV (fernet) per entry: equal plaintexts do not show.
    outputs = {STAGES[name].dumps(b"same plaintext") for _ in range(20)}
    assert len(outputs) == 20


@pytest.mark.parametrize("name", ["fernet", "aesgcm"])
def test_encryption_hides_the_plaintext(name: str) -> None:
    marker = b"PLAINTEXT-MARKER-7f3a"
    assert marker not in STAGES[name].dumps(marker * 10)


def test_signed_output_is_deterministic_and_readable() -> None:
    signed = STAGES["signed"]
    assert signed.dumps(b"abc") == signed.dumps(b"abc")
    assert b"abc" in signed.dumps(b"abc")  # signing authenticates, it does not hide


@pytest.mark.parametrize("name", AUTH_STAGES)
def test_auth_stage_used_on_its_own_starts_with_the_key_id(name: str) -> None:
    out = STAGES[name].dumps(b"x")
    assert out[:KEY_ID_SIZE] == RING.primary.id
