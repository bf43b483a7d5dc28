"""``vaultcache demo``: the first command a newcomer runs, with no configuration at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_demo_passes_on_a_fresh_machine(cli: Any, tmp_path: Path) -> None:
    result = cli("demo", keys="")  # no key anywhere: the demo creates one in the data dir

    assert result.status == 0, result.stderr
    for step in ("miss", "hit", "stored", "verify", "tampered"):
        assert any(line.startswith(step) for line in result.out.splitlines()), step
    assert "plaintext visible: no" in result.out
    assert "all checks passed" in result.out
    assert (tmp_path / "data" / "keys").stat().st_mode & 0o777 == 0o600


def test_demo_with_another_serializer(cli: Any) -> None:
    result = cli("demo", "--serializer", "signed+zstd+fernet")

    assert result.status == 0, result.stderr
    assert "msgpack+signed+zstd+fernet" in result.out
