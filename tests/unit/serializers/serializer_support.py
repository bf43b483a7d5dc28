"""Strategies, keys and helpers shared by the serializer tests (not a test module)."""

from __future__ import annotations

import random
import string
from datetime import UTC, timedelta
from typing import Any

from hypothesis import strategies as st

from vaultcache import CachedRequest, CachedResponse, KeyRing, build_pipeline, generate_key
from vaultcache.crypto_keys import KEY_ID_SIZE, Key
from vaultcache.registry import get_registry
from vaultcache.serializers import SerializerPipeline

__all__ = [
    "AUTH_STAGES",
    "COMPRESSION_STAGES",
    "FORMATS",
    "HEADER_SIZE",
    "KEY_TEXT",
    "RING",
    "SPECS",
    "big_body",
    "build",
    "flip",
    "key",
    "responses",
    "stage",
]

FORMATS = ("msgpack", "json", "yaml", "pickle", "bson", "toml")
COMPRESSION_STAGES = ("zstd", "gzip", "zlib", "bz2", "lzma")
AUTH_STAGES = ("signed", "fernet", "aesgcm")
#: Pipelines from the spec, each ending in its authenticating stage unless noted.
SPECS = (
    "signed+zstd+fernet",
    "zstd+aesgcm",
    "json+gzip+signed",
    "pickle+lzma+aesgcm",
    "yaml+bz2+fernet",
    "toml+zlib+signed",
    "bson+zstd+aesgcm",
)

#: What a signing or encryption stage used on its own writes before its sealed data: the
#: id of the key that sealed it.
HEADER_SIZE = KEY_ID_SIZE

#: One key for the whole run: tests that need a fresh ring use the `ring` fixture.
KEY_TEXT = generate_key()
RING = KeyRing([KEY_TEXT])

_PIPELINES: dict[tuple[str, KeyRing], SerializerPipeline] = {}


def build(spec: str, keys: KeyRing = RING) -> SerializerPipeline:
    """build_pipeline with explicit keys, memoised (pipelines are immutable)."""
    pipeline = _PIPELINES.get((spec, keys))
    if pipeline is None:
        pipeline = _PIPELINES[spec, keys] = build_pipeline(spec, keys=keys)
    return pipeline


def stage(name: str, keys: KeyRing | None = RING, **options: Any) -> Any:
    """A built-in stage on its own (not bound to any pipeline)."""
    return get_registry().build_stage(name, options, keys)


def key(text: str | None = None) -> Key:
    """A Key object (new and random unless `text` is given)."""
    return Key.from_text(text or generate_key())


def flip(data: bytes, position: int, bit: int) -> bytes:
    """`data` with one bit flipped."""
    tampered = bytearray(data)
    tampered[position] ^= 1 << bit
    return bytes(tampered)


def big_body(size: int, kind: str) -> bytes:
    """A deterministic body: incompressible random bytes, or compressible ASCII text."""
    rng = random.Random(size)
    if kind == "binary":
        return rng.randbytes(size)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 9))) for _ in range(512)]
    text = " ".join(rng.choices(words, k=size // 4 + 1)).encode("ascii")
    return text[:size]


# -- strategies -------------------------------------------------------------------------------

#: Text a real response can hold: any code point that UTF-8 can encode (no lone surrogates).
_CHARS = st.characters(blacklist_categories=("Cs",))
text = st.text(_CHARS, max_size=40)
#: Mapping keys: BSON forbids NUL in keys.
_names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                 min_size=1, max_size=20)  # fmt: skip
headers = st.dictionaries(_names, text, max_size=6)
bodies = st.binary(max_size=2048) | st.text(_CHARS, max_size=512).map(str.encode)
times = st.datetimes(timezones=st.just(UTC))
elapsed = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))

requests_ = st.builds(
    CachedRequest,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]),
    url=text,
    headers=headers,
    body=st.none() | st.binary(max_size=256),
)


def _response(history: st.SearchStrategy[list[CachedResponse]]) -> st.SearchStrategy[Any]:
    return st.builds(
        CachedResponse,
        url=text,
        status_code=st.integers(100, 599),
        reason=text,
        headers=headers,
        content=bodies,
        encoding=st.none() | st.sampled_from(["utf-8", "ISO-8859-1", "ascii"]),
        elapsed=elapsed,
        created_at=times,
        expires=st.none() | times,
        request=requests_,
        history=history,
        cache_key=text,
    )


#: Responses with up to two redirects in their history, as requests produces them.
responses = _response(st.lists(_response(st.just([])), max_size=2))
