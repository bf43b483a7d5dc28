"""``vaultcache import --from-requests-cache PATH --trust-local-pickles``: the way across.

requests-cache keeps entries as unauthenticated pickles, so reading them needs the user's
word that the file is theirs (``--trust-local-pickles``); without it nothing is read. The
entries are re-encoded by this cache's serializer (encrypted by default), with counts and a
progress line; nothing is written if any entry cannot be read or a write fails.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import attrs

from vaultcache.cli.common import emit_json, progress
from vaultcache.cli.opening import open_session
from vaultcache.errors import ConfigError
from vaultcache.importers.requests_cache import SourceError, import_requests_cache

__all__ = ["TRUST_FLAG", "add_arguments", "run"]

TRUST_FLAG = "--trust-local-pickles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of an import from requests-cache."""
    parser.add_argument(
        "--from-requests-cache",
        metavar="PATH",
        help="read a requests-cache 1.x cache (sqlite file or directory) instead of an archive",
    )
    parser.add_argument(
        TRUST_FLAG,
        action="store_true",
        help="with --from-requests-cache: you wrote PATH and nobody else could have; its "
        "entries are unauthenticated pickles (read allowing plain data only)",
    )


def run(args: argparse.Namespace) -> int:
    """Import, print what was done; 2 (nothing written) on a refusal or unreadable entry."""
    if not args.from_requests_cache:
        raise ConfigError("give an archive FILE, or --from-requests-cache PATH")
    if args.file is not None:
        raise ConfigError("give an archive FILE or --from-requests-cache PATH, not both")
    if not args.trust_local_pickles:
        raise ConfigError(
            f"requests-cache entries are unauthenticated pickles; add {TRUST_FLAG} if "
            "you wrote this cache yourself and nobody else could have written to it"
        )
    session = open_session(args)
    try:
        report = import_requests_cache(
            args.from_requests_cache, session.cache, session.create_key, progress=progress
        )
    except SourceError as exc:
        raise ConfigError(f"{exc}; nothing was imported") from None
    finally:
        session.close()
    if args.json:
        emit_json(attrs.asdict(report))
    else:
        _show(report)
    return 0


def _show(report: Any) -> None:
    print(
        f"imported {report.responses} of {report.read} responses ({report.redirects} "
        f"redirects) from {report.source}"
    )
    skipped = report.skipped_with_credentials
    if skipped:
        print(
            f"vaultcache: {len(skipped)} entries were skipped: their requests carried "
            "credentials, which requests-cache stored redacted, so their vaultcache keys "
            "cannot be computed; they will be fetched again",
            file=sys.stderr,
        )
