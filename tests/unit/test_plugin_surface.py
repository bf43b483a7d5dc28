"""The plugin author's surface: ``vaultcache.plugin`` and ``vaultcache.testing`` are pinned,
and the packages in plugins/ import nothing else of vaultcache (but ``vaultcache`` itself)."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import pytest

import vaultcache.plugin
import vaultcache.testing

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"vaultcache", "vaultcache.plugin", "vaultcache.testing"}

PLUGIN_NAMES = [
    "DECOMPRESSION_STEP",
    "DEFAULT_MAX_SIZE",
    "NEVER_EXPIRE",
    "PLUGIN_API",
    "AccessLog",
    "BackendError",
    "BackendRegistrar",
    "BaseCache",
    "BaseStorage",
    "CacheNotFoundError",
    "CachedResponse",
    "ConfigError",
    "DecodeError",
    "EntryStats",
    "EntryWriter",
    "IntegrityError",
    "Key",
    "KeyFunction",
    "KeyRing",
    "KeyRingError",
    "KeySource",
    "KeySourceRegistrar",
    "MissingDependencyError",
    "OpenMode",
    "SizeLimitError",
    "StageRegistrar",
    "StorageUsage",
    "VaultCacheError",
    "check_options",
    "clock",
    "generate_key",
    "get_registry",
    "hookimpl",
    "int_option",
    "not_found",
    "open_mode",
    "parse_options",
    "reject_options",
    "session_defaults",
    "stored_number",
]

TESTING_NAMES = [
    "ODD_KEYS",
    "KeySourceContract",
    "StageContract",
    "StorageContract",
    "StorageFactory",
    "run_storage_workers",
]


@pytest.mark.parametrize(
    ("module", "expected"),
    [(vaultcache.plugin, PLUGIN_NAMES), (vaultcache.testing, TESTING_NAMES)],
    ids=["plugin", "testing"],
)
def test_all_is_pinned(module: types.ModuleType, expected: list[str]) -> None:
    assert module.__all__ == expected
    namespace: dict[str, object] = {}
    exec(f"from {module.__name__} import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(expected)
    for name in expected:
        assert getattr(module, name, None) is not None, name


def test_only_the_clock_is_a_module() -> None:
    """``clock`` is the module, so that replacing ``clock.now`` in a test reaches vaultcache."""
    modules = [
        name
        for name in PLUGIN_NAMES
        if isinstance(getattr(vaultcache.plugin, name), types.ModuleType)
    ]
    assert modules == ["clock"]
    assert vaultcache.plugin.clock is vaultcache.clock


def _plugin_sources() -> list[Path]:
    return sorted(
        path
        for pattern in ("plugins/*/src/**/*.py", "plugins/*/tests/**/*.py")
        for path in ROOT.glob(pattern)
    )


def _vaultcache_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return [name for name in modules if name == "vaultcache" or name.startswith("vaultcache.")]


@pytest.mark.skipif(not _plugin_sources(), reason="plugins/ is not in this tree")
def test_plugin_packages_import_only_the_public_modules() -> None:
    deeper = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _plugin_sources()
        for module in _vaultcache_imports(path)
        if module not in ALLOWED
    ]
    assert deeper == []
