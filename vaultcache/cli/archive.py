"""``vaultcache rotate``, ``vaultcache export`` and ``vaultcache import``.

``rotate`` and ``export`` open only a cache that exists; ``import`` may create its target.
None of them creates a key file: a new key could read nothing (see ``cli/scan.py``).

Exit status: 0 when every entry was handled; 1 when some entries were unreadable or left
out (each is listed); 2 (from ``main``) for an error that stopped the command; 130 when
``rotate`` is interrupted (nothing is lost: run it again to finish).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import attrs

from vaultcache.archive import (
    ExportReport,
    ImportReport,
    RotationReport,
    SkippedEntry,
    WarcReport,
    export_archive,
    export_warc,
    import_archive,
    read_manifest,
    rotate,
)
from vaultcache.cli import from_requests_cache
from vaultcache.cli.common import add_cache_arguments, emit_json, progress
from vaultcache.cli.opening import no_key_creation, open_existing, open_session
from vaultcache.serializers.builder import build_pipeline

__all__ = ["add_parser"]

#: How many unreadable entries the text output lists; ``--json`` lists them all.
_LISTED = 10


def add_parser(commands: Any) -> None:
    """Add the ``rotate``, ``export`` and ``import`` subcommands."""
    for name in ("rotate", "recode"):
        rotate_parser: argparse.ArgumentParser = commands.add_parser(
            name,
            help="re-encrypt entries written by older keys with the primary key"
            if name == "rotate"
            else "rewrite entries into another serializer spec (rotate --to SPEC)",
            description="Rewrite every entry an older key (or, with --to, another spec) wrote, "
            "with the primary key. Bodies are rewritten chunk by chunk. Safe while other "
            "processes use the cache; if interrupted, run it again to finish.",
        )
        add_cache_arguments(rotate_parser)
        rotate_parser.add_argument(
            "--to",
            metavar="SPEC",
            required=name == "recode",
            help="rewrite every entry into this serializer spec, such as zstd+aesgcm",
        )
        _add_json(rotate_parser)
        rotate_parser.set_defaults(run=_rotate)

    export_parser: argparse.ArgumentParser = commands.add_parser(
        "export",
        help="write every entry, still encrypted, to a portable archive",
        description="Write every response and redirect, as stored (still encrypted), to a "
        "new tar archive with a manifest and SHA-256 checksums. The file is created with "
        "mode 0600.",
    )
    add_cache_arguments(export_parser)
    export_parser.add_argument("file", metavar="FILE", help="the archive to create")
    export_parser.add_argument(
        "--warc",
        action="store_true",
        help="write DECRYPTED responses as WARC/1.1 records instead (plaintext; .gz to gzip)",
    )
    export_parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    _add_json(export_parser)
    export_parser.set_defaults(run=_export)

    import_parser: argparse.ArgumentParser = commands.add_parser(
        "import",
        help="write the entries of an archive (or of a requests-cache cache) into this cache",
        description="Verify every checksum of an archive made by `vaultcache export`, then "
        "write its entries into this cache as stored. Nothing is written from a damaged "
        "archive. Entries name the spec and key that wrote them, so an archive made with "
        "another serializer spec imports too. With --from-requests-cache, read a "
        "requests-cache sqlite file or directory instead.",
    )
    add_cache_arguments(import_parser)
    import_parser.add_argument("file", metavar="FILE", nargs="?", help="the archive to read")
    from_requests_cache.add_arguments(import_parser)
    _add_json(import_parser)
    import_parser.set_defaults(run=_import)


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _rotate(args: argparse.Namespace) -> int:
    opened = open_existing(args, read_only=False)
    try:
        target = None if args.to is None else build_pipeline(args.to, keys=opened.ring)
        report = rotate(opened.cache, to=target, progress=progress)
    except KeyboardInterrupt:
        print(
            "vaultcache: rotate interrupted; entries rotated so far are kept, run it again "
            "to finish",
            file=sys.stderr,
        )
        return 130
    finally:
        opened.close()
    if args.json:
        emit_json(_as_dict(report))
    else:
        _show_rotation(report)
    return 1 if report.unreadable else 0


def _show_rotation(report: RotationReport) -> None:
    print(f"spec               {report.spec}")
    print(f"primary key id     {report.key_id or '-'}")
    print(f"rotated            {report.rotated}")
    print(f"already current    {report.current}")
    print(f"changed meanwhile  {report.concurrent}")
    print(f"unreadable         {len(report.unreadable)}")
    _list_skipped(
        report.unreadable,
        "could not be read and were left alone; `vaultcache verify` tells which are damaged "
        "(`vaultcache verify --delete` removes those)",
    )


def _export(args: argparse.Namespace) -> int:
    opened = open_existing(args, read_only=True)
    try:
        if args.warc:
            warc = export_warc(opened.cache, args.file, force=args.force, progress=progress)
        else:
            archive = export_archive(opened.cache, args.file, force=args.force, progress=progress)
    finally:
        opened.close()
    if args.warc:
        return _show_warc(warc, as_json=args.json)
    return _show_export(archive, as_json=args.json)


def _show_export(report: ExportReport, *, as_json: bool) -> int:
    if as_json:
        emit_json(_as_dict(report))
    else:
        counts = report.manifest.counts
        key_ids = ", ".join(f"{kid} ({n})" for kid, n in report.manifest.key_ids.items())
        print(
            f"exported {counts.responses} responses and {counts.redirects} redirects to "
            f"{report.path} (mode 0600; key ids: {key_ids or 'none'})"
        )
    if report.not_exported:
        print(
            f"vaultcache: {report.not_exported} entries were not exported: their cache keys "
            "are not hex digests (a custom key_fn?), and archive member names never carry URLs",
            file=sys.stderr,
        )
        return 1
    return 0


def _show_warc(report: WarcReport, *, as_json: bool) -> int:
    if as_json:
        emit_json(_as_dict(report))
    else:
        print(
            f"wrote {report.records} WARC response records ({report.revisits} of them revisits "
            f"of an identical payload), {report.redirects} redirect hops and "
            f"{report.requests} request records to {report.path} (DECRYPTED plaintext, mode 0600)"
        )
    _list_skipped(report.unreadable, "could not be read and were not exported")
    return 1 if report.unreadable else 0


def _import(args: argparse.Namespace) -> int:
    if args.from_requests_cache or args.file is None:
        return from_requests_cache.run(args)
    read_manifest(args.file)  # a missing or damaged archive is reported before the cache opens
    with no_key_creation():  # entries under a new key's ring would all be skipped
        session = open_session(args)
    try:
        report = import_archive(session.cache, args.file, progress=progress)
    finally:
        session.close()
    _show_import(report, as_json=args.json, path=args.file)
    return 1 if report.skipped else 0


def _show_import(report: ImportReport, *, as_json: bool, path: str) -> None:
    if as_json:
        emit_json(_as_dict(report))
    else:
        print(
            f"imported {report.responses} responses and {report.redirects} redirects "
            f"({report.chunks} body chunks) from {path}"
        )
        if report.evicted:
            print(f"then evicted {report.evicted} entries to stay within the retention bounds")
    missing = sorted({entry.key_id for entry in report.skipped if entry.key_id})
    hint = f" (written by key ids {', '.join(missing)})" if missing else ""
    _list_skipped(report.skipped, f"could not be read by this cache{hint} and were skipped")


def _list_skipped(entries: Sequence[SkippedEntry], consequence: str) -> None:
    """One line per entry (at most a few), then what happened to them; all on stderr."""
    for entry in entries[:_LISTED]:
        key_id = f", key id {entry.key_id}" if entry.key_id else ""
        print(f"vaultcache: {entry.kind}/{entry.key}{key_id}: {entry.reason}", file=sys.stderr)
    if len(entries) > _LISTED:
        print(f"vaultcache: ... and {len(entries) - _LISTED} more", file=sys.stderr)
    if entries:
        print(f"vaultcache: {len(entries)} entries {consequence}", file=sys.stderr)


def _as_dict(report: Any) -> Any:
    return attrs.asdict(report, value_serializer=lambda _i, _a, value: _plain(value))


def _plain(value: Any) -> Any:
    return str(value) if hasattr(value, "__fspath__") else value
