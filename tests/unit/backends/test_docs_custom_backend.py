"""The custom backend of docs/user-guide.md runs, and its storage passes the storage contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vaultcache.backends.base import BaseStorage
from vaultcache.testing import StorageContract

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "user-guide.md"


def _example() -> dict[str, Any]:
    """The names the guide's custom backend example defines, from running it as shown."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Custom backends", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(block, f"{GUIDE}: custom backend example", "exec"), namespace)
    return namespace


class TestDocsDictStorage(StorageContract):
    """The guide's DictStorage, as a reader would copy it."""

    def make_storage(self, tmp_path: Path) -> BaseStorage:
        storage: BaseStorage = _example()["DictStorage"]()
        return storage


def test_the_example_builds_a_session() -> None:
    namespace = _example()
    session = namespace["session"]
    with session:
        cache = session.cache
        assert isinstance(cache, namespace["DictCache"])
        assert isinstance(cache.responses.storage, namespace["DictStorage"])
