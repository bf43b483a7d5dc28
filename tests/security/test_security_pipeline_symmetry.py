"""What a pipeline's dumps accepts, its loads gives back: CachedResponses only.

A careless caller (or a plugin) that writes plain data through a pipeline gets an
EncodeError at once, instead of an entry that every later read refuses.
"""

from __future__ import annotations

from typing import Any

import pytest

from vaultcache import CachedResponse, DecodeError, EncodeError, KeyRing, generate_key
from vaultcache.serializers import build_pipeline, preconf

RING = KeyRing([generate_key()])
SPECS = ("msgpack", "json", "yaml", "bson", "toml", "pickle+signed", "json+zstd+aesgcm")
PLAIN: tuple[Any, ...] = ({"url": "https://example.org/", "status_code": 200}, [1, 2], "text", 7)
CONVERTERS = ("json_converter", "msgpack_converter", "yaml_converter", "pickle_converter")


@pytest.mark.parametrize("value", PLAIN, ids=lambda value: type(value).__name__)
@pytest.mark.parametrize("spec", SPECS)
def test_a_pipeline_refuses_to_write_what_it_would_not_read(spec: str, value: Any) -> None:
    pipeline = build_pipeline(spec, keys=RING)

    with pytest.raises(EncodeError):
        pipeline.dumps(value)


@pytest.mark.parametrize("spec", SPECS)
def test_a_response_round_trips(spec: str) -> None:
    pipeline = build_pipeline(spec, keys=RING)
    response = CachedResponse(url="https://example.org/", status_code=200, content=b"body")

    assert pipeline.loads(pipeline.dumps(response)) == response


@pytest.mark.parametrize("value", PLAIN, ids=lambda value: type(value).__name__)
@pytest.mark.parametrize("name", CONVERTERS)
def test_a_converter_stage_is_symmetric_too(name: str, value: Any) -> None:
    """The preconf converters (for hand-built pipelines) take and give responses only."""
    converter = getattr(preconf, name)

    with pytest.raises(EncodeError):
        converter.dumps(value)
    if not isinstance(value, dict):
        with pytest.raises(DecodeError):
            converter.loads(value)
