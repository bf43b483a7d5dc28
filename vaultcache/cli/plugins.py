"""``vaultcache plugins``: every stage, backend and key source, and plugins that did not load."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from vaultcache.cli.common import add_shared_options, emit_json
from vaultcache.config import load_settings
from vaultcache.errors import PluginIncompatibleError
from vaultcache.registry import PluginRegistry, get_registry, normalise_distribution

__all__ = ["add_parser", "as_json", "render"]

_ALLOW_HINT = (
    "  (to load one, add its package name to 'allow' under [plugins] in the config file, "
    "or to VAULTCACHE_PLUGINS)"
)


def add_parser(commands: Any) -> None:
    """Add the ``plugins`` subcommand."""
    parser = commands.add_parser(
        "plugins", help="list stages, backends and key sources, and plugins that did not load"
    )
    add_shared_options(parser, cache=False)
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(run=_run)


def render(registry: PluginRegistry) -> str:
    """The listing as text: one table per category, then each kind of problem."""
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
    if registry.allowed is not None:
        lines.extend([f"Allowed plugin packages: {_allowed(registry)}", ""])
    failures = registry.failures()
    incompatible = [f for f in failures if isinstance(f, PluginIncompatibleError)]
    broken = [f for f in failures if not isinstance(f, PluginIncompatibleError)]
    sections = (
        ("Conflicts (neither package's name is used)", [str(c) for c in registry.conflicts()], ""),
        ("Not loaded (errors)", [str(f) for f in broken], ""),
        ("Not loaded (incompatible)", [f.reason for f in incompatible], ""),
        (
            "Installed, not allowed (never imported)",
            [f"{p} (entry point {p.entry_point})" for p in registry.not_allowed()],
            _ALLOW_HINT,
        ),
    )
    for title, items, footer in sections:
        if items:
            lines.extend([f"{title}:", *(f"  {item}" for item in items)])
            lines.extend([footer, ""] if footer else [""])
    return "\n".join(lines).rstrip() + "\n"


def _allowed(registry: PluginRegistry) -> str:
    """The allow-list, marking names no installed package has (a typo, or not installed)."""
    installed = {normalise_distribution(p.distribution) for p in registry.installed()}
    names = [
        name if name in installed else f"{name} (not installed)"
        for name in sorted(registry.allowed or ())
    ]
    return ", ".join(names) or "none (built-ins only)"


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    ]


def as_json(registry: PluginRegistry) -> dict[str, Any]:
    """The listing as one JSON-ready document: the same facts as :func:`render`."""
    failures = registry.failures()
    return {
        category: [
            {
                "name": r.name,
                "kind": r.kind,
                "provider": str(r.provider),
                "description": r.description,
                "available": r.available,
                "extra": r.extra,
            }
            for r in registrations
        ]
        for category, registrations in (
            ("stages", registry.stages()),
            ("backends", registry.backends()),
            ("key_sources", registry.key_sources()),
        )
    } | {
        "allowed": None if registry.allowed is None else sorted(registry.allowed),
        "conflicts": [str(c) for c in registry.conflicts()],
        "errors": [str(f) for f in failures if not isinstance(f, PluginIncompatibleError)],
        "incompatible": [f.reason for f in failures if isinstance(f, PluginIncompatibleError)],
        "not_allowed": [
            {"distribution": str(p), "entry_point": str(p.entry_point)}
            for p in registry.not_allowed()
        ],
    }


def _run(args: argparse.Namespace) -> int:
    registry = get_registry()
    load_settings(args.config).plugins.apply(registry)
    if args.json:
        emit_json(as_json(registry))
    else:
        print(render(registry), end="")
    return 1 if registry.conflicts() or registry.failures() else 0
