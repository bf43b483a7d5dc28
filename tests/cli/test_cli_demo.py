"""``vaultcache demo``: the first command a newcomer runs, with no configuration at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_demo_passes_on_a_fresh_machine_and_leaves_no_key(cli: Any, tmp_path: Path) -> None:
    result = cli("demo", keys="")  # no key anywhere: the demo uses a temporary one

    assert result.status == 0, result.stderr
    for step in ("miss", "hit", "stored", "verify", "tampered"):
        assert any(line.startswith(step) for line in result.out.splitlines()), step
    assert "plaintext visible: no" in result.out
    assert "all checks passed" in result.out
    assert "a temporary key" in result.out
    assert not (tmp_path / "data").exists()


def test_demo_uses_the_configured_key(cli: Any, key: str) -> None:
    from vaultcache.crypto_keys import KeyRing

    result = cli("demo")  # VAULTCACHE_KEYS holds `key`

    assert result.status == 0, result.stderr
    assert "key       the configured key ring" in result.out
    assert f"key id {KeyRing([key]).ids[0]}" in result.out


def test_demo_with_another_serializer(cli: Any) -> None:
    result = cli("demo", "--serializer", "signed+zstd+fernet")

    assert result.status == 0, result.stderr
    assert "msgpack+zstd+fernet" in result.out  # signed is covered by fernet
