"""Plugins registered in memory: new stages, clashes, broken plugins, invalid registrations."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest

import vaultcache
from vaultcache import (
    CachedResponse,
    PluginConflictError,
    PluginLoadError,
    UnknownPluginError,
    build_pipeline,
)
from vaultcache.crypto_keys import KeyRing
from vaultcache.errors import SpecError
from vaultcache.registry import PluginRegistry

MakePlugin = Callable[..., types.SimpleNamespace]
RESPONSE = CachedResponse(
    url="https://example.org/data", status_code=200, content=b"payload " * 100
)


def _failures_of(registry: PluginRegistry, distribution: str) -> list[PluginLoadError]:
    return [f for f in registry.failures() if f.distribution == distribution]


def _names_from(registry: PluginRegistry, distribution: str) -> list[str]:
    every = [*registry.stages(), *registry.backends(), *registry.key_sources()]
    return [r.name for r in every if r.provider.distribution == distribution]


# -- a new stage -------------------------------------------------------------------------


def test_registered_plugin_provides_a_stage_usable_in_specs(
    registry: PluginRegistry, keys: KeyRing, stage_plugin: MakePlugin
) -> None:
    registry.register(stage_plugin("newstage"), distribution="demo-pkg", version="2.3")
    registration = registry.stage("newstage")
    assert registration.kind == "compression"
    assert registration.provider.distribution == "demo-pkg"
    assert registration.provider.version == "2.3"
    assert str(registration.provider) == "demo-pkg 2.3"
    assert registration.description == "test stage newstage"
    assert "newstage" in [r.name for r in registry.stages()]
    assert registry.stage("zstd").provider.distribution == "vaultcache"  # built-ins still there

    pipeline = build_pipeline("newstage+aesgcm", registry=registry, keys=keys)
    assert pipeline.spec == "msgpack+newstage+aesgcm"
    stored = pipeline.dumps(RESPONSE)
    assert b"payload" not in stored
    assert pipeline.loads(stored) == RESPONSE


def test_plugin_stage_names_are_case_insensitive(
    registry: PluginRegistry, keys: KeyRing, stage_plugin: MakePlugin
) -> None:
    registry.register(stage_plugin("NewStage"), distribution="demo-pkg")
    assert registry.stage("newstage").name == "newstage"
    assert registry.stage("NEWSTAGE") is registry.stage("newstage")
    pipeline = build_pipeline("NEWstage+Signed", registry=registry, keys=keys)
    assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE


def test_plugin_stage_kinds_are_enforced_by_the_builder(
    registry: PluginRegistry, keys: KeyRing, stage_plugin: MakePlugin
) -> None:
    registry.register(stage_plugin("newstage"), distribution="demo-pkg")
    with pytest.raises(SpecError, match="before encryption"):
        build_pipeline("aesgcm+newstage", registry=registry, keys=keys)
    with pytest.raises(SpecError, match="more than one compression"):
        build_pipeline("newstage+zstd", registry=registry, keys=keys)


def test_plugin_can_register_in_several_categories(
    registry: PluginRegistry, make_plugin: MakePlugin
) -> None:
    def stages(reg: Any) -> None:
        reg.add("multi", lambda options, keys: None, kind="compression")

    def key_sources(reg: Any) -> None:
        reg.add("vault", lambda options: None, description="a test key source")

    def backends(reg: Any) -> None:
        reg.add("memory-x", lambda cache_name, options: None, description="a test backend")

    registry.register(
        make_plugin(stages=stages, key_sources=key_sources, backends=backends),
        distribution="multi-pkg",
    )
    assert registry.stage("multi").category == "stage"
    assert registry.key_source("vault").kind == "key source"
    assert registry.backend("memory-x").kind == "backend"
    assert sorted(_names_from(registry, "multi-pkg")) == ["memory-x", "multi", "vault"]


def test_one_distribution_can_register_several_plugin_objects(
    registry: PluginRegistry, stage_plugin: MakePlugin
) -> None:
    # Like a package with two entry points; register() defaults the entry point name.
    registry.register(stage_plugin("first"), distribution="demo-pkg")
    registry.register(stage_plugin("second"), distribution="demo-pkg")
    assert _failures_of(registry, "demo-pkg") == []
    assert registry.stage("first").provider.distribution == "demo-pkg"
    assert registry.stage("second").provider.distribution == "demo-pkg"


def test_registering_the_same_object_twice_is_reported_and_keeps_the_first(
    registry: PluginRegistry, stage_plugin: MakePlugin
) -> None:
    plugin = stage_plugin("once")
    registry.register(plugin, distribution="demo-pkg")
    registry.register(plugin, distribution="other-pkg")
    (failure,) = _failures_of(registry, "other-pkg")
    assert "already registered" in failure.reason
    assert registry.stage("once").provider.distribution == "demo-pkg"
    assert registry.conflicts() == []


# -- two packages, one name --------------------------------------------------------------


def test_two_distributions_claiming_one_name_conflict(
    registry: PluginRegistry, keys: KeyRing, stage_plugin: MakePlugin
) -> None:
    registry.register(stage_plugin("dup", "only-a"), distribution="pkg-a", version="1.0")
    registry.register(stage_plugin("dup", "only-b"), distribution="pkg-b", version="2.0")

    with pytest.raises(PluginConflictError) as info:
        registry.stage("dup")
    assert info.value.name == "dup"
    assert info.value.category == "stage"
    assert info.value.distributions == ("pkg-a 1.0", "pkg-b 2.0")
    assert "pkg-a" in str(info.value)
    assert "pkg-b" in str(info.value)
    with pytest.raises(PluginConflictError, match=r"pkg-a.*pkg-b"):
        registry.stage("DUP")
    with pytest.raises(PluginConflictError, match=r"pkg-a.*pkg-b"):
        build_pipeline("dup+signed", registry=registry, keys=keys)

    (conflict,) = registry.conflicts()
    assert conflict.name == "dup"
    assert conflict.distributions == ("pkg-a 1.0", "pkg-b 2.0")
    # Both claims are listed, so `vaultcache plugins` shows who clashes.
    assert [str(r.provider) for r in registry.stages() if r.name == "dup"] == [
        "pkg-a 1.0",
        "pkg-b 2.0",
    ]

    # Everything else still works.
    assert registry.stage("only-a").provider.distribution == "pkg-a"
    assert registry.stage("only-b").provider.distribution == "pkg-b"
    pipeline = build_pipeline("only-b+aesgcm", registry=registry, keys=keys)
    assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE
    assert registry.failures() == []


def test_a_plugin_claiming_a_builtin_name_conflicts_with_vaultcache(
    registry: PluginRegistry, stage_plugin: MakePlugin
) -> None:
    registry.register(stage_plugin("zstd"), distribution="evil-zstd")
    with pytest.raises(PluginConflictError) as info:
        registry.stage("zstd")
    assert info.value.distributions[0].startswith("vaultcache ")
    assert info.value.distributions[1] == "evil-zstd"
    assert registry.stage("gzip").provider.distribution == "vaultcache"


def test_same_name_in_different_categories_is_not_a_conflict(
    registry: PluginRegistry, make_plugin: MakePlugin
) -> None:
    registry.register(
        make_plugin(stages=lambda reg: reg.add("shared", lambda o, k: None, kind="compression")),
        distribution="pkg-a",
    )
    registry.register(
        make_plugin(key_sources=lambda reg: reg.add("shared", lambda o: None)),
        distribution="pkg-b",
    )
    assert registry.conflicts() == []
    assert registry.stage("shared").provider.distribution == "pkg-a"
    assert registry.key_source("shared").provider.distribution == "pkg-b"


# -- broken plugins ----------------------------------------------------------------------


def test_a_plugin_whose_hook_raises_is_recorded_and_the_rest_works(
    registry: PluginRegistry, keys: KeyRing, make_plugin: MakePlugin, stage_plugin: MakePlugin
) -> None:
    def explode(reg: Any) -> None:
        reg.add("ghost", lambda options, keys: None, kind="compression")
        raise RuntimeError("boom: the plugin is broken")

    registry.register(make_plugin(stages=explode), distribution="broken-pkg", version="0.1")
    registry.register(stage_plugin("healthy"), distribution="good-pkg")

    (failure,) = registry.failures()
    assert isinstance(failure, PluginLoadError)
    assert failure.distribution == "broken-pkg"
    assert "vaultcache_register_stages raised RuntimeError" in failure.reason
    assert "boom" in failure.reason
    assert "broken-pkg" in str(failure)

    # The name it added before raising is not registered, and the error says why.
    with pytest.raises(UnknownPluginError) as info:
        registry.stage("ghost")
    assert "broken-pkg" in str(info.value)
    assert "boom" in str(info.value)
    assert any("broken-pkg" in failed for failed in info.value.failed)
    with pytest.raises(SpecError, match="broken-pkg"):
        build_pipeline("ghost", registry=registry)

    assert _names_from(registry, "broken-pkg") == []
    pipeline = build_pipeline("healthy+aesgcm", registry=registry, keys=keys)
    assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE
    assert registry.stage("zstd").provider.distribution == "vaultcache"


def test_a_failing_hook_for_another_category_does_not_affect_stages(
    registry: PluginRegistry, make_plugin: MakePlugin
) -> None:
    def bad_sources(reg: Any) -> None:
        raise ValueError("no vault here")

    registry.register(
        make_plugin(
            stages=lambda reg: reg.add("fine", lambda o, k: None, kind="compression"),
            key_sources=bad_sources,
        ),
        distribution="half-pkg",
    )
    (failure,) = _failures_of(registry, "half-pkg")
    assert "vaultcache_register_key_sources raised ValueError: no vault here" in failure.reason
    assert registry.stage("fine").provider.distribution == "half-pkg"


def test_a_hook_with_a_wrong_signature_is_recorded(
    registry: PluginRegistry, stage_plugin: MakePlugin
) -> None:
    @vaultcache.hookimpl
    def vaultcache_register_stages(registry: Any, something_else: Any) -> None:
        raise AssertionError("never called")

    registry.register(
        types.SimpleNamespace(
            VAULTCACHE_PLUGIN_API=1, vaultcache_register_stages=vaultcache_register_stages
        ),
        distribution="wrong-args",
    )
    (failure,) = _failures_of(registry, "wrong-args")
    assert "something_else" in failure.reason
    registry.register(stage_plugin("after"), distribution="good-pkg")
    assert registry.stage("after").provider.distribution == "good-pkg"


def test_a_hook_the_contract_does_not_know_is_recorded(
    registry: PluginRegistry, stage_plugin: MakePlugin
) -> None:
    @vaultcache.hookimpl
    def vaultcache_register_widgets(registry: Any) -> None:
        raise AssertionError("never called")

    @vaultcache.hookimpl
    def vaultcache_register_stages(registry: Any) -> None:
        registry.add("widget", lambda o, k: None, kind="compression")

    registry.register(
        types.SimpleNamespace(
            VAULTCACHE_PLUGIN_API=1,
            vaultcache_register_widgets=vaultcache_register_widgets,
            vaultcache_register_stages=vaultcache_register_stages,
        ),
        distribution="future-pkg",
    )
    (failure,) = _failures_of(registry, "future-pkg")
    assert "vaultcache_register_widgets" in failure.reason
    # Nothing of that plugin is registered, and later plugins are unaffected.
    assert _names_from(registry, "future-pkg") == []
    registry.register(stage_plugin("after"), distribution="good-pkg")
    assert registry.stage("after").name == "after"
    assert len(registry.failures()) == 1


# -- invalid registrations ---------------------------------------------------------------


def _add(name: Any = "valid", kind: str = "compression", factory: Any = None) -> Any:
    def register(reg: Any) -> None:
        reg.add("valid-first", lambda o, k: None, kind="compression")
        reg.add(name, factory or (lambda o, k: None), kind=kind)
        reg.add("valid-after", lambda o, k: None, kind="compression")

    return register


@pytest.mark.parametrize(
    ("hook", "reason"),
    [
        pytest.param(_add(name="1stage"), "'1stage' is invalid", id="starts-with-digit"),
        pytest.param(_add(name="has space"), "'has space' is invalid", id="space"),
        pytest.param(_add(name="a+b"), "'a+b' is invalid", id="plus"),
        pytest.param(_add(name="a.b"), "'a.b' is invalid", id="dot"),
        pytest.param(_add(name=""), "'' is invalid", id="empty"),
        pytest.param(_add(name="zst\n"), "is invalid", id="trailing-newline"),
        pytest.param(_add(name="café"), "'café' is invalid", id="non-ascii"),
        pytest.param(_add(name=42), "42 is invalid", id="not-a-string"),
        pytest.param(_add(kind="crypto"), "kind 'crypto' is not one of", id="bad-kind"),
        pytest.param(_add(kind="backend"), "kind 'backend' is not one of", id="wrong-kind"),
        pytest.param(_add(factory="not callable"), "factory is not callable", id="factory"),
        pytest.param(_add(name="valid-first"), "registered twice", id="duplicate"),
        pytest.param(_add(name="Valid-First"), "registered twice", id="duplicate-case"),
    ],
)
def test_invalid_registration_fails_the_hook_without_partial_registration(
    registry: PluginRegistry,
    make_plugin: MakePlugin,
    stage_plugin: MakePlugin,
    hook: Callable[[Any], None],
    reason: str,
) -> None:
    registry.register(make_plugin(stages=hook), distribution="bad-pkg")
    (failure,) = registry.failures()
    assert failure.distribution == "bad-pkg"
    assert "vaultcache_register_stages raised PluginError" in failure.reason
    assert reason in failure.reason
    assert _names_from(registry, "bad-pkg") == []
    for name in ("valid-first", "valid-after"):
        with pytest.raises(UnknownPluginError, match="bad-pkg"):
            registry.stage(name)
    registry.register(stage_plugin("valid-first"), distribution="good-pkg")
    assert registry.stage("valid-first").provider.distribution == "good-pkg"
    assert registry.conflicts() == []


def test_invalid_key_source_name_is_refused(
    registry: PluginRegistry, make_plugin: MakePlugin
) -> None:
    registry.register(
        make_plugin(key_sources=lambda reg: reg.add("Bad Name", lambda o: None)),
        distribution="bad-pkg",
    )
    (failure,) = registry.failures()
    assert "key source name 'Bad Name' is invalid" in failure.reason


def test_upper_case_names_are_stored_lower_case(
    registry: PluginRegistry, stage_plugin: MakePlugin
) -> None:
    registry.register(stage_plugin("LOUD_Stage-2"), distribution="demo-pkg")
    assert "loud_stage-2" in [r.name for r in registry.stages()]
    assert registry.failures() == []
