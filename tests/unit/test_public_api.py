"""The flat public API: ``vaultcache.__all__`` is pinned, sorted, and complete."""

from __future__ import annotations

import re
import subprocess
import sys
import types

import vaultcache

EXPECTED = [
    "DO_NOT_CACHE",
    "EXPIRE_IMMEDIATELY",
    "NEVER_EXPIRE",
    "PLUGIN_API",
    "BackendError",
    "BaseCache",
    "CacheMixin",
    "CachedRequest",
    "CachedResponse",
    "CachedSession",
    "ConfigError",
    "ConfigTypeError",
    "DecodeError",
    "EncodeError",
    "EntryError",
    "FileCache",
    "IntegrityError",
    "KeyRing",
    "KeyRingError",
    "MissingDependencyError",
    "PluginConflictError",
    "PluginError",
    "PluginIncompatibleError",
    "PluginLoadError",
    "Retention",
    "SQLiteCache",
    "SerializerPipeline",
    "SizeLimitError",
    "SpecError",
    "Stage",
    "UnknownPluginError",
    "UnsafePipelineWarning",
    "VaultCacheError",
    "__version__",
    "build_pipeline",
    "clear",
    "delete",
    "disabled",
    "enabled",
    "generate_key",
    "get_cache",
    "hookimpl",
    "install_cache",
    "is_installed",
    "load_key_ring",
    "uninstall_cache",
]


def _ruf022_key(name: str) -> tuple[int, list[tuple[int, int | str]]]:
    """The order ruff's RUF022 ("isort-style") uses: CONSTANTS, Classes, then the rest,
    each group in natural order (digit runs compared as numbers)."""
    if len(name) > 1 and name.isupper():
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    natural = [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)]
    return group, natural


def test_all_is_pinned() -> None:
    assert vaultcache.__all__ == EXPECTED


def test_all_is_sorted_as_ruff_sorts_it() -> None:
    assert list(vaultcache.__all__) == sorted(vaultcache.__all__, key=_ruf022_key)
    assert len(set(vaultcache.__all__)) == len(vaultcache.__all__)


def test_every_name_resolves() -> None:
    for name in vaultcache.__all__:
        assert getattr(vaultcache, name, None) is not None, name
        assert not isinstance(getattr(vaultcache, name), types.ModuleType), name


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from vaultcache import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(vaultcache.__all__)


def test_other_public_names_are_only_submodules() -> None:
    extra = [name for name in dir(vaultcache) if not name.startswith("_") and name not in EXPECTED]
    not_modules = [
        name for name in extra if not isinstance(getattr(vaultcache, name), types.ModuleType)
    ]
    assert not_modules == []
    for name in extra:
        assert getattr(vaultcache, name).__name__ == f"vaultcache.{name}"


def test_public_names_of_a_fresh_import_are_only_submodules() -> None:
    """The same check in a clean interpreter, where no other test has imported anything."""
    code = (
        "import types, vaultcache\n"
        "public = [n for n in dir(vaultcache) if not n.startswith('_')]\n"
        "extra = [n for n in public if n not in vaultcache.__all__]\n"
        "bad = [n for n in extra if not isinstance(getattr(vaultcache, n), types.ModuleType)]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
