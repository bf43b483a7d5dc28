"""Fixtures for the registry tests: fresh registries, keys, and in-memory plugins."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest

import vaultcache
from vaultcache.crypto_keys import KeyRing, generate_key
from vaultcache.registry import PluginRegistry

Hook = Callable[[Any], None]


class ReverseStage:
    """A reversible byte transform: dumps and loads both reverse the bytes."""

    kind = "compression"

    def __init__(self, name: str) -> None:
        self.name = name

    def dumps(self, data: bytes) -> bytes:
        return bytes(data)[::-1]

    def loads(self, data: bytes) -> bytes:
        return bytes(data)[::-1]


def reverse_factory(name: str) -> Callable[[dict[str, Any], Any], ReverseStage]:
    def build(options: dict[str, Any], keys: Any) -> ReverseStage:
        if options:
            raise vaultcache.ConfigError(f"stage {name!r} takes no options")
        return ReverseStage(name)

    return build


def _make_plugin(
    *,
    stages: Hook | None = None,
    key_sources: Hook | None = None,
    backends: Hook | None = None,
) -> types.SimpleNamespace:
    """A plugin object whose hooks call the given functions with the registrar."""
    hooks: dict[str, Any] = {}
    if stages is not None:
        hook_s = stages

        @vaultcache.hookimpl
        def vaultcache_register_stages(registry: Any) -> None:
            hook_s(registry)

        hooks["vaultcache_register_stages"] = vaultcache_register_stages
    if key_sources is not None:
        hook_k = key_sources

        @vaultcache.hookimpl
        def vaultcache_register_key_sources(registry: Any) -> None:
            hook_k(registry)

        hooks["vaultcache_register_key_sources"] = vaultcache_register_key_sources
    if backends is not None:
        hook_b = backends

        @vaultcache.hookimpl
        def vaultcache_register_backends(registry: Any) -> None:
            hook_b(registry)

        hooks["vaultcache_register_backends"] = vaultcache_register_backends
    return types.SimpleNamespace(VAULTCACHE_PLUGIN_API=vaultcache.PLUGIN_API, **hooks)


def _stage_plugin(*names: str, kind: str = "compression") -> types.SimpleNamespace:
    """A plugin registering reversible stages under `names`."""

    def register(registry: Any) -> None:
        for name in names:
            registry.add(name, reverse_factory(name), kind=kind, description=f"test stage {name}")

    return _make_plugin(stages=register)


@pytest.fixture
def registry() -> PluginRegistry:
    """A registry with the built-ins only: installed plugins cannot affect these tests."""
    return PluginRegistry(entry_points=False)


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing([generate_key()])


@pytest.fixture
def make_plugin() -> Callable[..., types.SimpleNamespace]:
    return _make_plugin


@pytest.fixture
def stage_plugin() -> Callable[..., types.SimpleNamespace]:
    return _stage_plugin
