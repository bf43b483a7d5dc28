"""Argument parsing and dispatch for the ``vaultcache`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from vaultcache._version import __version__
from vaultcache.cli import archive, demo, get, inspect, keys, plugins, verify
from vaultcache.errors import VaultCacheError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="vaultcache", description="An encrypted, compressed HTTP response cache."
    )
    parser.add_argument("--version", action="version", version=f"vaultcache {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument(
        "--config",
        dest="global_config",
        metavar="PATH",
        help="config file for every subcommand (a subcommand's own --config wins)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (demo, plugins, keys, get, inspect, verify, archive):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format="vaultcache: %(message)s")
    args = build_parser().parse_args(argv)
    if getattr(args, "config", None) is None and args.global_config:
        args.config = args.global_config
    try:
        return int(args.run(args))
    except VaultCacheError as exc:
        return _fail(args, f"{exc}", 2)
    except KeyboardInterrupt:
        print("vaultcache: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`vaultcache get URL | head`): no more output, no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        hint = "" if args.debug else " (run with --debug for the traceback)"
        return _fail(args, f"unexpected {type(exc).__name__}: {exc}{hint}", 1)


def _fail(args: argparse.Namespace, message: str, status: int) -> int:
    """Report the error being handled in one line (after its traceback with --debug)."""
    if args.debug:
        traceback.print_exc()
    print(f"vaultcache: error: {' '.join(message.splitlines())}", file=sys.stderr)
    return status
