"""What the docs tell readers to import exists: every import in a Python block, every dotted name.

The plugin author's pages (docs/plugins.md, docs/hooks.md) name only ``vaultcache``,
``vaultcache.plugin`` and ``vaultcache.testing``: what a plugin should import.
"""

from __future__ import annotations

import importlib
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "README.md",
    ROOT / "SECURITY.md",
    *sorted(ROOT.glob("plugins/*/README.md")),
]
PLUGIN_AUTHOR_PAGES = {ROOT / "docs" / "plugins.md", ROOT / "docs" / "hooks.md"}
PLUGIN_AUTHOR_MODULES = {"vaultcache", "vaultcache.plugin", "vaultcache.testing"}
#: Dotted words in backticks that are not Python names: a file name and an HMAC salt.
NOT_PYTHON = {"vaultcache.toml", "vaultcache.signed"}

_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_MODULE = r"vaultcache\w*(?:\.\w+)*"
_IMPORT = re.compile(
    rf"^[ \t]*(?:from[ \t]+({_MODULE})[ \t]+import[ \t]+(?:\([^)]*\)|[^\n]*)"
    rf"|import[ \t]+({_MODULE})[^\n]*)",
    re.MULTILINE,
)
_REFERENCE = re.compile(r"`(vaultcache(?:\.[A-Za-z_]\w*)+)")


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _imports() -> list[tuple[Path, str, str]]:
    found = []
    for page in PAGES:
        for block in _BLOCK.findall(page.read_text(encoding="utf-8")):
            for match in _IMPORT.finditer(block):
                module = match.group(1) or match.group(2)
                found.append((page, module, textwrap.dedent(match.group(0)).strip()))
    return found


def _references() -> list[tuple[Path, str]]:
    found = set()
    for page in PAGES:
        for dotted in _REFERENCE.findall(page.read_text(encoding="utf-8")):
            if dotted not in NOT_PYTHON:
                found.add((page, dotted))
    return sorted(found)


def _module_of(dotted: str) -> str:
    """The longest prefix of `dotted` that is an importable module."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        try:
            importlib.import_module(".".join(parts[:end]))
        except ModuleNotFoundError:
            continue
        return ".".join(parts[:end])
    raise AssertionError(f"{dotted}: no module of it can be imported")


IMPORTS = _imports()
REFERENCES = _references()


def test_the_docs_import_something() -> None:
    assert len(IMPORTS) > 10
    assert len(REFERENCES) > 10


@pytest.mark.parametrize(
    ("page", "module", "statement"),
    IMPORTS,
    ids=[f"{_name(page)}:{statement}" for page, _, statement in IMPORTS],
)
def test_import_lines_work(page: Path, module: str, statement: str) -> None:
    exec(compile(statement, _name(page), "exec"), {})
    if page in PLUGIN_AUTHOR_PAGES and module.startswith("vaultcache."):
        assert module in PLUGIN_AUTHOR_MODULES, f"{_name(page)} sends plugin authors to {module}"


@pytest.mark.parametrize(
    ("page", "dotted"), REFERENCES, ids=[f"{_name(page)}:{dotted}" for page, dotted in REFERENCES]
)
def test_dotted_names_resolve(page: Path, dotted: str) -> None:
    module = _module_of(dotted)
    target: object = importlib.import_module(module)
    for attribute in dotted.removeprefix(module).split(".")[1:]:
        assert hasattr(target, attribute), f"{_name(page)} names {dotted}, which does not exist"
        target = getattr(target, attribute)
    if page in PLUGIN_AUTHOR_PAGES:
        assert module in PLUGIN_AUTHOR_MODULES, f"{_name(page)} sends plugin authors to {module}"
