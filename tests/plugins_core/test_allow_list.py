"""The plugin allow-list: ``[plugins] allow`` and ``VAULTCACHE_PLUGINS`` decide what is imported."""

from __future__ import annotations

import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import vaultcache
from vaultcache import CachedSession, ConfigError, UnknownPluginError, generate_key
from vaultcache.cli.plugins import render
from vaultcache.config import PluginSettings
from vaultcache.registry import PluginRegistry, get_registry, normalise_distribution

from .conftest import Install, Origin


def _ours(distributions: Iterable[str]) -> list[str]:
    """The throw-away distributions among `distributions`, sorted (others may be installed)."""
    return sorted(name for name in distributions if name.startswith("vc-core-"))


@pytest.fixture
def markers(install: Install) -> dict[str, Path]:
    """Two installed plugins; each writes its marker file when imported."""
    return {
        "plugin": install("vc-core-plugin", stages=("rot13y",)),
        "spy": install("vc-core-spy", stages=("spy",), backends=("spymem",)),
    }


@pytest.mark.parametrize(
    ("name", "normal"),
    [("vaultcache-brotli", "vaultcache-brotli"), ("Vaultcache_Brotli", "vaultcache-brotli"),
     ("a.b__c--d", "a-b-c-d")],
)  # fmt: skip
def test_names_are_compared_pep503_normalised(name: str, normal: str) -> None:
    assert normalise_distribution(name) == normal


def test_an_empty_allow_list_imports_no_plugin(markers: dict[str, Path]) -> None:
    registry = PluginRegistry(allow=[])
    assert registry.stage("zstd").provider.distribution == "vaultcache"  # built-ins load
    assert registry.backend("sqlite").provider.distribution == "vaultcache"
    assert not markers["plugin"].exists()
    assert not markers["spy"].exists()
    assert _ours(p.distribution for p in registry.not_allowed()) == [
        "vc-core-plugin",
        "vc-core-spy",
    ]
    assert _ours(f.distribution for f in registry.failures()) == []


def test_looking_up_a_name_says_what_the_allow_list_left_out(markers: dict[str, Path]) -> None:
    registry = PluginRegistry(allow=["vc-core-plugin"])
    with pytest.raises(UnknownPluginError) as caught:
        registry.stage("spy")
    message = str(caught.value)
    count = len(registry.not_allowed())  # other packages may be installed beside ours
    plural = "s were" if count > 1 else " was"
    assert f"{count} installed plugin{plural} not loaded because of the allow-list" in message
    assert "vc-core-spy 1.0" in message
    assert "[plugins]" in message
    assert "VAULTCACHE_PLUGINS" in message
    assert "vc-core-spy 1.0" in caught.value.not_allowed
    assert "vc-core-plugin 1.0" not in caught.value.not_allowed
    assert not markers["spy"].exists()
    assert markers["plugin"].exists()


def test_allowed_names_match_normalised(markers: dict[str, Path]) -> None:
    registry = PluginRegistry(allow=["VC_Core.Plugin"])
    assert registry.stage("rot13y").provider.distribution == "vc-core-plugin"
    assert not markers["spy"].exists()


def test_widening_loads_the_newly_allowed_lazily(markers: dict[str, Path]) -> None:
    registry = PluginRegistry(allow=["vc-core-plugin"])
    registry.stage("rot13y")
    registry.allow(["vc-core-plugin", "vc-core-spy"])
    assert not markers["spy"].exists()  # not until the next look-up
    assert registry.backend("spymem").provider.distribution == "vc-core-spy"
    assert _ours(p.distribution for p in registry.not_allowed()) == []
    registry.allow(None)
    assert registry.stage("spy").provider.distribution == "vc-core-spy"


def test_narrowing_hides_what_is_no_longer_allowed(markers: dict[str, Path]) -> None:
    registry = PluginRegistry()
    assert registry.stage("spy").provider.distribution == "vc-core-spy"
    registry.allow(["vc-core-plugin"])
    with pytest.raises(UnknownPluginError, match="because of the allow-list"):
        registry.stage("spy")
    assert "spy" not in {r.name for r in registry.stages()}
    assert "spymem" not in {r.name for r in registry.backends()}
    assert registry.stage("rot13y").provider.distribution == "vc-core-plugin"
    assert _ours(p.distribution for p in registry.not_allowed()) == ["vc-core-spy"]


def test_the_allow_list_settles_a_conflict(install: Install) -> None:
    install("vc-core-plugin", stages=("rot13y",))
    rival = install("vc-core-rival", stages=("rot13y",))
    registry = PluginRegistry(allow=["vc-core-plugin"])
    assert [c for c in registry.conflicts() if c.name == "rot13y"] == []
    assert registry.stage("rot13y").provider.distribution == "vc-core-plugin"
    assert not rival.exists()


def test_failures_of_plugins_no_longer_allowed_are_hidden(install: Install) -> None:
    install("vc-core-broken", stages=("broken",), fail="needs libnothing")
    registry = PluginRegistry()
    assert _ours(f.distribution for f in registry.failures()) == ["vc-core-broken"]
    registry.allow([])
    assert _ours(f.distribution for f in registry.failures()) == []
    assert _ours(p.distribution for p in registry.not_allowed()) == ["vc-core-broken"]


def test_registered_objects_are_not_subject_to_the_allow_list(
    markers: dict[str, Path],
) -> None:
    @vaultcache.hookimpl
    def vaultcache_register_stages(registry: Any) -> None:
        registry.add("explicit", lambda options, keys: None, kind="compression")

    plugin = types.SimpleNamespace(
        VAULTCACHE_PLUGIN_API=1, vaultcache_register_stages=vaultcache_register_stages
    )
    registry = PluginRegistry(allow=[])
    registry.register(plugin, distribution="explicit-pkg")
    assert registry.stage("explicit").provider.distribution == "explicit-pkg"
    assert not markers["plugin"].exists()


def test_the_allow_list_is_a_list_not_a_string() -> None:
    with pytest.raises(TypeError):
        PluginRegistry(allow="vc-core-plugin")


# -- the process-wide registry: environment and config --------------------------------------


@pytest.mark.parametrize(
    ("value", "loaded"),
    [("none", set()), ("vc-core-plugin", {"plugin"}), ("VC_CORE_SPY, vc-core-plugin",
     {"plugin", "spy"}), ("all", {"plugin", "spy"})],
)  # fmt: skip
def test_the_environment_variable(
    markers: dict[str, Path], monkeypatch: pytest.MonkeyPatch, value: str, loaded: set[str]
) -> None:
    monkeypatch.setenv("VAULTCACHE_PLUGINS", value)
    get_registry().stage("zstd")
    assert {name for name, marker in markers.items() if marker.exists()} == loaded


@pytest.mark.parametrize("value", ["", "bad name!", ",", "none,vc-core-plugin"])
def test_a_bad_environment_variable_is_a_config_error(
    markers: dict[str, Path], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("VAULTCACHE_PLUGINS", value)
    with pytest.raises(ConfigError) as caught:
        get_registry()
    assert "VAULTCACHE_PLUGINS" in str(caught.value)
    assert not any(marker.exists() for marker in markers.values())


def _config(tmp_path: Path, plugins: str) -> Path:
    path = tmp_path / "vaultcache.toml"
    path.write_text(
        f'backend = "memory"\n[serializer]\nspec = "signed+rot13y+aesgcm"\n{plugins}',
        encoding="utf-8",
    )
    return path


def test_the_config_file_allow_list(
    markers: dict[str, Path], origin: Origin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULTCACHE_KEYS", generate_key())
    config = _config(tmp_path, '[plugins]\nallow = ["vc-core-plugin"]\n')
    with CachedSession.from_config(config) as session:
        session.get(origin.url("/allowed"))
        assert session.get(origin.url("/allowed")).from_cache
    assert markers["plugin"].exists()
    assert not markers["spy"].exists()
    assert get_registry().allowed == frozenset({"vc-core-plugin"})


def test_the_environment_overrides_the_config_file(
    markers: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULTCACHE_KEYS", generate_key())
    monkeypatch.setenv("VAULTCACHE_PLUGINS", "none")
    config = _config(tmp_path, '[plugins]\nallow = ["vc-core-plugin", "vc-core-spy"]\n')
    with pytest.raises(ConfigError, match="because of the allow-list"):
        CachedSession.from_config(config)
    assert not any(marker.exists() for marker in markers.values())


def test_a_config_file_without_an_allow_list_does_not_widen(
    markers: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULTCACHE_KEYS", generate_key())
    get_registry().allow(["vc-core-plugin"])
    with CachedSession.from_config(_config(tmp_path, "")):
        pass
    assert get_registry().allowed == frozenset({"vc-core-plugin"})
    assert not markers["spy"].exists()


def test_plugin_settings_apply_to_a_given_registry(markers: dict[str, Path]) -> None:
    registry = PluginRegistry()
    PluginSettings(allow=("vc-core-spy",)).apply(registry)
    assert registry.allowed == frozenset({"vc-core-spy"})
    PluginSettings().apply(registry)
    assert registry.allowed == frozenset({"vc-core-spy"})
    registry.stage("zstd")
    assert not markers["plugin"].exists()


def test_the_cli_marks_allowed_names_nothing_installed_has(markers: dict[str, Path]) -> None:
    registry = PluginRegistry(allow=["VC_Core_Plugin", "vc-core-plugn"])
    assert _ours(p.distribution for p in registry.installed()) == ["vc-core-plugin", "vc-core-spy"]
    text = render(registry)
    assert "Allowed plugin packages: vc-core-plugin, vc-core-plugn (not installed)\n" in text
    assert not markers["spy"].exists()
