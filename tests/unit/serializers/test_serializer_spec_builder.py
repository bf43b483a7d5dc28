"""The spec builder's rules: names, order, safety and the default format."""

from __future__ import annotations

import pytest
from serializer_support import RING

from vaultcache import CachedResponse, ConfigError, SpecError, build_pipeline
from vaultcache.registry import PluginRegistry
from vaultcache.serializers.builder import DEFAULT_FORMAT, parse_spec

BUILT_IN = (
    "aesgcm", "bson", "bz2", "fernet", "gzip", "json", "lzma",
    "msgpack", "pickle", "signed", "toml", "yaml", "zlib", "zstd",
)  # fmt: skip
RESPONSE = CachedResponse(url="https://example.org", status_code=200, content=b"spec")


def _refused(spec: str, *fragments: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        build_pipeline(spec, keys=RING, registry=PluginRegistry(entry_points=False))
    error = caught.value
    for fragment in fragments:
        assert fragment in error.reason, error.reason
    assert error.spec == spec
    assert error.key == "serializer"
    assert isinstance(error, ConfigError)
    assert isinstance(error, ValueError)
    return error


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["brotli", "zstd+brotli+aesgcm", "zstd!", "aes-gcm", "rot13+json"])
def test_unknown_name_is_a_spec_error_listing_the_known(spec: str) -> None:
    error = _refused(spec, "unknown stage")
    listed = str(error).split("known: ", 1)[1]
    for name in BUILT_IN:
        assert name in listed


def test_unknown_name_message_names_the_culprit() -> None:
    error = _refused("zstd+brotli+aesgcm", "'brotli'")
    assert str(error).startswith("key 'serializer': serializer spec 'zstd+brotli+aesgcm'")


@pytest.mark.parametrize("spec", ["Signed+ZSTD+Fernet", "SIGNED+zstd+FERNET", "sIgNeD+ZsTd+FeRnEt"])
def test_names_are_case_insensitive(spec: str) -> None:
    pipeline = build_pipeline(spec, keys=RING)
    assert pipeline.spec == "msgpack+zstd+fernet"
    assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE


def test_spaces_around_names_are_ignored() -> None:
    assert build_pipeline(" zstd +  aesgcm ", keys=RING).spec == "msgpack+zstd+aesgcm"


@pytest.mark.parametrize("spec", ["", " ", "\t\n"])
def test_empty_spec_is_a_spec_error(spec: str) -> None:
    _refused(spec, "at least one stage")


@pytest.mark.parametrize("spec", ["zstd++aesgcm", "+zstd", "zstd+", "+", "zstd+ +aesgcm"])
def test_empty_part_is_a_spec_error(spec: str) -> None:
    _refused(spec, "empty stage name")


@pytest.mark.parametrize("spec", [None, 3, b"zstd"], ids=repr)
def test_spec_that_is_not_text_is_a_spec_error(spec: object) -> None:
    with pytest.raises(SpecError):
        build_pipeline(spec, keys=RING)  # type: ignore[arg-type]


def test_parse_spec_lowercases_and_splits() -> None:
    assert parse_spec(" Signed + ZSTD+fernet") == ["signed", "zstd", "fernet"]


# -- the default format -----------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["zstd", "signed", "aesgcm", "zstd+aesgcm", "signed+zstd"])
def test_default_format_is_prepended(spec: str) -> None:
    pipeline = build_pipeline(spec, keys=RING)
    assert DEFAULT_FORMAT == "msgpack"
    assert pipeline.spec == f"msgpack+{spec}"
    assert pipeline.stages[0].name == "msgpack"


@pytest.mark.parametrize("spec", ["json", "yaml+zstd", "toml+gzip", "bson", "msgpack+zstd"])
def test_explicit_format_is_not_doubled(spec: str) -> None:
    assert build_pipeline(spec).spec == spec


def test_specs_without_keys_need_no_key_source(monkeypatch: pytest.MonkeyPatch) -> None:
    # No stage needs keys, so none are loaded (nor a key file created).
    import vaultcache.serializers.builder as builder

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("keys were loaded")

    monkeypatch.setattr(builder, "key_ring_for", fail)
    for spec in ("zstd", "json+gzip", "yaml+bz2", "lzma"):
        build_pipeline(spec)


# -- unsafe and pointless specs ---------------------------------------------------------------


@pytest.mark.parametrize("spec", ["pickle", "pickle+zstd", "pickle+gzip+zlib", "pickle+bz2"])
def test_pickle_without_authentication_is_a_spec_error(spec: str) -> None:
    _refused(spec, "'pickle' can run code", "pickle+signed")


@pytest.mark.parametrize(
    "spec", ["pickle+signed", "pickle+zstd+aesgcm", "pickle+fernet", "pickle+signed+zstd"]
)
def test_pickle_behind_authentication_is_accepted(spec: str) -> None:
    pipeline = build_pipeline(spec, keys=RING)
    assert pipeline.spec == spec
    assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE


@pytest.mark.parametrize("spec", ["signed+pickle", "zstd+json", "aesgcm+pickle", "json+yaml"])
def test_format_after_another_stage_is_a_spec_error(spec: str) -> None:
    _refused(spec, "must be the first stage")


@pytest.mark.parametrize("spec", ["aesgcm+zstd", "fernet+gzip", "signed+aesgcm+lzma"])
def test_compression_after_encryption_is_a_spec_error(spec: str) -> None:
    _refused(spec, "after encryption gains nothing", "put compression before encryption")


@pytest.mark.parametrize("spec", ["aesgcm+fernet", "fernet+aesgcm", "zstd+aesgcm+fernet"])
def test_two_encryption_stages_are_a_spec_error(spec: str) -> None:
    _refused(spec, "more than one encryption stage")


@pytest.mark.parametrize("spec", ["zstd+gzip", "gzip+zlib+aesgcm", "bz2+lzma"])
def test_two_compression_stages_are_a_spec_error(spec: str) -> None:
    _refused(spec, "more than one compression stage")


@pytest.mark.parametrize(
    ("spec", "name"),
    [("zstd+zstd", "zstd"), ("signed+signed", "signed"), ("json+json", "json"),
     ("aesgcm+aesgcm", "aesgcm"), ("msgpack+zstd+msgpack", "msgpack")],
)  # fmt: skip
def test_duplicate_stage_is_a_spec_error(spec: str, name: str) -> None:
    # A repeated compression or encryption stage is reported as two of that kind.
    reason = _refused(spec).reason
    assert f"stage {name!r} appears twice" in reason or "more than one" in reason


def test_compression_after_signing_is_fine() -> None:
    # Only encryption makes later compression pointless.
    assert build_pipeline("signed+zstd", keys=RING).spec == "msgpack+signed+zstd"
