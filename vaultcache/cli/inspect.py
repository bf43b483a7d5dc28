"""``vaultcache ls`` and ``vaultcache stats``: what a cache holds, without changing it."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from vaultcache import clock
from vaultcache.cli.common import add_cache_arguments, emit_json
from vaultcache.cli.opening import OpenCache, cache_location, open_existing
from vaultcache.cli.scan import (
    Entry,
    add_selection_arguments,
    format_time,
    plural,
    scan,
    selection_from,
)

__all__ = ["add_parser", "entry_json", "table"]


def add_parser(commands: Any) -> None:
    """Add the ``ls`` and ``stats`` subcommands."""
    listing = commands.add_parser(
        "ls", help="list stored responses (URL, status, size, created, expires, key id)"
    )
    add_cache_arguments(listing)
    add_selection_arguments(listing)
    listing.add_argument("--json", action="store_true", help="print JSON for scripts")
    listing.set_defaults(run=_ls)

    stats = commands.add_parser("stats", help="counts and sizes of a cache's entries")
    add_cache_arguments(stats)
    stats.add_argument("--json", action="store_true", help="print JSON for scripts")
    stats.set_defaults(run=_stats)


# -- ls ------------------------------------------------------------------------------------


def entry_json(entry: Entry, now: Any) -> dict[str, Any]:
    """One entry as ``ls --json`` and ``purge --json`` show it (never its contents)."""
    response = entry.response
    if response is None:
        return {
            "key": entry.key,
            "stored_bytes": entry.stored_bytes,
            "key_id": entry.key_id,
            "spec": entry.spec,
            "outcome": entry.outcome,
            "error": entry.error,
        }
    return {
        "key": entry.key,
        "method": response.request.method,
        "url": response.url,
        "status": response.status_code,
        "body_bytes": response.size,
        "stored_bytes": entry.stored_bytes,
        "created": format_time(response.created_at),
        "expires": None if response.expires is None else format_time(response.expires),
        "expired": entry.is_expired(now),
        "key_id": entry.key_id,
        "spec": entry.spec,
    }


def table(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """Rows as left-aligned columns (the last one unpadded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        indent
        + "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


def _ls(args: argparse.Namespace) -> int:
    opened = open_existing(args, read_only=True)
    try:
        now = clock.now()
        selection = selection_from(args, now)
        entries = list(scan(opened.cache, "reading"))
    finally:
        opened.close()
    shown = sorted(
        (e for e in entries if e.readable and selection.matches(e, now)),
        key=lambda e: (e.response.url if e.response else "", e.key),
    )
    unreadable = [e for e in entries if not e.readable]
    if args.json:
        emit_json(
            {
                "entries": [entry_json(e, now) for e in shown],
                "unreadable": [] if selection.active else [entry_json(e, now) for e in unreadable],
            }
        )
    else:
        _print_listing(shown, [] if selection.active else unreadable, now, selection.active)
    if selection.active and unreadable:
        print(
            f"vaultcache: not shown: {plural(len(unreadable), 'unreadable entry')} (filters "
            "cannot match them); run `vaultcache ls` without filters, or `vaultcache verify`",
            file=sys.stderr,
        )
    return 0


def _print_listing(shown: list[Entry], unreadable: list[Entry], now: Any, filtered: bool) -> None:
    rows = [("METHOD", "URL", "STATUS", "STORED", "CREATED", "EXPIRES", "SPEC", "KEY ID")]
    for entry in shown:
        response = entry.response
        if response is None:
            continue
        expires = format_time(response.expires)
        rows.append(
            (
                response.request.method,
                response.url,
                str(response.status_code),
                str(entry.stored_bytes),
                format_time(response.created_at),
                expires + (" (expired)" if entry.is_expired(now) else ""),
                entry.spec or "-",
                entry.key_id or "-",
            )
        )
    if shown:
        print("\n".join(table(rows)))
    elif not unreadable:
        print("no entries match" if filtered else "no entries")
    if unreadable:
        if shown:
            print()
        print(
            f"{plural(len(unreadable), 'unreadable entry')} (left as they are; "
            "`vaultcache verify` tells which are damaged and which are kept):"
        )
        bad = [("KEY", "STORED", "KEY ID", "ERROR")]
        bad += [(e.key, str(e.stored_bytes), e.key_id or "-", e.error or "") for e in unreadable]
        print("\n".join(table(bad, indent="  ")))


# -- stats ---------------------------------------------------------------------------------


def _stats(args: argparse.Namespace) -> int:
    opened = open_existing(args, read_only=True)
    try:
        report = _collect(opened)
    finally:
        opened.close()
    if args.json:
        emit_json(report)
    else:
        _print_stats(report, opened)
    return 0


def _collect(opened: OpenCache) -> dict[str, Any]:
    cache = opened.cache
    now = clock.now()
    by_status: Counter[str] = Counter()
    by_key_id: Counter[str] = Counter()
    by_spec: Counter[str] = Counter()
    stored = expired = unreadable = entries = 0
    for entry in scan(cache, "reading"):
        entries += 1
        stored += entry.stored_bytes
        by_key_id[_key_label(entry)] += 1
        by_spec[entry.spec or _OLD_FORMAT] += 1
        if entry.response is None:
            unreadable += 1
            continue
        by_status[str(entry.response.status_code)] += 1
        expired += entry.is_expired(now)
    return {
        "location": cache_location(cache),
        "backend": opened.backend,
        "serializer": getattr(cache.serializer, "spec", type(cache.serializer).__name__),
        "entries": entries,
        "redirects": len(cache.redirect_storage),
        "stored_bytes": stored,
        "expired": expired,
        "unreadable": unreadable,
        "by_status": dict(sorted(by_status.items())),
        "by_key_id": dict(sorted(by_key_id.items())),
        "by_spec": dict(sorted(by_spec.items())),
    }


#: How stats name the key id and spec of an entry without a header (another format version).
_OLD_FORMAT = "no header (old format)"


def _key_label(entry: Entry) -> str:
    """The key id an entry was written under; "none" if unsigned, or that it has no header."""
    if entry.spec is None:
        return _OLD_FORMAT
    return entry.key_id or "none"


def _print_stats(report: dict[str, Any], opened: OpenCache) -> None:
    ring_ids = opened.ring.ids if opened.ring else []

    def key_label(key_id: str) -> str:
        if key_id == "none":
            return "not signed or encrypted"
        if key_id == _OLD_FORMAT:
            return key_id
        if not ring_ids:
            return key_id
        if key_id == ring_ids[0]:
            return f"{key_id} (primary)"
        return key_id if key_id in ring_ids else f"{key_id} (unknown key)"

    rows = [
        ("cache", report["location"]),
        ("backend", report["backend"]),
        ("serializer", report["serializer"]),
        (
            "entries",
            f"{report['entries']} ({report['expired']} expired, {report['unreadable']} unreadable)",
        ),
        ("redirects", str(report["redirects"])),
        ("stored", f"{_human(report['stored_bytes'])} ({report['stored_bytes']} bytes)"),
        ("by status", ", ".join(f"{k}: {v}" for k, v in report["by_status"].items()) or "-"),
        (
            "by key id",
            ", ".join(f"{key_label(k)}: {v}" for k, v in report["by_key_id"].items()) or "-",
        ),
        ("by spec", ", ".join(f"{k}: {v}" for k, v in report["by_spec"].items()) or "-"),
    ]
    print("\n".join(table(rows)))


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns
