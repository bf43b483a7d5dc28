"""Argument parsing and dispatch for the ``vaultcache`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from vaultcache._version import __version__
from vaultcache.cli import demo, keys, plugins
from vaultcache.errors import VaultCacheError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="vaultcache", description="An encrypted, compressed HTTP response cache."
    )
    parser.add_argument("--version", action="version", version=f"vaultcache {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (demo, plugins, keys):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format="vaultcache: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except VaultCacheError as exc:
        print(f"vaultcache: error: {exc}", file=sys.stderr)
        return 2
