"""docs/migrating.md covers requests-cache 1.x: every session option, setting, cache method
and module-level function is named there, and every option vaultcache refuses or renames."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from vaultcache import compat

requests_cache = pytest.importorskip("requests_cache")

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "migrating.md").read_text(encoding="utf-8")


def _requests_cache_names() -> set[str]:
    from requests_cache.policy.settings import CacheSettings

    names = set(inspect.signature(requests_cache.CachedSession.__init__).parameters)
    names |= {field.name for field in CacheSettings.__attrs_attrs__}
    names |= {n for n in dir(requests_cache.BaseCache) if not n.startswith("_")}
    patcher = requests_cache.patcher
    names |= {
        name
        for name, value in vars(patcher).items()
        if inspect.isfunction(value) and value.__module__ == patcher.__name__ and name[0] != "_"
    }
    names |= {"SQLiteCache", "FileCache", "RedisCache", "SerializerPipeline", "Stage"}
    return names - {"self", "kwargs"}


def test_every_requests_cache_name_is_in_the_guide() -> None:
    missing = sorted(name for name in _requests_cache_names() if name not in GUIDE)
    assert missing == [], f"docs/migrating.md does not mention {missing}"


def test_every_refused_or_renamed_option_is_in_the_guide() -> None:
    for name in [*compat._REFUSED, *compat._RENAMED, "max_cache_bytes", "decode_content"]:
        assert f"`{name}" in GUIDE, name


def test_the_readme_links_the_guide() -> None:
    assert "(docs/migrating.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
