"""Untrusted bytes: every stage and pipeline raises an EntryError, never anything else.

A reader must turn whatever the store holds into a CachedResponse or a typed error the cache
treats as a miss: random bytes, bytes that start like a real entry, well-formed encodings of
the wrong structure, and pickles that reference code.
"""

from __future__ import annotations

import copy
import copyreg
import json
import os
import pickle
from collections.abc import Callable
from typing import Any

import bson
import msgpack
import pytest
import tomli_w
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from serializer_support import AUTH_STAGES, COMPRESSION_STAGES, FORMATS, SPECS, build, stage

from vaultcache import (
    CachedResponse,
    DecodeError,
    EntryError,
    IntegrityError,
    SerializerPipeline,
)
from vaultcache.serializers import preconf
from vaultcache.serializers.stages.formats import format_stage

GARBAGE = settings(max_examples=100, deadline=None)
BYTE_STAGES = {name: stage(name) for name in COMPRESSION_STAGES + AUTH_STAGES}
FORMAT_PIPELINES = {name: SerializerPipeline([format_stage(name)]) for name in FORMATS}
PIPELINE_SPECS = (*SPECS, "msgpack", "zstd", "json+gzip", "lzma", "yaml+bz2", "toml")
#: What a real stream of each codec starts with.
MAGIC = {
    "zstd": b"\x28\xb5\x2f\xfd",
    "gzip": b"\x1f\x8b\x08\x00",
    "zlib": b"\x78\x9c",
    "bz2": b"BZh9",
    "lzma": b"\xfd7zXZ\x00",
}
RESPONSE = CachedResponse(
    url="https://example.org/r",
    status_code=200,
    reason="OK",
    headers={"Content-Type": "text/plain"},
    content=b"body",
    history=[CachedResponse(url="https://example.org/first", status_code=301)],
)


def _only_entry_errors(load: Callable[[bytes], Any], data: bytes) -> Any:
    """load(data), which may return only a CachedResponse; any non-EntryError fails."""
    try:
        result = load(data)
    except EntryError as exc:
        return exc
    assert isinstance(result, CachedResponse), f"returned {type(result).__name__}"
    return result


# -- random bytes -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BYTE_STAGES))
@GARBAGE
@given(data=st.binary(max_size=512))
def test_bytes_stage_refuses_random_bytes(name: str, data: bytes) -> None:
    with pytest.raises(EntryError):
        BYTE_STAGES[name].loads(data)


@pytest.mark.parametrize("name", AUTH_STAGES)
@GARBAGE
@given(data=st.binary(max_size=512))
def test_auth_stage_refuses_random_bytes_as_unauthentic(name: str, data: bytes) -> None:
    with pytest.raises(IntegrityError):
        BYTE_STAGES[name].loads(data)


@pytest.mark.parametrize("name", AUTH_STAGES)
@GARBAGE
@given(tail=st.binary(max_size=512))
def test_auth_stage_refuses_random_bytes_behind_a_valid_header(name: str, tail: bytes) -> None:
    header = BYTE_STAGES[name].dumps(b"")[:20]
    with pytest.raises(IntegrityError):
        BYTE_STAGES[name].loads(header + tail)


@pytest.mark.parametrize("name", COMPRESSION_STAGES)
@GARBAGE
@given(tail=st.binary(max_size=512))
def test_codec_refuses_random_bytes_behind_its_magic(name: str, tail: bytes) -> None:
    with pytest.raises(DecodeError):
        BYTE_STAGES[name].loads(MAGIC[name] + tail)


@pytest.mark.parametrize("name", FORMATS)
@GARBAGE
@given(data=st.binary(max_size=512))
def test_format_refuses_random_bytes(name: str, data: bytes) -> None:
    with pytest.raises(DecodeError):
        FORMAT_PIPELINES[name].loads(data)


@pytest.mark.parametrize("spec", PIPELINE_SPECS)
@GARBAGE
@given(data=st.binary(max_size=512))
def test_pipeline_refuses_random_bytes(spec: str, data: bytes) -> None:
    pipeline = build(spec)
    with pytest.raises(EntryError):
        pipeline.loads(data)


@pytest.mark.parametrize("spec", SPECS)
@GARBAGE
@given(tail=st.binary(max_size=512))
def test_pipeline_refuses_random_bytes_behind_its_own_header(spec: str, tail: bytes) -> None:
    pipeline = build(spec)
    header = pipeline.dumps(RESPONSE)[:20]
    with pytest.raises(IntegrityError):
        pipeline.loads(header + tail)


@pytest.mark.parametrize("name", ["msgpack", "json", "yaml", "zstd", "gzip"])
@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=200))
def test_pipeline_refuses_random_text(name: str, text: str) -> None:
    with pytest.raises(EntryError):
        build(name).loads(text.encode("utf-8", "surrogatepass"))


# -- well-formed encodings of the wrong structure ---------------------------------------------

_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
_plain = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "msgpack": lambda value: msgpack.packb(value, use_bin_type=True),
    "json": lambda value: json.dumps(value).encode(),
    "yaml": lambda value: yaml.safe_dump(value).encode(),
    "pickle": lambda value: pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL),
}


@pytest.mark.parametrize("name", sorted(_ENCODERS))
@settings(max_examples=100, deadline=None)
@given(value=_plain)
def test_format_reads_plain_data_as_a_response_or_refuses_it(name: str, value: Any) -> None:
    try:
        encoded = _ENCODERS[name](value)
    except (TypeError, ValueError, OverflowError, UnicodeEncodeError):
        return  # not encodable in this format (lone surrogates, say)
    result = _only_entry_errors(FORMAT_PIPELINES[name].loads, encoded)
    assert isinstance(result, DecodeError)


def _unstructured(name: str) -> dict[str, Any]:
    converter = getattr(preconf, f"{name}_converter")
    return copy.deepcopy(converter.dumps(RESPONSE))


def _encode(name: str, value: Any) -> bytes:
    """`value` as the format stage of `name` would have written it."""
    if name == "bson":
        return bson.encode(value)
    if name == "toml":
        return tomli_w.dumps(value).encode()
    return _ENCODERS[name](value)


def _entry(name: str, encoded: bytes) -> tuple[SerializerPipeline, bytes]:
    """A built pipeline for the format, and `encoded` passed through its later stages."""
    pipeline = build("pickle+signed" if name == "pickle" else name)
    for later in pipeline.stages[1:]:
        encoded = later.dumps(encoded)
    return pipeline, encoded


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def mutate(document: dict[str, Any]) -> None:
        for part in parents:
            document = document[part]
        document[last] = value

    return mutate


def _delete(field: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.pop(field)


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "status_code is text": _set("status_code", "x"),
    "status_code is a bool": _set("status_code", True),
    "status_code is a float": _set("status_code", 200.0),
    "status_code missing": _delete("status_code"),
    "created_at missing": _delete("created_at"),
    "created_at not a time": _set("created_at", "yesterday"),
    "created_at a number": _set("created_at", 1700000000),
    "expires not a time": _set("expires", "never"),
    "headers a list": _set("headers", ["a", "b"]),
    "header value a number": _set("headers", {"Content-Length": 5}),
    "content a number": _set("content", 12345),
    "elapsed text": _set("elapsed", "1s"),
    "elapsed a bool": _set("elapsed", True),
    "url a number": _set("url", 5),
    "reason a list": _set("reason", ["OK"]),
    "encoding a number": _set("encoding", 8),
    "cache_key a mapping": _set("cache_key", {"a": "b"}),
    "request text": _set("request", "GET /"),
    "request method a number": _set("request.method", 1),
    "request headers a list": _set("request.headers", [1]),
    "history a mapping": _set("history", {"a": "b"}),
    "history of text": _set("history", ["x"]),
    "history too long": lambda d: d.__setitem__("history", [copy.deepcopy(d)] * 31),
    "history nested": lambda d: d["history"][0].__setitem__(
        "history", [copy.deepcopy(d["history"][0])]
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
@pytest.mark.parametrize("name", FORMATS)
def test_wrong_structure_is_a_decode_error(name: str, mutation: str) -> None:
    document = _unstructured(name)
    MUTATIONS[mutation](document)
    try:
        encoded = _encode(name, copy.deepcopy(document))
    except Exception:
        pytest.skip(f"{name} cannot hold this structure")
    pipeline, entry = _entry(name, encoded)
    with pytest.raises(DecodeError) as caught:
        pipeline.loads(entry)
    assert caught.value.stage == name


@pytest.mark.parametrize("name", FORMATS)
def test_unmutated_document_is_read(name: str) -> None:
    # The control for the test above.
    pipeline, entry = _entry(name, _encode(name, _unstructured(name)))
    assert pipeline.loads(entry) == RESPONSE


@pytest.mark.parametrize("name", ["msgpack", "json", "yaml", "pickle"])
@pytest.mark.parametrize("value", [[1, 2], [], 42, "text", None, 1.5, True], ids=repr)
def test_document_that_is_not_a_mapping_is_a_decode_error(name: str, value: Any) -> None:
    pipeline, entry = _entry(name, _encode(name, value))
    with pytest.raises(DecodeError):
        pipeline.loads(entry)


@pytest.mark.parametrize(
    "document",
    [b'{"status_code": "x"}', b"[1, 2]", b'{"status_code": 200}', b"{}", b"null", b'"x"'],
)
def test_json_examples_from_the_spec_are_decode_errors(document: bytes) -> None:
    for pipeline in (build("json"), build("json+gzip")):
        entry = document if pipeline.spec == "json" else pipeline.stages[1].dumps(document)
        with pytest.raises(DecodeError):
            pipeline.loads(entry)


@pytest.mark.parametrize("name", ["json", "yaml", "toml"])
def test_invalid_utf8_is_a_decode_error(name: str) -> None:
    with pytest.raises(DecodeError):
        build(name).loads(b"\xff\xfe\x00garbage")


@pytest.mark.parametrize("name", ["json", "msgpack", "yaml", "toml", "pickle"])
def test_deep_nesting_is_a_decode_error(name: str) -> None:
    depth = 100_000
    encoded = {
        "json": b"[" * depth + b"]" * depth,
        "msgpack": b"\x91" * depth + b"\xc0",
        "yaml": b"[" * depth + b"]" * depth,
        "toml": b"a = " + b"[" * depth + b"]" * depth,
        "pickle": b"\x80\x05" + b"]" * depth + b"a" * (depth - 1) + b".",
    }[name]
    with pytest.raises(DecodeError):
        FORMAT_PIPELINES[name].loads(encoded)


# -- pickles that reference code --------------------------------------------------------------

CALLED: list[str] = []


def record_call(what: str) -> None:
    """What a malicious pickle would run; the tests check it never is."""
    CALLED.append(what)


class Exploit:
    """Unpickling an instance would call record_call."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (record_call, ("exploit ran",))


@pytest.fixture(autouse=True)
def _nothing_called() -> Any:
    CALLED.clear()
    yield
    assert CALLED == []


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize(
    "value",
    [os.system, Exploit(), RESPONSE, {"created_at": Exploit()}, CachedResponse, bytearray(b"x")],
    ids=["os.system", "reduce", "CachedResponse", "nested", "class", "bytearray"],
)
def test_hand_built_pickle_format_refuses_globals(value: Any, protocol: int) -> None:
    pickled = pickle.dumps(value, protocol=protocol)
    with pytest.raises(DecodeError) as caught:
        SerializerPipeline([format_stage("pickle")]).loads(pickled)
    assert caught.value.stage == "pickle"


@pytest.mark.parametrize("spec", ["pickle+signed", "pickle+zstd+aesgcm", "pickle+lzma+aesgcm"])
def test_authenticated_pickle_still_refuses_globals(spec: str) -> None:
    # Even an entry that authenticates (written by someone holding the key) runs no code.
    pipeline, entry = _entry(spec.split("+", 1)[0], b"")
    pipeline = build(spec)
    entry = pickle.dumps(Exploit())
    for later in pipeline.stages[1:]:
        entry = later.dumps(entry)
    with pytest.raises(DecodeError):
        pipeline.loads(entry)


def test_pickle_extension_registry_is_refused() -> None:
    code = 0xF1
    copyreg.add_extension(__name__, "record_call", code)
    try:
        # PROTO 2, EXT1 code, STOP: a global looked up through copyreg's registry.
        with pytest.raises(DecodeError):
            FORMAT_PIPELINES["pickle"].loads(b"\x80\x02\x82" + bytes([code]) + b".")
    finally:
        copyreg.remove_extension(__name__, "record_call", code)


@pytest.mark.parametrize(
    "pickled",
    [
        b"\x80\x02K\x01Q.",
        b"P0\n.",
        b"\x80\x02cos\nsystem\n.",
        b"\x80\x04\x8c\x02os\x8c\x06system\x93.",
    ],
    ids=["BINPERSID", "PERSID", "GLOBAL", "STACK_GLOBAL"],
)
def test_pickle_opcodes_that_reach_outside_are_refused(pickled: bytes) -> None:
    with pytest.raises(DecodeError):
        FORMAT_PIPELINES["pickle"].loads(pickled)


def test_plain_pickle_of_a_response_document_is_read() -> None:
    # What the pickle format writes needs no globals, so refusing them costs nothing.
    document = preconf.pickle_converter.dumps(RESPONSE)
    for protocol in range(3, pickle.HIGHEST_PROTOCOL + 1):  # 2 pickles bytes via a global
        loaded = FORMAT_PIPELINES["pickle"].loads(pickle.dumps(document, protocol=protocol))
        assert loaded == RESPONSE
