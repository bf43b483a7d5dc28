"""Round trips through pipelines: built from spec strings, and built by hand."""

from __future__ import annotations

import gzip
import json
import tomllib
from datetime import timedelta
from typing import Any

import bson
import msgpack
import pytest
import requests
import tomli_w
import yaml
from hypothesis import given, settings
from serializer_support import RING, SPECS, big_body, build, responses, stage

from vaultcache import CachedResponse, SerializerPipeline, Stage, build_pipeline
from vaultcache.serializers import UnsafePipelineWarning, preconf
from vaultcache.serializers.stages.formats import format_stage

MiB = 1024 * 1024
#: The spec's pipelines, plus a few short ones.
ALL_SPECS = (*SPECS, "msgpack", "zstd", "signed", "aesgcm", "fernet", "pickle+signed")


@pytest.mark.parametrize("spec", ALL_SPECS)
@settings(max_examples=25, deadline=None)
@given(response=responses)
def test_built_pipeline_round_trips(spec: str, response: CachedResponse) -> None:
    pipeline = build(spec)
    data = pipeline.dumps(response)
    assert isinstance(data, bytes)
    assert pipeline.loads(data) == response


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize(("size", "kind"), [(0, "binary"), (2 * MiB, "text"), (3 * MiB, "binary")])
def test_built_pipeline_round_trips_large_bodies(spec: str, size: int, kind: str) -> None:
    response = CachedResponse(url="https://example.org/big", status_code=200,
                              content=big_body(size, kind))  # fmt: skip
    pipeline = build(spec)
    assert pipeline.loads(pipeline.dumps(response)) == response


@pytest.mark.parametrize("spec", SPECS)
def test_built_pipeline_names_its_stages(spec: str) -> None:
    pipeline = build(spec)
    names = spec.split("+")
    expected = (
        names if names[0] in {"json", "pickle", "yaml", "toml", "bson"} else ["msgpack", *names]
    )
    if names[-1] in {"aesgcm", "fernet"}:  # their authentication covers signed's: left out
        expected = [name for name in expected if name != "signed"]
    assert pipeline.spec == "+".join(expected)
    assert [s.name for s in pipeline.stages] == expected
    assert pipeline.is_binary


# -- hand-built pipelines ---------------------------------------------------------------------

GZIP = Stage(gzip, dumps="compress", loads="decompress")


def _unsafe_pipeline(stages: list[Any]) -> SerializerPipeline:
    with pytest.warns(UnsafePipelineWarning):
        return SerializerPipeline(stages)


HAND_BUILT = {
    "pickle+gzip": _unsafe_pipeline([__import__("pickle"), GZIP]),
    "json+utf8_encoder+gzip": SerializerPipeline(
        [preconf.json_converter, json, preconf.utf8_encoder, GZIP]
    ),
    "json+str.encode+gzip": SerializerPipeline(
        [preconf.json_converter, json, Stage(dumps=str.encode, loads=bytes.decode), GZIP]
    ),
    "msgpack module": SerializerPipeline([preconf.msgpack_converter, msgpack]),
    "yaml safe_dump": SerializerPipeline(
        [preconf.yaml_converter, Stage(yaml, dumps="safe_dump", loads="safe_load")]
    ),
    "bson module": SerializerPipeline(
        [preconf.bson_converter, Stage(bson, dumps="encode", loads="decode")]
    ),
    "toml modules": SerializerPipeline(
        [preconf.toml_converter, Stage(dumps=tomli_w.dumps, loads=tomllib.loads)]
    ),
    "built-in stage objects": SerializerPipeline(
        [format_stage("msgpack"), stage("zstd"), stage("signed"), stage("aesgcm")]
    ),
}


@pytest.mark.parametrize("name", HAND_BUILT)
@settings(max_examples=25, deadline=None)
@given(response=responses)
def test_hand_built_pipeline_round_trips(name: str, response: CachedResponse) -> None:
    pipeline = HAND_BUILT[name]
    assert pipeline.loads(pipeline.dumps(response)) == response


def test_the_spec_examples_of_hand_built_pipelines_write_gzip() -> None:
    response = CachedResponse(url="https://example.org", status_code=200, content=b"hi")
    for name in ("pickle+gzip", "json+utf8_encoder+gzip", "json+str.encode+gzip"):
        data = HAND_BUILT[name].dumps(response)
        assert data[:2] == b"\x1f\x8b", name
        assert HAND_BUILT[name].loads(data).content == b"hi"
    # The json pipeline writes plain JSON inside the gzip stream, body as base64.
    document = json.loads(gzip.decompress(HAND_BUILT["json+utf8_encoder+gzip"].dumps(response)))
    assert document["content"] == "aGk="
    assert document["status_code"] == 200


def test_hand_built_pipeline_of_built_in_stages_matches_the_spec_string() -> None:
    # A pipeline's spec is its stages' names, so the same stages built either way are the
    # same pipeline to an entry's header, and read each other's entries.
    hand_built = SerializerPipeline([format_stage("msgpack"), stage("zstd"), stage("aesgcm")])
    built = build("zstd+aesgcm")
    assert hand_built.spec == built.spec == "msgpack+zstd+aesgcm"
    assert hand_built.chunkable
    response = CachedResponse(url="https://example.org", status_code=200, content=b"x" * 99)
    assert built.loads(hand_built.dumps(response)) == response
    assert hand_built.loads(built.dumps(response)) == response


def test_case_and_spaces_do_not_change_the_pipeline() -> None:
    response = CachedResponse(url="https://example.org", status_code=200, content=b"x")
    written = build("signed+zstd+fernet").dumps(response)
    assert build("Signed+ZSTD+Fernet").loads(written) == response
    assert build(" signed + zstd + fernet ").loads(written) == response


# -- redirects, as requests records them ------------------------------------------------------


def _redirect_chain(length: int) -> requests.Response:
    """The final response of `length` redirects, with history as requests.Session sets it:
    the final response's history is every redirect, and each redirect's own history is the
    redirects before it."""
    chain: list[requests.Response] = []
    for number in range(length + 1):
        response = requests.Response()
        response.url = f"https://example.org/{number}"
        response.status_code = 200 if number == length else 302
        response.reason = "OK" if number == length else "Found"
        response.headers["Location"] = f"/{number + 1}"
        response._content = f"body {number}".encode()
        response.elapsed = timedelta(milliseconds=number)
        response.request = requests.Request("GET", response.url).prepare()
        response.history = chain[:]
        chain.append(response)
    return chain[-1]


@pytest.mark.parametrize("spec", [*SPECS, "msgpack"])
@pytest.mark.parametrize("redirects", [1, 2, 5])
def test_response_after_redirects_round_trips(spec: str, redirects: int) -> None:
    cached = CachedResponse.from_response(_redirect_chain(redirects), cache_key="k")
    assert len(cached.history) == redirects
    loaded = build(spec).loads(build(spec).dumps(cached))
    assert loaded.url == cached.url
    assert loaded.content == cached.content
    assert [(r.url, r.status_code, r.content) for r in loaded.history] == [
        (r.url, r.status_code, r.content) for r in cached.history
    ]
    # A redirect's own history (a prefix of the outer list) is not stored.
    assert all(r.history == [] for r in loaded.history)


@pytest.mark.parametrize("spec", ["signed+zstd+fernet", "zstd+aesgcm", "json+gzip+signed"])
def test_one_pipeline_is_safe_to_share_between_threads(spec: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pipeline = build_pipeline(spec, keys=RING)  # a fresh pipeline: no warmed-up caches

    def round_trip(number: int) -> bool:
        response = CachedResponse(url=f"https://example.org/{number}", status_code=200,
                                  content=big_body(1000 + number * 97, "text"))  # fmt: skip
        return all(pipeline.loads(pipeline.dumps(response)) == response for _ in range(10))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, range(32)))


@pytest.mark.parametrize(
    "reader",
    [
        __import__("pickle"),
        Stage(__import__("pickle")),
        Stage(dumps=__import__("pickle").dumps, loads=__import__("pickle").loads),
    ],
    ids=["module", "stage", "functions"],
)
def test_hand_built_stdlib_pickle_without_authentication_warns(reader: Any) -> None:
    with pytest.warns(UnsafePipelineWarning, match="pickle\\+signed"):
        SerializerPipeline([reader, GZIP])
    with pytest.warns(UnsafePipelineWarning):
        SerializerPipeline([stage("aesgcm"), reader])  # authenticated before, not after


def test_hand_built_stdlib_pickle_behind_authentication_does_not_warn() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipeline = SerializerPipeline([__import__("pickle"), GZIP, stage("signed")])
    response = CachedResponse(url="https://example.org", status_code=200, content=b"hi")
    assert pipeline.loads(pipeline.dumps(response)).content == b"hi"
