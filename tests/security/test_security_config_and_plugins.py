"""Garbage config files, unknown plugin names, and plugins whose stages misbehave.

A config file or a name is the user's input: anything wrong in it is a ConfigError (or one
of the plugin errors) naming the problem, never a traceback from deep inside. A stage that
raises while reading an entry makes that entry a miss, reported and counted.
"""

from __future__ import annotations

import contextlib
import logging
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_support import body_for

import vaultcache
from vaultcache import ConfigError, KeyRing, PluginError, SpecError, UnknownPluginError
from vaultcache import generate_key as new_key
from vaultcache.config import load_settings
from vaultcache.registry import PluginRegistry
from vaultcache.serializers import build_pipeline
from vaultcache.session import CachedSession

VALID = """\
backend = "filesystem"
[serializer]
spec = "signed+zstd+aesgcm"
[serializer.zstd]
level = 19
[expiry]
expire_after = "1h"
urls = { "example.com/static/*" = "never" }
[matching]
ignored_parameters = ["Authorization", "x-session"]
[keys]
sources = ["env", "file"]
"""
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _load(path: Path, data: bytes) -> None:
    """Load `data` as a config file: it may give settings or raise ConfigError, only."""
    path.write_bytes(data)
    with contextlib.suppress(ConfigError):
        load_settings(path, environ={})


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_as_a_config_file_are_a_config_error(tmp_path: Path, data: bytes) -> None:
    """Attack: a config file of random bytes."""
    _load(tmp_path / "vaultcache.toml", data)


@FUZZ
@given(
    position=st.integers(min_value=0, max_value=len(VALID)),
    insert=st.text(max_size=12),
    cut=st.integers(min_value=0, max_value=12),
)
def test_mutated_config_files_are_settings_or_a_config_error(
    tmp_path: Path, position: int, insert: str, cut: int
) -> None:
    """Attack: a valid config file with text cut out and other text put in its place."""
    text = VALID[:position] + insert + VALID[position + cut :]
    _load(tmp_path / "vaultcache.toml", text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(
    "text",
    [
        'serializer = { spec = "pickle" }',
        'serializer = { spec = "aesgcm+zstd" }',
        'serializer = { spec = "zstd+" }',
        "[serializer.zstd]\nmax_size = -1",
        "[serializer.zstd]\nlevel = 1e308",
        'expiry = { expire_after = "forever and a day" }',
        "[keys]\nsources = [1, 2]",
        'keys = { material = "' + "A" * 44 + '" }',
        "name = " + "[" * 5000 + "]" * 5000,
        "a = 1\n" * 20000,
    ],
)
def test_wrong_values_and_deep_nesting_are_config_errors(tmp_path: Path, text: str) -> None:
    """Attack: a config file with unsafe specs, wrong types, key material, deep nesting."""
    path = tmp_path / "vaultcache.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        CachedSession.from_config(path, cache_name=str(tmp_path / "c"), keys=[new_key()])


@pytest.mark.parametrize("where", ["keys.material", "keys.env.variable", "name"])
def test_key_material_in_a_config_file_is_refused_without_echoing_it(
    tmp_path: Path, where: str
) -> None:
    """Attack: trick a user into keeping a key in a config file (often committed, shared)."""
    key = new_key()
    *tables, name = where.split(".")
    header = f"[{'.'.join(tables)}]\n" if tables else ""
    path = tmp_path / "vaultcache.toml"
    path.write_text(f'{header}{name} = "{key}"\n')
    with pytest.raises(ConfigError, match="key material") as caught:
        load_settings(path, environ={})
    assert key not in str(caught.value)
    assert key.rstrip("=") not in str(caught.value)


def test_unknown_stage_name_is_a_spec_error_listing_the_known_ones() -> None:
    """Attack: a spec naming a stage nobody provides (a typo, or a plugin not installed)."""
    with pytest.raises(SpecError, match="zstd"):
        build_pipeline("zstd+aesgcn", keys=[new_key()])


def test_unknown_backend_and_key_source_names_are_plugin_errors(cache_path: str) -> None:
    """Attack: a backend or key source name nobody provides."""
    with pytest.raises(UnknownPluginError, match="sqlite"):
        CachedSession(cache_path, backend="sqlite3", keys=[new_key()])
    with pytest.raises(PluginError):
        vaultcache.crypto_key_sources.load_key_ring(sources=["vault-of-nowhere"])


# -- misbehaving plugin stages ------------------------------------------------------------------


class _Misbehaving:
    """A compression-kind plugin stage that raises `error` on reading (or on writing)."""

    kind = "compression"

    def __init__(self, name: str, error: Exception, *, on: str) -> None:
        self.name, self._error, self._on = name, error, on

    def dumps(self, data: bytes) -> bytes:
        if self._on == "dumps":
            raise self._error
        return bytes(data)

    def loads(self, data: bytes) -> bytes:
        if self._on == "loads":
            raise self._error
        return bytes(data)


def _pipeline(error: Exception, on: str, keys: list[str]) -> Any:
    """A pipeline 'msgpack+broken+aesgcm' whose plugin stage raises `error`."""

    @vaultcache.hookimpl
    def vaultcache_register_stages(registry: Any) -> None:
        registry.add(
            "broken",
            lambda options, ring: _Misbehaving("broken", error, on=on),
            kind="compression",
        )

    registry = PluginRegistry(entry_points=False)
    plugin = types.SimpleNamespace(
        VAULTCACHE_PLUGIN_API=vaultcache.PLUGIN_API,
        vaultcache_register_stages=vaultcache_register_stages,
    )
    registry.register(plugin, distribution="broken-plugin")
    return build_pipeline("broken+aesgcm", registry=registry, keys=KeyRing(keys))


ERRORS = [
    RuntimeError("plugin bug, secret-marker in the message"),
    ValueError("bad value"),
    KeyError("k"),
    RecursionError(),
    AttributeError("x"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "secret-marker"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: type(error).__name__)
def test_stage_raising_on_read_is_a_reported_miss(
    make_session: Any,
    origin: Any,
    key: str,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    """Attack: a plugin stage raises an unexpected exception whenever it reads an entry."""
    writer = make_session(serializer=_pipeline(RuntimeError("unused"), "none", [key]))
    writer.get(origin.url("/plugin/read"))
    reader = make_session(serializer=_pipeline(error, "loads", [key]))

    with caplog.at_level(logging.WARNING, logger="vaultcache"):
        response = reader.get(origin.url("/plugin/read"))

    assert response.content == body_for("/plugin/read")
    assert response.from_cache is False
    assert reader.cache.stats.discarded == 1
    assert "broken" in caplog.text
    assert "DecodeError" in caplog.text
    assert "secret-marker" not in caplog.text


def test_stage_raising_on_write_does_not_fail_the_request(
    make_session: Any, origin: Any, key: str
) -> None:
    """Attack: a plugin stage raises an unexpected exception whenever it writes an entry."""
    session = make_session(serializer=_pipeline(RuntimeError("plugin bug"), "dumps", [key]))

    response = session.get(origin.url("/plugin/write"))

    assert response.content == body_for("/plugin/write")
