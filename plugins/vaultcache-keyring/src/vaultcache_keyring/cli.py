"""``python -m vaultcache_keyring``: manage the vaultcache keys in the OS keyring.

Prints key ids only, never keys. ``store`` reads keys from standard input (one per line,
primary first), so they appear neither in the process list nor in shell history::

    vaultcache keys generate | python -m vaultcache_keyring store
    python -m vaultcache_keyring generate
    python -m vaultcache_keyring rotate
    python -m vaultcache_keyring show-ids
    python -m vaultcache_keyring retire 0123456789abcdef
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vaultcache.plugin import VaultCacheError
from vaultcache_keyring import store
from vaultcache_keyring.source import DEFAULT_SERVICE, DEFAULT_USERNAME

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    main_parser = argparse.ArgumentParser(
        prog="python -m vaultcache_keyring",
        description="Keep vaultcache keys in the OS keyring. Prints key ids, never keys.",
    )
    main_parser.add_argument(
        "--service", default=DEFAULT_SERVICE, help=f"keyring service (default {DEFAULT_SERVICE})"
    )
    main_parser.add_argument(
        "--username",
        default=DEFAULT_USERNAME,
        help=f"keyring user name (default {DEFAULT_USERNAME})",
    )
    commands = main_parser.add_subparsers(dest="command", required=True)
    commands.add_parser("store", help="store keys read from stdin, primary first (replaces)")
    generate = commands.add_parser("generate", help="store one new key in an empty entry")
    generate.add_argument(
        "--replace", action="store_true", help="replace keys already stored (they are lost)"
    )
    commands.add_parser("rotate", help="add a new primary key; old keys still read")
    retire = commands.add_parser("retire", help="remove a key by its id")
    retire.add_argument("key_id", help="the key's 16-hex-digit id (see show-ids)")
    commands.add_parser("show-ids", help="list the stored keys' ids, primary first")
    commands.add_parser("delete", help="delete the entry and every key in it")
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; 0 on success, 1 on an error (printed to stderr), 2 on bad usage."""
    args = parser().parse_args(argv)
    where = {"service": args.service, "username": args.username}
    try:
        if args.command == "delete":
            print("deleted" if store.delete_keys(**where) else "no such entry")
            return 0
        ids = _run(args, where)
    except VaultCacheError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for position, key_id in enumerate(ids):
        print(f"{key_id}{'  (primary)' if position == 0 else ''}")
    return 0


def _run(args: argparse.Namespace, where: dict[str, str]) -> list[str]:
    """Run a command that changes or lists the keys; the ids stored afterwards."""
    if args.command == "store":
        if sys.stdin.isatty():
            print("enter the keys, one per line, primary first; end with Ctrl-D", file=sys.stderr)
        return store.store_keys(sys.stdin.read().splitlines(), **where)
    if args.command == "generate":
        return store.generate_keys(replace=args.replace, **where)
    if args.command == "rotate":
        return store.rotate_keys(**where)
    if args.command == "retire":
        return store.retire_key(args.key_id, **where)
    return store.key_ids(**where)
