"""Argument parsing and dispatch for the ``vaultcache`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from vaultcache._version import __version__
from vaultcache.cli import archive, demo, get, inspect, keys, plugins, train, verify
from vaultcache.cli.common import SHARED_DEFAULTS, add_shared_options, set_progress
from vaultcache.errors import VaultCacheError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="vaultcache",
        description="An encrypted, compressed HTTP response cache. Options such as --cache "
        "and --config go before or after the subcommand (after it, they win).",
    )
    parser.add_argument("--version", action="version", version=f"vaultcache {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    add_shared_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (demo, plugins, keys, get, inspect, verify, archive, train):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0 done, 1 done with bad entries, 2 error)."""
    args = build_parser().parse_args(argv)
    for name, default in SHARED_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.WARNING, format="vaultcache: %(message)s"
    )
    set_progress(False if args.quiet else args.progress)
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
    except OSError as exc:
        return _fail(args, _os_error(exc), 2)
    except Exception as exc:
        hint = "" if args.debug else " (run with --debug for the traceback)"
        return _fail(args, f"unexpected {type(exc).__name__}: {exc}{hint}", 2)


def _os_error(exc: OSError) -> str:
    """What the operating system refused, on which file, and what to do about it."""
    where = f" {exc.filename}" if exc.filename else ""
    reason = (exc.strerror or type(exc).__name__).lower()
    if isinstance(exc, PermissionError):
        fix = "check its permissions, or give another path (--cache, --config, the file argument)"
    elif isinstance(exc, FileNotFoundError):
        fix = "check the path"
    else:
        fix = "check the path and that the disk is not full"
    return f"{reason}:{where}; {fix}"


def _fail(args: argparse.Namespace, message: str, status: int) -> int:
    """Report the error being handled in one line (after its traceback with --debug)."""
    if args.debug:
        traceback.print_exc()
    print(f"vaultcache: error: {' '.join(message.splitlines())}", file=sys.stderr)
    return status
