"""README.md's rotation recipe, followed literally from the auto-created key: it keeps the
old key in the ring, so ``rotate`` re-encrypts every entry instead of failing on each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).parents[2] / "README.md"


@pytest.mark.parametrize("where", ["environment", "key file"])
def test_the_readme_rotation_recipe_keeps_the_old_key(
    origin: Any, cli: Any, tmp_path: Path, where: str
) -> None:
    assert 'VAULTCACHE_KEYS="NEW_KEY,OLD_KEY"' in README.read_text()
    fetched = cli("get", origin.url("/data/rotate-me"), "--cache", "c", keys="")
    assert fetched.status == 0, fetched.stderr
    key_file = tmp_path / "data" / "keys"
    old = key_file.read_text().strip()  # the key the first run created
    new = cli("keys", "generate").out.strip()

    if where == "environment":
        rotated = cli("rotate", "--cache", "c", keys=f"{new},{old}")
    else:
        key_file.write_text(f"{new}\n{old}\n")
        rotated = cli("rotate", "--cache", "c", keys="")

    assert rotated.status == 0, rotated.stderr
    assert "rotated            1" in rotated.out
