"""Property tests: any file or variable content gives Settings or a ConfigError, nothing else."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import attrs
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultcache.config import ENVIRONMENT_VARIABLES, TOML_NAME, Settings, load_settings
from vaultcache.errors import ConfigError

SENTINEL = "Sentinel-Value-Q7"
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _names(cl: type = Settings) -> set[str]:
    names: set[str] = set()
    for field in attrs.fields(cl):
        names.add(field.name)
        if attrs.has(field.type):
            names |= _names(field.type)
    return names


SCHEMA_NAMES = sorted(_names() - {"source"} | {"zstd", "file", "env", "data-dir", "keys", "tool"})
FRAGMENTS = [
    *(f"{name} = " for name in SCHEMA_NAMES),
    *(f"[{name}]\n" for name in SCHEMA_NAMES),
    "[[",
    "]]",
    "[",
    "]",
    "{",
    "}",
    "=",
    ",",
    ".",
    '"',
    "'",
    '"""',
    "'''",
    "\n",
    " ",
    "#",
    "true",
    "false",
    "nan",
    "inf",
    "-1",
    "0",
    "1e400",
    "9" * 40,
    "1979-05-27T07:32:00Z",
    "07:32:00",
    "1979-05-27",
    '"1h"',
    '"never"',
    '"500MB"',
    '"2GiB"',
    '"zstd+aesgcm"',
    '"+"',
    "[1, 2]",
    "{a = 1}",
    '"\\u0000"',
    "\\",
    "\t",
    "\r\n",
    "é",
    "\x00",
    f'"{SENTINEL}"',
]

toml_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map(
    "".join
)

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "1h",
            "never",
            "0",
            "-1",
            "expire-immediately",
            "500MB",
            "1.5GiB",
            "zstd",
            "signed+zstd+aesgcm",
            "env",
            "GET",
            "",
            " ",
            SENTINEL,
            f"{SENTINEL}+x",
        ]
    ),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.dates(),
    st.times(),
)
keys = st.one_of(st.sampled_from(SCHEMA_NAMES), st.text(min_size=1, max_size=6))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=30,
)
top_level = st.dictionaries(keys, documents, max_size=8)


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("garbage") / "vaultcache.toml"


def _outcome(path: Path | None, environ: dict[str, str], cwd: Path) -> Settings | ConfigError:
    """What load_settings gives: Settings, or the ConfigError it raised (others propagate)."""
    try:
        return load_settings(path, environ=environ, cwd=cwd)
    except ConfigError as exc:
        return exc


def _load(path: Path) -> None:
    result = _outcome(path, {}, path.parent)
    assert isinstance(result, Settings | ConfigError)
    assert SENTINEL not in str(result) or isinstance(result, Settings)


@PROPERTY
@given(text=toml_text)
def test_garbage_text_gives_settings_or_config_error(config_path: Path, text: str) -> None:
    config_path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _load(config_path)


@PROPERTY
@given(data=st.binary(max_size=200))
def test_garbage_bytes_give_settings_or_config_error(config_path: Path, data: bytes) -> None:
    config_path.write_bytes(data)
    _load(config_path)


@PROPERTY
@given(document=top_level)
def test_valid_toml_of_any_shape_gives_settings_or_config_error(
    config_path: Path, document: dict[str, Any]
) -> None:
    try:
        text = tomli_w.dumps(document)
    except (TypeError, ValueError):  # a shape TOML cannot hold (e.g. mixed nested arrays)
        return
    config_path.write_text(text, encoding="utf-8")
    _load(config_path)


def _shaped(cl: type) -> st.SearchStrategy[dict[str, Any]]:
    """Tables with the keys of `cl` (and now and then another), holding any values."""
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in attrs.fields(cl):
        name = field.metadata.get(TOML_NAME, field.name)
        if name is None:
            continue
        if attrs.has(field.type):
            optional[name] = st.one_of(_shaped(field.type), documents)
        elif name.startswith("<"):
            table = st.dictionaries(st.sampled_from(SCHEMA_NAMES), documents, max_size=3)
            optional["zstd" if "stage" in name else "file"] = table
        else:
            optional[name] = documents
    extra = st.dictionaries(keys, documents, max_size=1)
    return st.tuples(st.fixed_dictionaries({}, optional=optional), extra).map(
        lambda pair: {**pair[1], **pair[0]}
    )


@PROPERTY
@given(document=_shaped(Settings))
def test_schema_shaped_tables_give_settings_or_config_error(
    config_path: Path, document: dict[str, Any]
) -> None:
    try:
        text = tomli_w.dumps(document)
    except (TypeError, ValueError):
        return
    config_path.write_text(text, encoding="utf-8")
    _load(config_path)


@PROPERTY
@given(
    environ=st.dictionaries(
        st.sampled_from(sorted(ENVIRONMENT_VARIABLES)),
        st.one_of(
            st.text(max_size=20).filter(lambda t: "\x00" not in t),
            st.sampled_from(["none", "all", "1", "0", "-1", "9" * 40, "1e400", "2GiB", "7d"]),
        ),
    )
)
def test_any_environment_gives_settings_or_config_error(
    tmp_path_factory: pytest.TempPathFactory, environ: dict[str, str]
) -> None:
    result = _outcome(None, environ, tmp_path_factory.getbasetemp())
    assert isinstance(result, Settings | ConfigError)
    if isinstance(result, ConfigError):
        assert result.file is None
