"""``vaultcache verify``, ``purge`` and ``vacuum``: prove a cache intact, bound it, shrink it."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vaultcache import clock
from vaultcache.cache import BaseCache
from vaultcache.cli.common import add_cache_arguments, emit_json
from vaultcache.cli.inspect import entry_json, table
from vaultcache.cli.opening import open_existing
from vaultcache.cli.scan import (
    OK,
    OUTCOMES,
    TAMPERED,
    Entry,
    add_selection_arguments,
    digest_of,
    format_time,
    plural,
    scan,
    selection_from,
)

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    """Add the ``verify``, ``purge`` and ``vacuum`` subcommands."""
    verify = commands.add_parser(
        "verify",
        help="authenticate every entry, bodies included; exit status 1 if any is tampered",
    )
    add_cache_arguments(verify)
    verify.add_argument(
        "--delete",
        action="store_true",
        help="delete the tampered entries (entries another key, plugin or release could "
        "read are kept unless --delete-kept is given too)",
    )
    verify.add_argument(
        "--delete-kept",
        "--delete-unknown-keys",
        dest="delete_kept",
        action="store_true",
        help="with --delete, also delete the entries this reader cannot read but another "
        "could: unknown key, missing stage, refused spec, old format",
    )
    verify.add_argument("--json", action="store_true", help="print JSON for scripts")
    verify.set_defaults(run=_verify)

    purge = commands.add_parser(
        "purge", help="delete the responses that match every filter given (at least one)"
    )
    add_cache_arguments(purge)
    add_selection_arguments(purge)
    purge.add_argument("--dry-run", action="store_true", help="show what would be deleted")
    purge.add_argument("--json", action="store_true", help="print JSON for scripts")
    purge.set_defaults(run=_purge)

    vacuum = commands.add_parser("vacuum", help="return the space of deleted entries to the OS")
    add_cache_arguments(vacuum)
    vacuum.set_defaults(run=_vacuum)


# -- verify --------------------------------------------------------------------------------


def _verify(args: argparse.Namespace) -> int:
    opened = open_existing(args, read_only=not args.delete)
    try:
        counts = Counter(dict.fromkeys(OUTCOMES, 0))
        bad: list[Entry] = []
        for entry in scan(opened.cache, "verifying", deep=True):
            counts[entry.outcome] += 1
            if not entry.readable:
                bad.append(entry)
        damaged = _damaged(opened.cache)
        counts[TAMPERED] += len(damaged)
        bad += damaged
        doomed = [e for e in bad if args.delete_kept or not e.kept]
        deleted = _delete_unchanged(opened.cache, doomed) if args.delete else 0
        if args.delete and damaged:
            deleted += opened.cache.storage.delete_damaged()
            opened.cache.redirect_storage.delete_damaged()
    finally:
        opened.close()
    checked = sum(counts.values())
    kept = sum(1 for e in bad if e.kept) if not (args.delete and args.delete_kept) else 0
    if args.json:
        emit_json(
            {
                "checked": checked,
                "outcomes": dict(counts),
                "ok": counts[OK],
                "bad": [entry_json(e, None) for e in bad],
                "deleted": deleted,
                "kept": kept,
            }
        )
    else:
        summary = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o] or o == OK)
        print(f"checked {plural(checked, 'entry')}: {summary}")
        if bad:
            rows = [("KEY", "OUTCOME", "KEY ID", "SPEC", "DETAIL")]
            rows += [(e.key, e.outcome, e.key_id or "-", e.spec or "-", e.error or "") for e in bad]
            print("\n".join(table(rows, indent="  ")))
        if args.delete:
            print(f"deleted {plural(deleted, 'entry')}")
        if kept:
            print(
                f"kept {plural(kept, 'entry')} that another key, plugin or release could read: "
                "add what they need, or delete them with --delete --delete-kept"
            )
    return 1 if counts[TAMPERED] else 0


def _damaged(cache: BaseCache) -> list[Entry]:
    """Stored items that no key reaches (damaged rows), as bad entries."""
    storages = ((cache.storage, "entry"), (cache.redirect_storage, "redirect record"))
    return [
        Entry(
            key=description,
            stored_bytes=0,
            key_id=None,
            error=f"damaged {what}",
            outcome=TAMPERED,
        )
        for storage, what in storages
        for description in storage.damaged_items()
    ]


def _delete_unchanged(cache: BaseCache, entries: Iterable[Entry]) -> int:
    """Delete `entries` (and redirects to them) unless another process rewrote one meanwhile."""
    keys = []
    for entry in entries:
        data = cache.storage.get(entry.key)
        if data is not None and digest_of(data) == entry.digest:
            keys.append(entry.key)
    return cache.delete(*keys) if keys else 0


# -- purge ---------------------------------------------------------------------------------


def _purge(args: argparse.Namespace) -> int:
    now = clock.now()
    selection = selection_from(args, now)
    if not selection.active:
        print(
            "vaultcache: error: purge needs at least one filter: --expired, --fresh, "
            "--older-than DURATION or --url GLOB (--url '*' selects every readable entry)",
            file=sys.stderr,
        )
        return 2
    opened = open_existing(args, read_only=args.dry_run)
    try:
        entries = list(scan(opened.cache, "reading"))
        matched = [e for e in entries if e.readable and selection.matches(e, now)]
        removed = 0 if args.dry_run else opened.cache.delete(*(e.key for e in matched))
    finally:
        opened.close()
    unreadable = sum(1 for e in entries if not e.readable)
    if args.json:
        emit_json(
            {
                "dry_run": args.dry_run,
                "matched": [entry_json(e, now) for e in matched],
                "removed": removed,
                "unreadable_skipped": unreadable,
            }
        )
    elif args.dry_run:
        print(f"would remove {plural(len(matched), 'entry')}")
        for entry in sorted(matched, key=lambda e: e.response.url if e.response else ""):
            if entry.response is not None:
                created = format_time(entry.response.created_at)
                print(f"  {entry.response.request.method} {entry.response.url}  ({created})")
    else:
        print(f"removed {plural(removed, 'entry')}")
    if unreadable:
        print(
            f"vaultcache: left alone {plural(unreadable, 'unreadable entry')} (filters cannot "
            "match them); `vaultcache verify --delete` removes them",
            file=sys.stderr,
        )
    return 0


# -- vacuum --------------------------------------------------------------------------------


def _vacuum(args: argparse.Namespace) -> int:
    opened = open_existing(args, read_only=False)
    try:
        orphans = opened.cache.collect_orphan_chunks()
        if orphans:
            print(f"deleted {plural(orphans, 'body chunk')} that no entry names")
        storages: dict[str, Any] = {}
        cache = opened.cache
        for storage in (cache.storage, cache.redirect_storage, cache.chunk_storage):
            if callable(getattr(storage, "vacuum", None)):
                # Tables of one sqlite file share it: one VACUUM rebuilds the whole file.
                storages.setdefault(str(getattr(storage, "path", id(storage))), storage)
        if not storages:
            how = (
                "it frees an entry's space as soon as the entry is deleted"
                if opened.backend == "filesystem"
                else "this backend has no vacuum operation"
            )
            print(f"nothing to vacuum: {how}")
            return 0
        for name, storage in storages.items():
            before = _file_size(name)
            storage.vacuum()
            after = _file_size(name)
            if before is None or after is None:
                print(f"vacuumed {name}")
            else:
                print(f"vacuumed {name}: {before} -> {after} bytes")
    finally:
        opened.close()
    return 0


def _file_size(name: str) -> int | None:
    """Bytes of a database file and its write-ahead log, or None when `name` is no file."""
    path = Path(name)
    if not path.is_file():
        return None
    wal = Path(f"{name}-wal")
    return os.path.getsize(path) + (os.path.getsize(wal) if wal.is_file() else 0)
