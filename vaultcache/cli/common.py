"""What every cache subcommand shares: its options, progress, JSON output.

Opening the cache a command works on is :mod:`vaultcache.cli.opening`'s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = [
    "SHARED_DEFAULTS",
    "add_cache_arguments",
    "add_shared_options",
    "emit_json",
    "progress",
    "progress_line",
    "set_progress",
]

T = TypeVar("T")

#: The options that go before or after a subcommand's name, and their defaults.
SHARED_DEFAULTS: dict[str, Any] = {"cache": None, "config": None, "progress": None, "quiet": False}

#: Seconds between redraws of the progress line (a terminal) or new lines (``--progress``).
_REDRAW, _NEW_LINE = 0.1, 1.0

_show_progress: bool | None = None  # None: on a terminal only


def add_shared_options(parser: argparse.ArgumentParser, *, cache: bool = True) -> None:
    """``--config``, ``--progress``/``--no-progress``, ``--quiet`` and (with `cache`) ``--cache``.

    They have no default here (SUPPRESS), so that one given before the subcommand's name is
    not overwritten by the subcommand's parser; ``main`` fills in :data:`SHARED_DEFAULTS`.
    """
    if cache:
        parser.add_argument(
            "--cache",
            metavar="NAME_OR_PATH",
            default=argparse.SUPPRESS,
            help="cache name or the path of its database/folder, as CachedSession takes it",
        )
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: the usual search)",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show progress on stderr even when it is not a terminal",
    )
    shown.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        default=argparse.SUPPRESS,
        help="never show progress (default: only on a terminal)",
    )
    shown.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress and no warnings: only results and errors",
    )


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    """The shared options, as every subcommand that works on a cache takes them."""
    add_shared_options(parser)


def set_progress(show: bool | None) -> None:
    """Show progress always (True), never (False), or on a terminal only (None)."""
    global _show_progress  # noqa: PLW0603 - one setting for the one command a process runs
    _show_progress = show


def progress(items: Iterable[T], total: int | None, label: str) -> Iterator[T]:
    """Yield `items`, drawing count, rate and time left on stderr when progress is shown."""
    terminal = sys.stderr.isatty()
    if not (terminal if _show_progress is None else _show_progress):
        yield from items
        return
    interval = _REDRAW if terminal else _NEW_LINE
    started = last = time.monotonic()
    done = 0
    for done, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if now - last >= interval and done != total:
            last = now
            _draw(progress_line(label, done, total, now - started), terminal, final=False)
    _draw(progress_line(label, done, total, time.monotonic() - started), terminal, final=True)


def progress_line(label: str, done: int, total: int | None, elapsed: float) -> str:
    """``verifying: 500/2000 (25%), 250/s, 6s left``: count, rate and, when known, time left."""
    parts = [f"{label}: {done}/{total} ({done * 100 // total}%)" if total else f"{label}: {done}"]
    if elapsed > 0 and done:
        rate = done / elapsed
        parts.append(f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.1f}/s")
        if total and done < total:
            parts.append(f"{_duration((total - done) / rate)} left")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _draw(line: str, terminal: bool, *, final: bool) -> None:
    if terminal:  # one line, redrawn in place; cleared to its end in case it got shorter
        print(f"\r{line}\x1b[K", end="\n" if final else "", file=sys.stderr, flush=True)
    else:
        print(line, file=sys.stderr, flush=True)


def emit_json(value: Any) -> None:
    """Print `value` as one JSON document (for ``--json``)."""
    json.dump(value, sys.stdout, indent=2, sort_keys=True, default=str)
    print()
