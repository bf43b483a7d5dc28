"""``header_fields``: stored in order by every encoding, derived for entries written without
it, and bounded when read (an entry is untrusted input)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serializer_support import SPECS, build

from vaultcache import CachedResponse
from vaultcache.errors import DecodeError, EncodeError
from vaultcache.models.response import MAX_HEADER_FIELDS
from vaultcache.serializers import preconf

COOKIES = [
    ("Set-Cookie", "a=1; Path=/"),
    ("set-cookie", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
]
CONVERTERS = [
    preconf.json_converter,
    preconf.msgpack_converter,
    preconf.yaml_converter,
    preconf.bson_converter,
    preconf.toml_converter,
    preconf.pickle_converter,
]


def _response(**fields: Any) -> CachedResponse:
    return CachedResponse(url="https://example.org/", status_code=200, **fields)


def _cookies() -> CachedResponse:
    joined = ", ".join(value for _, value in COOKIES)
    return _response(
        headers={"Z-Last": "z", "Set-Cookie": joined},
        header_fields=[("Z-Last", "z"), *COOKIES],
    )


@pytest.mark.parametrize("spec", SPECS)
def test_repeated_fields_round_trip_in_order(spec: str) -> None:
    pipeline = build(spec)
    response = _cookies()

    loaded = pipeline.loads(pipeline.dumps(response))

    assert loaded.header_fields == [("Z-Last", "z"), *COOKIES]
    assert loaded.headers["SET-COOKIE"] == response.headers["set-cookie"]
    assert loaded == response


@pytest.mark.parametrize("converter", CONVERTERS, ids=lambda c: c.name)
def test_entries_written_without_fields_derive_them_from_headers(converter: Any) -> None:
    data = converter.dumps(_response(headers={"B": "2", "a": "1"}))
    del data["header_fields"]

    loaded = converter.loads(data)

    assert loaded.header_fields == list(loaded.headers.items())
    assert sorted(loaded.header_fields) == [("B", "2"), ("a", "1")]


pairs = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=30)


@settings(max_examples=40, deadline=None)
@given(fields=pairs)
def test_any_text_fields_round_trip(fields: list[tuple[str, str]]) -> None:
    response = _response(header_fields=fields)
    for converter in (preconf.json_converter, preconf.msgpack_converter):
        assert converter.loads(converter.dumps(response)).header_fields == fields


@pytest.mark.parametrize(
    "stored",
    [
        [["A", "1"]] * (MAX_HEADER_FIELDS + 1),
        {"A": "1"},
        "A: 1",
        [["A", "1", "extra"]],
        [["A"]],
        [["A", 1]],
        [[b"A", "1"]],
        [["A", None]],
        ["A1"],
    ],
    ids=["too many", "mapping", "text", "triple", "single", "int", "bytes", "none", "string"],
)
def test_malformed_fields_are_refused(stored: Any) -> None:
    data = preconf.msgpack_converter.dumps(_response())
    data["header_fields"] = stored
    with pytest.raises((TypeError, ValueError)):
        preconf.msgpack_converter.loads(data)


def test_a_malformed_entry_is_a_decode_error_in_a_pipeline() -> None:
    pipeline = build("json+gzip+signed")
    # Written as given (only the count is checked on writing), refused on reading.
    data = pipeline.dumps(_response(header_fields=[("A", 7)]))
    with pytest.raises(DecodeError):
        pipeline.loads(data)


def test_a_response_with_too_many_fields_is_not_written() -> None:
    response = _response(header_fields=[("X", "1")] * (MAX_HEADER_FIELDS + 1))
    with pytest.raises(EncodeError):
        build("zstd+aesgcm").dumps(response)
