"""SECURITY.md links each guarantee to its tests: every link must lead to a file that exists,
and every test it names must be defined there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[([^\]]+)\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_test_security_md_names_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    links = [(label, target) for label, target in LINK.findall(text) if "://" not in target]
    assert len(links) > 30
    problems = []
    for label, target in links:
        path = ROOT / target
        if not path.exists():
            problems.append(f"{target}: no such file")
            continue
        names = re.findall(r"\btest_\w+\b(?!\.py)", label)
        source = path.read_text(encoding="utf-8") if path.is_file() else ""
        problems += [f"{target}: no {name}" for name in names if f"def {name}(" not in source]
    assert problems == []
    for path in sorted((ROOT / "tests" / "security").glob("test_*.py")):
        assert f"tests/security/{path.name}" in text, f"SECURITY.md does not link {path.name}"
