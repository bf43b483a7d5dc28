"""docs/plugins.md stays true: what it quotes of vaultcache-brotli is there; links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugins.md"
BROTLI = ROOT / "plugins" / "vaultcache-brotli"
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def _walk_through() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    return text.split("## Walk through", 1)[1].split("\n## ", 1)[0]


def _package_lines() -> set[str]:
    files = [*BROTLI.glob("src/**/*.py"), *BROTLI.glob("tests/*.py"), BROTLI / "pyproject.toml"]
    return {line.strip() for file in files for line in file.read_text("utf-8").splitlines()}


@pytest.mark.skipif(not BROTLI.is_dir(), reason="plugins/vaultcache-brotli is not in this tree")
def test_quoted_code_is_in_the_brotli_package() -> None:
    real = _package_lines()
    quoted = [
        line.strip()
        for language, block in _BLOCK.findall(_walk_through())
        if language in ("python", "toml")
        for line in block.splitlines()
        if line.strip() and line.strip() != "..."
    ]
    assert quoted
    missing = [line for line in quoted if line not in real]
    assert missing == [], "docs/plugins.md quotes lines the brotli package does not have"


@pytest.mark.skipif(not BROTLI.is_dir(), reason="plugins/vaultcache-brotli is not in this tree")
def test_the_package_layout_is_as_described() -> None:
    block = _walk_through().split("```\nplugins/vaultcache-brotli/\n", 1)[1].split("```", 1)[0]
    for line in block.splitlines():
        path = line.split()[0]
        assert (BROTLI / path).exists(), f"docs/plugins.md lists {path}, which does not exist"


def test_local_links_resolve() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for target in re.findall(r"\]\((?!https?://)([^)#]+)(?:#[^)]*)?\)", text):
        assert (GUIDE.parent / target).exists(), f"broken link to {target}"
    assert "### `plugins.allow`" in (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
