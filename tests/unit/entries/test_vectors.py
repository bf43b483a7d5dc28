"""The entry-format test vectors (tests/vectors/entries.json, described in docs/format.md)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from vaultcache.backends import MemoryStorage, memory_cache
from vaultcache.crypto_keys import KeyRing
from vaultcache.serializers import build_pipeline

VECTORS = Path(__file__).parents[2] / "vectors"
DATA = json.loads((VECTORS / "entries.json").read_text())


def _builder() -> Any:
    spec = importlib.util.spec_from_file_location("build_vectors", VECTORS / "build_vectors.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_vector_reads_back_to_the_expected_response(case: dict[str, Any]) -> None:
    # A cache configured with another spec: the entry's header alone says how to read it.
    # (An unauthenticated entry is read only by a cache whose own spec is unauthenticated.)
    head = base64.b64decode(case["head"])
    reader = "zstd+aesgcm" if b" key=- " not in head else "zstd"
    cache = memory_cache()
    cache.serializer = build_pipeline(reader, keys=KeyRing([DATA["key"]]))
    cache.storage[case["cache_key"]] = head
    for key, record in case["chunks"].items():
        cache.chunk_storage[key] = base64.b64decode(record)

    response = cache.get_response(case["cache_key"])

    assert response is not None
    assert response.url == case["expect"]["url"]
    assert response.status_code == case["expect"]["status"]
    body = response.content
    assert len(body) == case["expect"]["body"]["size"]
    assert hashlib.sha256(body).hexdigest() == case["expect"]["body"]["sha256"]
    assert head.split(b"\n", 1)[0].endswith(f"body={case['expect']['layout']}".encode())


def test_deterministic_vectors_are_written_byte_for_byte() -> None:
    built = {case["name"]: case for case in _builder().build()}
    for case in DATA["cases"]:
        if case["deterministic"]:
            assert built[case["name"]] == case, case["name"]


def test_a_vector_under_another_key_is_kept_not_read() -> None:
    case = DATA["cases"][0]
    cache = memory_cache()
    cache.serializer = build_pipeline(
        "zstd+aesgcm", keys=KeyRing([base64.urlsafe_b64encode(bytes(32)).decode()])
    )
    cache.storage[case["cache_key"]] = base64.b64decode(case["head"])

    assert cache.get_response(case["cache_key"]) is None
    assert case["cache_key"] in cache.storage  # kept: the right key reads it
    assert cache.stats.kept == 1
    assert isinstance(cache.storage, MemoryStorage)
