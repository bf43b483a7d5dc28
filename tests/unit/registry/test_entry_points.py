"""Real entry points: throw-away plugin distributions on sys.path, found by importlib.metadata.

Each test writes ``<module>.py`` plus ``<name>-<version>.dist-info/`` (METADATA and
entry_points.txt) into its own tmp_path, puts it on sys.path, and builds a fresh
``PluginRegistry()`` that scans the ``vaultcache`` entry-point group for real.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vaultcache import (
    CachedResponse,
    PluginConflictError,
    UnknownPluginError,
    build_pipeline,
    generate_key,
)
from vaultcache.registry import PluginRegistry, Provider

MODULES = ("vc_throwaway_plugin", "vc_throwaway_rival", "vc_throwaway_broken")

ROT13_PLUGIN = '''
"""A throw-away vaultcache plugin: rot13 over ASCII letters, as a reversible stage."""

import vaultcache

VAULTCACHE_PLUGIN_API = 1

_TABLE = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    b"NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)


class Rot13Stage:
    kind = "compression"

    def __init__(self, name):
        self.name = name

    def dumps(self, data):
        return bytes(data).translate(_TABLE)

    def loads(self, data):
        return bytes(data).translate(_TABLE)


def _factory(name):
    def build(options, keys):
        if options:
            raise vaultcache.ConfigError(f"stage {name!r} takes no options")
        return Rot13Stage(name)

    return build


@vaultcache.hookimpl
def vaultcache_register_stages(registry):
    for name in NAMES:
        registry.add(name, _factory(name), kind="compression", description="rot13 (test)")
'''

BROKEN_PLUGIN = """
raise ImportError("vc_throwaway_broken needs libnothing, which is not installed")
"""

RESPONSE = CachedResponse(
    url="https://example.org/secret-path", status_code=200, content=b"Hello, plugins!"
)

MakeDist = Callable[..., None]


@pytest.fixture
def forget_modules() -> Iterator[None]:
    """Keep the throw-away modules out of sys.modules before and after each test."""
    for name in MODULES:
        sys.modules.pop(name, None)
    yield
    for name in MODULES:
        sys.modules.pop(name, None)
    importlib.invalidate_caches()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forget_modules: None) -> Path:
    """A directory on sys.path that holds the throw-away distributions."""
    directory = tmp_path / "site-packages"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))  # also invalidates importlib's caches
    return directory


@pytest.fixture
def make_dist(site: Path) -> MakeDist:
    def make(
        name: str, version: str, module: str, source: str, entry_points: dict[str, str]
    ) -> None:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
        (info / "entry_points.txt").write_text(f"[vaultcache]\n{lines}", encoding="utf-8")
        importlib.invalidate_caches()

    return make


def _rot13_plugin(*names: str) -> str:
    return f"NAMES = {names!r}\n" + ROT13_PLUGIN


@pytest.fixture
def plugin(make_dist: MakeDist) -> None:
    make_dist(
        "vc_throwaway_plugin",
        "1.0",
        "vc_throwaway_plugin",
        _rot13_plugin("rot13x"),
        {"rot13x": "vc_throwaway_plugin"},
    )


@pytest.fixture
def rival(make_dist: MakeDist) -> None:
    make_dist(
        "vc-throwaway-rival",
        "2.0",
        "vc_throwaway_rival",
        _rot13_plugin("rot13x", "rival-only"),
        {"rot13x": "vc_throwaway_rival"},
    )


@pytest.fixture
def broken(make_dist: MakeDist) -> None:
    make_dist(
        "vc_throwaway_broken",
        "0.1",
        "vc_throwaway_broken",
        BROKEN_PLUGIN,
        {"broken": "vc_throwaway_broken"},
    )


def _round_trip(registry: PluginRegistry, spec: str) -> bytes:
    pipeline = build_pipeline(spec, registry=registry, keys=[generate_key()])
    stored = pipeline.dumps(RESPONSE)
    assert pipeline.loads(stored) == RESPONSE
    return stored


@pytest.mark.usefixtures("plugin")
def test_an_installed_plugin_provides_its_stage() -> None:
    registry = PluginRegistry()
    assert "vc_throwaway_plugin" not in sys.modules  # nothing is imported before a look-up

    registration = registry.stage("rot13x")
    assert registration.provider == Provider("vc_throwaway_plugin", "1.0", "rot13x")
    assert str(registration.provider) == "vc_throwaway_plugin 1.0"
    assert registration.kind == "compression"
    assert registry.stage("ROT13X") is registration
    assert "vc_throwaway_plugin" in sys.modules
    assert not [f for f in registry.failures() if f.distribution.startswith("vc")]

    stored = _round_trip(registry, "rot13x+signed")
    assert build_pipeline("rot13x+signed", registry=registry, keys=[generate_key()]).spec == (
        "msgpack+rot13x+signed"
    )
    # signed does not hide; the rot13 stage visibly ran on the msgpack bytes.
    assert b"uggcf://rknzcyr.bet/frperg-cngu" in stored
    assert b"https://example.org" not in stored

    _round_trip(registry, "json+rot13x+aesgcm")
    _round_trip(registry, "zstd+signed")


@pytest.mark.usefixtures("plugin")
def test_entry_points_are_skipped_when_disabled() -> None:
    registry = PluginRegistry(entry_points=False)
    with pytest.raises(UnknownPluginError):
        registry.stage("rot13x")
    assert "vc_throwaway_plugin" not in sys.modules


@pytest.mark.usefixtures("plugin", "rival")
def test_two_installed_plugins_claiming_one_name_conflict() -> None:
    registry = PluginRegistry()
    with pytest.raises(PluginConflictError) as info:
        registry.stage("rot13x")
    assert set(info.value.distributions) == {"vc_throwaway_plugin 1.0", "vc-throwaway-rival 2.0"}
    assert "vc_throwaway_plugin" in str(info.value)
    assert "vc-throwaway-rival" in str(info.value)
    with pytest.raises(PluginConflictError):
        build_pipeline("rot13x+signed", registry=registry, keys=[generate_key()])

    (conflict,) = [c for c in registry.conflicts() if c.name == "rot13x"]
    assert set(conflict.distributions) == set(info.value.distributions)
    assert conflict.category == "stage"

    # Names that do not clash still work, from the rival and from vaultcache.
    assert registry.stage("rival-only").provider.distribution == "vc-throwaway-rival"
    _round_trip(registry, "rival-only+signed")
    _round_trip(registry, "zstd+aesgcm")


@pytest.mark.usefixtures("plugin", "broken")
def test_a_plugin_that_fails_to_import_is_reported() -> None:
    registry = PluginRegistry()
    registry.stage("zstd")  # the look-up that loads everything must not raise
    (failure,) = [f for f in registry.failures() if f.distribution == "vc_throwaway_broken"]
    assert failure.entry_point == "broken"
    assert failure.reason.startswith("ImportError: ")
    assert "libnothing" in failure.reason
    assert "vc_throwaway_broken" in str(failure)
    assert "vc_throwaway_broken" not in sys.modules

    with pytest.raises(UnknownPluginError) as info:
        registry.stage("broken")
    assert "vc_throwaway_broken" in str(info.value)
    assert "libnothing" in str(info.value)

    assert registry.stage("rot13x").provider.distribution == "vc_throwaway_plugin"
    _round_trip(registry, "rot13x+signed")
    _round_trip(registry, "zstd+aesgcm")


@pytest.mark.usefixtures("plugin", "rival", "broken")
def test_conflicts_and_failures_together() -> None:
    registry = PluginRegistry()
    assert [c.name for c in registry.conflicts() if c.name == "rot13x"] == ["rot13x"]
    assert [f.distribution for f in registry.failures() if f.distribution.startswith("vc")] == [
        "vc_throwaway_broken"
    ]
    with pytest.raises(PluginConflictError):
        registry.stage("rot13x")
    _round_trip(registry, "rival-only+aesgcm")
    _round_trip(registry, "zstd+signed")


def test_modules_do_not_leak_between_tests() -> None:
    assert not [name for name in MODULES if name in sys.modules]
    for distribution in ("vc_throwaway_plugin", "vc-throwaway-rival", "vc_throwaway_broken"):
        with pytest.raises(importlib.metadata.PackageNotFoundError):
            importlib.metadata.distribution(distribution)
