"""The example plugin on docs/hooks.md passes the stage contract, as a plugin author's would."""

from __future__ import annotations

import types
from typing import Any, ClassVar

import pytest

from vaultcache import registry as registry_module
from vaultcache.docs_hooks import EXAMPLE_PLUGIN
from vaultcache.registry import PluginRegistry
from vaultcache.testing import StageContract


class TestDocsExampleStage(StageContract):
    stage_name: ClassVar[str] = "deflate"
    stage_options: ClassVar[dict[str, Any]] = {"level": 6}

    @pytest.fixture(autouse=True)
    def _example_installed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The process-wide registry, for this test only, with the example plugin in it."""
        module = types.ModuleType("vaultcache_deflate_example")
        exec(compile(EXAMPLE_PLUGIN, "<docs/hooks.md example>", "exec"), module.__dict__)
        registry = PluginRegistry(entry_points=False)
        registry.register(module, distribution="vaultcache-deflate", version="1.0")
        monkeypatch.setattr(registry_module, "_default_registry", registry)
