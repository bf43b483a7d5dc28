"""``vaultcache keys``: make keys, and see which key wrote how many entries.

Key material is printed only by ``keys generate``; ``keys list`` shows public key ids.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from vaultcache.cli.common import add_cache_arguments, emit_json
from vaultcache.cli.inspect import table
from vaultcache.cli.opening import open_existing
from vaultcache.crypto_keys import KeyRing, generate_key
from vaultcache.entries import peek_header

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    """Add the ``keys`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser("keys", help="manage keys")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser("generate", help="print a new random key")
    generate.add_argument(
        "--json", action="store_true", help='print {"key": ..., "id": ...} for scripts'
    )
    generate.set_defaults(run=_generate)
    listing = actions.add_parser(
        "list", help="key ids (primary first) and how many stored entries each key wrote"
    )
    add_cache_arguments(listing)
    listing.add_argument("--json", action="store_true", help="print JSON for scripts")
    listing.set_defaults(run=_list)


def _generate(args: argparse.Namespace) -> int:
    key = generate_key()
    if args.json:
        emit_json({"key": key, "id": KeyRing([key]).ids[0]})
    else:
        print(key)
    return 0


UNKNOWN = "unknown key (cannot be read)"
UNSIGNED = "not signed or encrypted"
OLD_FORMAT = "older entry format (key id not recorded)"
#: Counted for an entry whose header this version cannot read (another format version).
_OLD = "old format"


def _list(args: argparse.Namespace) -> int:
    opened = open_existing(args, read_only=True)
    try:
        storage = opened.cache.storage
        # Only the (unverified) header is needed: nothing is decrypted.
        written = Counter(_written_by(data) for data in map(storage.get, list(storage)) if data)
    finally:
        opened.close()
    ids = opened.ring.ids if opened.ring else []
    keys = [
        {"id": key_id, "primary": position == 0, "entries": written.pop(key_id, 0)}
        for position, key_id in enumerate(ids)
    ]
    unsigned = written.pop(None, 0)
    old_format = written.pop(_OLD, 0)
    unknown = [
        {"id": key_id, "entries": count} for key_id, count in sorted(written.items()) if key_id
    ]
    if args.json:
        emit_json(
            {
                "keys": keys,
                "unknown_keys": unknown,
                "unsigned_entries": unsigned,
                "old_format_entries": old_format,
            }
        )
        return 0
    rows = [("KEY ID", "ROLE", "ENTRIES")]
    rows += [
        (str(k["id"]), "primary" if k["primary"] else "read only", str(k["entries"])) for k in keys
    ]
    rows += [(str(u["id"]), UNKNOWN, str(u["entries"])) for u in unknown]
    if unsigned:
        rows.append(("-", UNSIGNED, str(unsigned)))
    if old_format:
        rows.append(("?", OLD_FORMAT, str(old_format)))
    if len(rows) == 1:
        rows.append(("-", "no keys configured and no entries", "0"))
    print("\n".join(table(rows)))
    return 0


def _written_by(data: bytes) -> str | None:
    """The key id an entry's header names, None if unsigned, `_OLD` without a header."""
    header = peek_header(data)
    return _OLD if header is None else header.key_id
