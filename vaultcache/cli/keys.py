"""``vaultcache keys``: make keys. Key material is printed only by ``keys generate``."""

from __future__ import annotations

import argparse
from typing import Any

from vaultcache.keys import generate_key

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    """Add the ``keys`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser("keys", help="manage keys")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser("generate", help="print a new random key")
    generate.set_defaults(run=_generate)


def _generate(args: argparse.Namespace) -> int:
    print(generate_key())
    return 0
