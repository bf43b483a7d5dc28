"""Build the entry-format test vectors: ``python tests/vectors/build_vectors.py > entries.json``.

Deterministic cases (fixed key, nonces, entry ids and times) must come out byte for byte as
tests/vectors/entries.json holds them; the Fernet case cannot (Fernet picks its own IV and
time), so the file keeps the bytes it once wrote and the test only reads them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import sys
from datetime import UTC, datetime
from typing import Any

from vaultcache.crypto_keys import KeyRing
from vaultcache.entries import BodyWriter, EntryHeader, RecordCodec
from vaultcache.entries.records import meta_context
from vaultcache.entries.stored import chunk_key, frame
from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.serializers import SerializerPipeline
from vaultcache.serializers.stages.compression import ZstdStage
from vaultcache.serializers.stages.encryption import AESGCMStage, FernetStage
from vaultcache.serializers.stages.formats import format_stage
from vaultcache.serializers.stages.signing import SignedStage

#: A fixed key, for these vectors only.
KEY = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")
CACHE_KEY = "0123456789abcdef0123456789abcdef"
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SMALL_CHUNKS = 4096  # so that a small vector has several chunks


def counting_nonces() -> Any:
    counter = itertools.count()
    return lambda size: next(counter).to_bytes(size, "big")


def response(body: bytes) -> CachedResponse:
    return CachedResponse(
        url="https://example.org/vector",
        status_code=200,
        reason="OK",
        headers={"Content-Type": "application/octet-stream"},
        content=body,
        created_at=CREATED,
        request=CachedRequest(method="GET", url="https://example.org/vector"),
        cache_key=CACHE_KEY,
    )


def build_case(
    name: str,
    pipeline: SerializerPipeline,
    body: bytes,
    entry_id: str,
    *,
    chunked: bool,
    deterministic: bool = True,
) -> dict[str, Any]:
    ring = pipeline.key_ring
    key = ring.primary if ring is not None else None
    header = EntryHeader(pipeline.spec, key.hex_id if key else None, entry_id=entry_id)
    codec = RecordCodec(pipeline, key)
    stored: dict[str, bytes] = {}

    def put(index: int, record: bytes) -> None:
        stored[chunk_key(CACHE_KEY, entry_id, index)] = record

    writer = BodyWriter(
        codec, header, put if chunked else None, chunk_size=SMALL_CHUNKS, inline_limit=SMALL_CHUNKS
    )
    writer.write(body)
    layout, inline = writer.finish()
    header = header.with_body(layout)
    line = header.encode()
    meta = codec.seal_meta(response(inline), meta_context(line))
    head = line + frame(meta) + b"".join(frame(r) for r in writer.packed)
    return {
        "name": name,
        "spec": pipeline.spec,
        "cache_key": CACHE_KEY,
        "deterministic": deterministic,
        "head": base64.b64encode(head).decode("ascii"),
        "chunks": {k: base64.b64encode(v).decode("ascii") for k, v in stored.items()},
        "expect": {
            "url": "https://example.org/vector",
            "status": 200,
            "body": {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()},
            "layout": str(layout),
        },
    }


def build() -> list[dict[str, Any]]:
    ring = KeyRing([KEY])
    body = bytes(range(256)) * 40  # 10,240 bytes: three chunks of at most 4 KiB
    aesgcm = SerializerPipeline(
        [format_stage("msgpack"), AESGCMStage(ring, nonces=counting_nonces())]
    )
    signed = SerializerPipeline([format_stage("json"), SignedStage(ring)])
    plain = SerializerPipeline([format_stage("msgpack")])
    fernet = SerializerPipeline([format_stage("msgpack"), ZstdStage(), FernetStage(ring)])
    return [
        build_case("aesgcm inline", aesgcm, b"hello, archive", "00" * 16, chunked=True),
        build_case("aesgcm chunks", aesgcm, body, "11" * 16, chunked=True),
        build_case("aesgcm packed", aesgcm, body, "22" * 16, chunked=False),
        build_case("signed json inline", signed, b"signed body", "33" * 16, chunked=True),
        build_case("unauthenticated msgpack", plain, b"plain body", "44" * 16, chunked=True),
        build_case("fernet chunks", fernet, body, "55" * 16, chunked=True, deterministic=False),
    ]


if __name__ == "__main__":
    json.dump({"key": KEY, "cases": build()}, sys.stdout, indent=1)
    sys.stdout.write("\n")
