"""``vaultcache train``: train a zstd dictionary from stored responses, list dictionaries, or
prune those no entry names.

New entries are written with the dictionary trained last; every dictionary stays in the cache
while entries name it, so older entries read as before. Only ``--prune`` deletes, and only
dictionaries that nothing can be read with (:mod:`vaultcache.dictionaries.pruning`).
"""

from __future__ import annotations

import argparse
from typing import Any

from vaultcache.cli.common import add_cache_arguments, emit_json
from vaultcache.cli.inspect import table
from vaultcache.cli.opening import open_existing
from vaultcache.dictionaries import (
    DEFAULT_DICTIONARY_SIZE,
    DEFAULT_SAMPLES,
    MAX_DICTIONARY_SIZE,
    DictionaryStore,
    prune,
    train,
)
from vaultcache.dictionaries.pruning import named_dictionaries
from vaultcache.errors import TrainingError

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    """Add the ``train`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "train",
        help="train a zstd dictionary from stored responses; new entries are written with it",
        description="Read a random sample of stored responses (with bodies of at most 64 KiB), "
        "train a zstd dictionary from them, store it sealed by the serializer's signing or "
        "encryption stage, and write new entries with it. Dictionaries trained before are "
        "kept for the entries that name them. With --list, only list the dictionaries; with "
        "--prune, only delete the dictionaries that are not current and that no entry names.",
    )
    add_cache_arguments(parser)
    parser.add_argument(
        "--size",
        type=int,
        default=DEFAULT_DICTIONARY_SIZE,
        metavar="BYTES",
        help=f"largest dictionary to train (default {DEFAULT_DICTIONARY_SIZE})",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        metavar="N",
        help=f"how many stored responses to train from (default {DEFAULT_SAMPLES})",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the dictionaries and the entries naming each"
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="delete the dictionaries no entry names (once the current one is an hour old)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if not 256 <= args.size <= MAX_DICTIONARY_SIZE:
        raise TrainingError(f"--size must be from 256 to {MAX_DICTIONARY_SIZE} bytes")
    if args.samples < 1:
        raise TrainingError("--samples must be 1 or more")
    if args.list and args.prune:
        raise TrainingError("--list and --prune cannot be given together")
    opened = open_existing(args, read_only=args.list)
    try:
        store = opened.cache.dictionaries
        if args.list:
            return _list(opened.cache.storage, store, as_json=args.json)
        if args.prune:
            return _prune(opened.cache, as_json=args.json)
        report = train(opened.cache, size=args.size, samples=args.samples)
    finally:
        opened.close()
    if args.json:
        emit_json(
            {
                "dictionary": report.dictionary_id,
                "size": report.size,
                "samples": report.samples,
                "sample_bytes": report.sample_bytes,
                "previous": report.previous_id,
            }
        )
        return 0
    print(
        f"trained zstd dictionary {report.dictionary_id}: {report.size} bytes from "
        f"{report.samples} responses ({report.sample_bytes} bytes); new entries are written with it"
    )
    if report.previous_id is not None:
        print(f"dictionary {report.previous_id} is kept for the entries written with it")
    return 0


def _list(storage: Any, store: DictionaryStore | None, *, as_json: bool) -> int:
    ids = sorted(store.ids()) if store is not None else []
    current = store.current_id() if store is not None else None
    # Only the (unverified) headers are read: nothing is decrypted.
    named = named_dictionaries(map(storage.get, list(storage)))
    rows = [
        {"id": i, "current": i == current, "entries": named.pop(i, 0), "stored": True} for i in ids
    ]
    rows += [{"id": i, "current": False, "entries": n, "stored": False} for i, n in named.items()]
    if as_json:
        emit_json({"dictionaries": rows})
        return 0
    lines = [("DICTIONARY", "ENTRIES", "STATE")]
    for row in rows:
        state = "current" if row["current"] else "kept" if row["stored"] else "missing"
        lines.append((str(row["id"]), str(row["entries"]), state))
    if len(lines) == 1:
        lines.append(("-", "0", "none trained (run `vaultcache train`)"))
    print("\n".join(table(lines)))
    return 0


def _prune(cache: Any, *, as_json: bool) -> int:
    report = prune(cache)
    if as_json:
        emit_json(
            {
                "deleted": list(report.deleted),
                "kept": list(report.kept),
                "held_back": report.held_back,
            }
        )
        return 0
    if report.held_back is not None:
        print(f"no dictionary deleted: {report.held_back}")
    else:
        print(f"deleted {len(report.deleted)} dictionaries no entry names; kept {len(report.kept)}")
    for dictionary_id in report.deleted:
        print(f"  deleted {dictionary_id}")
    return 0
