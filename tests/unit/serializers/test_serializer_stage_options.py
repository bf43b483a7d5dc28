"""Stage options: checked by name, type and range; a typo is an error, not a default."""

from __future__ import annotations

from typing import Any

import pytest
from serializer_support import RING, stage

from vaultcache import CachedResponse, ConfigError, SpecError, build_pipeline
from vaultcache.serializers.stages.compression import DEFAULT_MAX_SIZE

RESPONSE = CachedResponse(url="https://example.org", status_code=200, content=b"x" * 1000)
LEVELS = {"zstd": (-7, 22), "gzip": (0, 9), "zlib": (0, 9), "bz2": (1, 9), "lzma": (0, 9)}


def test_zstd_level_19_works() -> None:
    pipeline = build_pipeline("zstd", options={"zstd": {"level": 19}})
    assert pipeline.stages[1].level == 19
    assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE


@pytest.mark.parametrize("name", sorted(LEVELS))
def test_every_level_in_range_is_accepted_and_works(name: str) -> None:
    low, high = LEVELS[name]
    for level in range(low, high + 1):
        pipeline = build_pipeline(name, options={name: {"level": level}})
        assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE, level


@pytest.mark.parametrize("name", sorted(LEVELS))
def test_levels_out_of_range_are_config_errors(name: str) -> None:
    low, high = LEVELS[name]
    for level in (low - 1, high + 1, -(10**9), 10**9):
        with pytest.raises(ConfigError) as caught:
            build_pipeline(name, options={name: {"level": level}})
        assert caught.value.key == f"serializer.{name}.level"
        assert "out of range" in str(caught.value)
        assert not isinstance(caught.value, SpecError)


@pytest.mark.parametrize("name", sorted(LEVELS))
def test_max_size_range(name: str) -> None:
    for good in (1, 1024, DEFAULT_MAX_SIZE, 1 << 40):
        assert stage(name, max_size=good).max_size == good
    for bad in (0, -1, (1 << 40) + 1):
        with pytest.raises(ConfigError):
            build_pipeline(name, options={name: {"max_size": bad}})


@pytest.mark.parametrize("value", ["3", 3.0, True, False, None, [3], b"3"], ids=repr)
@pytest.mark.parametrize("option", ["level", "max_size"])
def test_wrong_type_is_a_config_error(option: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        build_pipeline("zstd", options={"zstd": {option: value}})
    assert caught.value.expected == "integer"
    assert caught.value.key == f"serializer.zstd.{option}"


def test_unknown_option_suggests_the_close_one() -> None:
    with pytest.raises(ConfigError) as caught:
        build_pipeline("zstd", options={"zstd": {"levle": 3}})
    message = str(caught.value)
    assert "did you mean 'level'?" in message
    assert "levle" in message
    assert "known: level, max_size" in message
    assert caught.value.key == "serializer.zstd.levle"


def test_unknown_option_without_a_close_one_lists_the_known() -> None:
    with pytest.raises(ConfigError) as caught:
        build_pipeline("gzip", options={"gzip": {"window": 3}})
    assert "did you mean" not in str(caught.value)
    assert "known: level, max_size" in str(caught.value)


def test_options_for_a_stage_not_in_the_spec_are_a_spec_error() -> None:
    with pytest.raises(SpecError) as caught:
        build_pipeline("zstd", options={"gzip": {"level": 3}})
    assert "'gzip'" in caught.value.reason
    assert "not in it" in caught.value.reason


def test_options_for_the_default_format_are_checked_too() -> None:
    # msgpack is in the pipeline (prepended), and takes no options.
    with pytest.raises(ConfigError):
        build_pipeline("zstd", options={"msgpack": {"x": 1}})
    assert build_pipeline("zstd", options={"msgpack": {}}).spec == "msgpack+zstd"


def test_options_must_be_a_table() -> None:
    with pytest.raises(SpecError):
        build_pipeline("zstd", options={"zstd": 19})  # type: ignore[dict-item]


def test_option_stage_names_are_case_insensitive() -> None:
    pipeline = build_pipeline("zstd", options={"ZSTD": {"level": 5}})
    assert pipeline.stages[1].level == 5


@pytest.mark.parametrize("name", ["fernet", "aesgcm", "signed"])
def test_authenticating_stages_take_no_options(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_pipeline(name, keys=RING, options={name: {"key": "x"}})
    assert "takes no options" in str(caught.value)
    assert caught.value.key == f"serializer.{name}.key"
    assert build_pipeline(name, keys=RING, options={name: {}}).spec == f"msgpack+{name}"


@pytest.mark.parametrize("name", ["json", "msgpack", "yaml", "toml", "bson"])
def test_formats_take_no_options(name: str) -> None:
    with pytest.raises(ConfigError):
        build_pipeline(name, options={name: {"indent": 2}})


def test_options_reach_the_right_stage_of_a_longer_pipeline() -> None:
    pipeline = build_pipeline(
        "json+zstd+aesgcm", keys=RING, options={"zstd": {"level": 7, "max_size": 4096}}
    )
    compressor = pipeline.stages[1]
    assert (compressor.level, compressor.max_size) == (7, 4096)
