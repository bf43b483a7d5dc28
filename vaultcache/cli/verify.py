"""``vaultcache verify``, ``purge`` and ``vacuum``: prove a cache intact, bound it, shrink it."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vaultcache import clock
from vaultcache.cache import BaseCache
from vaultcache.cli.common import add_cache_arguments, emit_json
from vaultcache.cli.inspect import entry_json, table
from vaultcache.cli.opening import open_existing
from vaultcache.cli.scan import (
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
        "verify", help="authenticate and decode every entry; exit status 1 if any is bad"
    )
    add_cache_arguments(verify)
    verify.add_argument("--delete", action="store_true", help="delete the bad entries")
    verify.add_argument(
        "--delete-unknown-keys",
        action="store_true",
        help="with --delete, also delete entries written under keys that are not in the key "
        "ring (kept by default: adding the key back makes them readable)",
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
        checked = 0
        bad: list[Entry] = []
        for entry in scan(opened.cache, "verifying", opened.ring):
            checked += 1
            if not entry.readable:
                bad.append(entry)
        doomed = [e for e in bad if args.delete_unknown_keys or not e.unknown_key]
        deleted = _delete_unchanged(opened.cache, doomed) if args.delete else 0
    finally:
        opened.close()
    kept = (
        sum(1 for e in bad if e.unknown_key) if args.delete and not args.delete_unknown_keys else 0
    )
    if args.json:
        emit_json(
            {
                "checked": checked,
                "ok": checked - len(bad),
                "bad": [entry_json(e, None) | {"unknown_key": e.unknown_key} for e in bad],
                "deleted": deleted,
                "kept_unknown_key": kept,
            }
        )
    else:
        print(f"checked {plural(checked, 'entry')}: {checked - len(bad)} ok, {len(bad)} bad")
        if bad:
            rows = [("KEY", "KEY ID", "ERROR")]
            rows += [(e.key, e.key_id or "-", e.error or "") for e in bad]
            print("\n".join(table(rows, indent="  ")))
        if args.delete:
            print(f"deleted {plural(deleted, 'bad entry')}")
        if kept:
            print(
                f"kept {plural(kept, 'entry')} written under keys that are not in the key ring: "
                "add the key to read them, or delete them with --delete --delete-unknown-keys"
            )
    return 1 if bad else 0


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
        entries = list(scan(opened.cache, "reading", opened.ring))
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
        storages: dict[str, Any] = {}
        for storage in (opened.cache.storage, opened.cache.redirect_storage):
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
