"""What every cache subcommand shares: opening the cache, progress, JSON output, errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from vaultcache.config import load_settings
from vaultcache.config.applying import open_configured
from vaultcache.session import CachedSession

__all__ = ["add_cache_arguments", "emit_json", "open_session", "progress"]

T = TypeVar("T")


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cache NAME_OR_PATH`` and ``--config PATH``, as every cache subcommand takes them."""
    parser.add_argument(
        "--cache",
        metavar="NAME_OR_PATH",
        help="cache name or the path of its database/folder, as CachedSession takes it",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: the usual search)")


def open_session(args: argparse.Namespace) -> CachedSession:
    """The CachedSession the command works on: config file settings, then ``--cache`` and
    ``--rfc9111`` (where the command takes it)."""
    settings = load_settings(getattr(args, "config", None))
    overrides = {"cache_name": args.cache} if getattr(args, "cache", None) else {}
    for option in ("serializer", "rfc9111"):
        if getattr(args, option, None):
            overrides[option] = getattr(args, option)
    return open_configured(CachedSession, settings, **overrides)


def progress(items: Iterable[T], total: int | None, label: str) -> Iterator[T]:
    """Yield `items`, drawing a progress line on a terminal (stderr) and nothing otherwise."""
    if not sys.stderr.isatty():
        yield from items
        return
    for done, item in enumerate(items, start=1):
        yield item
        if done % 50 == 0 or done == total:
            shown = f"{done}/{total}" if total else str(done)
            print(f"\r{label}: {shown}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def emit_json(value: Any) -> None:
    """Print `value` as one JSON document (for ``--json``)."""
    json.dump(value, sys.stdout, indent=2, sort_keys=True, default=str)
    print()
