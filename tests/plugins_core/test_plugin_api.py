"""VAULTCACHE_PLUGIN_API: a plugin written for another hook-spec version is not loaded."""

from __future__ import annotations

import types

import pytest

import vaultcache
from vaultcache import PluginIncompatibleError, UnknownPluginError, hookspecs
from vaultcache.registry import BUILTIN_PLUGINS, PluginRegistry

from .conftest import Install


def _plugin(**attributes: object) -> types.SimpleNamespace:
    @vaultcache.hookimpl
    def vaultcache_register_stages(registry: object) -> None:
        registry.add("apistage", lambda options, keys: None, kind="compression")  # type: ignore[attr-defined]

    return types.SimpleNamespace(
        vaultcache_register_stages=vaultcache_register_stages, **attributes
    )


def test_the_host_version_is_public() -> None:
    assert vaultcache.PLUGIN_API == hookspecs.PLUGIN_API == 1
    assert hookspecs.PLUGIN_API in hookspecs.SUPPORTED_PLUGIN_APIS


@pytest.mark.parametrize("module_name", BUILTIN_PLUGINS)
def test_builtin_plugins_declare_the_version(module_name: str) -> None:
    module = __import__(module_name, fromlist=["_"])
    assert module.VAULTCACHE_PLUGIN_API == vaultcache.PLUGIN_API


def test_a_declaring_plugin_loads() -> None:
    registry = PluginRegistry(entry_points=False)
    registry.register(_plugin(VAULTCACHE_PLUGIN_API=1), distribution="good", version="1.0")
    assert registry.failures() == []
    assert registry.stage("apistage").provider.distribution == "good"


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({}, "good-api 0.1 (entry point good-api) declares no VAULTCACHE_PLUGIN_API"),
        (
            {"VAULTCACHE_PLUGIN_API": 2},
            "good-api 0.1 (entry point good-api) was written for plugin API 2; "
            "this vaultcache provides 1",
        ),
        ({"VAULTCACHE_PLUGIN_API": 0}, "was written for plugin API 0; this vaultcache provides 1"),
        ({"VAULTCACHE_PLUGIN_API": "1"}, "declares VAULTCACHE_PLUGIN_API as str, not an integer"),
        ({"VAULTCACHE_PLUGIN_API": True}, "declares VAULTCACHE_PLUGIN_API as bool"),
        ({"VAULTCACHE_PLUGIN_API": 1.0}, "declares VAULTCACHE_PLUGIN_API as float"),
    ],
    ids=["missing", "newer", "older", "str", "bool", "float"],
)
def test_an_incompatible_plugin_is_recorded_and_not_loaded(
    attributes: dict[str, object], reason: str
) -> None:
    registry = PluginRegistry(entry_points=False)
    registry.register(_plugin(**attributes), distribution="good-api", version="0.1")
    (failure,) = registry.failures()
    assert isinstance(failure, PluginIncompatibleError)
    assert reason in failure.reason
    assert failure.distribution == "good-api"
    assert failure.declared == attributes.get("VAULTCACHE_PLUGIN_API")
    with pytest.raises(UnknownPluginError) as caught:
        registry.stage("apistage")
    assert reason in str(caught.value)


def test_a_later_host_may_accept_several_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hookspecs, "SUPPORTED_PLUGIN_APIS", frozenset({1, 2}))
    registry = PluginRegistry(entry_points=False)
    registry.register(_plugin(VAULTCACHE_PLUGIN_API=2), distribution="newer")
    assert registry.failures() == []
    assert registry.stage("apistage").provider.distribution == "newer"


def test_an_installed_incompatible_plugin_is_not_registered(
    install: Install,
) -> None:
    install("vc-core-future", stages=("future",), api="2", version="0.1")
    install("vc-core-plugin", stages=("rot13y",))
    registry = PluginRegistry()
    assert registry.stage("rot13y").provider.distribution == "vc-core-plugin"
    (failure,) = [f for f in registry.failures() if f.distribution == "vc-core-future"]
    assert isinstance(failure, PluginIncompatibleError)
    assert failure.entry_point == "future"
    assert failure.reason == (
        "vc-core-future 0.1 (entry point future) was written for plugin API 2; "
        "this vaultcache provides 1"
    )
    assert "future" not in {r.name for r in registry.stages()}
