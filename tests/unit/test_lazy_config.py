"""A session built in code never loads the config layer; ``from_config`` does, on first use."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from vaultcache import generate_key


def test_the_config_layer_loads_only_for_a_session_built_from_config(tmp_path: Path) -> None:
    config = tmp_path / "vaultcache.toml"
    config.write_text('backend = "memory"\n', encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import sys
        from vaultcache import CachedSession

        CachedSession("in-code", backend="memory", keys=[{generate_key()!r}]).close()
        assert "vaultcache.config" not in sys.modules, "loaded by a session built in code"

        CachedSession.from_config({str(config)!r}, keys=[{generate_key()!r}]).close()
        assert "vaultcache.config" in sys.modules
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.stdout.strip() == "ok", result.stderr
