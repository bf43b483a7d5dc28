"""``vaultcache plugins``: every stage, backend and key source, and plugins that failed."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from vaultcache.registry import PluginRegistry, get_registry

__all__ = ["add_parser", "render"]


def add_parser(commands: Any) -> None:
    """Add the ``plugins`` subcommand."""
    parser = commands.add_parser("plugins", help="list stages, backends and key sources")
    parser.set_defaults(run=_run)


def render(registry: PluginRegistry) -> str:
    """The listing as text: one table per category, then conflicts and failures."""
    lines: list[str] = []
    for title, registrations in (
        ("Stages", registry.stages()),
        ("Backends", registry.backends()),
        ("Key sources", registry.key_sources()),
    ):
        lines.append(f"{title}:")
        rows = [
            (
                r.name,
                r.kind,
                str(r.provider),
                r.description + ("" if r.available else f" [needs extra {r.extra!r}]"),
            )
            for r in registrations
        ]
        lines.extend(_table(rows) if rows else ["  (none)"])
        lines.append("")
    problems = [*registry.conflicts(), *registry.failures()]
    if problems:
        lines.append("Problems:")
        lines.extend(f"  {problem}" for problem in problems)
    return "\n".join(lines).rstrip() + "\n"


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    ]


def _run(args: argparse.Namespace) -> int:
    registry = get_registry()
    print(render(registry), end="")
    return 1 if registry.conflicts() or registry.failures() else 0
