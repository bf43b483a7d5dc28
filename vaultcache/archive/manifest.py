"""``manifest.json``: what an archive holds and how its entries were written; its schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs
import cattrs

from vaultcache._version import __version__
from vaultcache.archive.common import ArchiveError

__all__ = [
    "ARCHIVE_FORMAT",
    "ARCHIVE_VERSION",
    "CHECKSUMS_NAME",
    "MANIFEST_NAME",
    "ChecksumInfo",
    "EntryCounts",
    "Manifest",
    "SerializerInfo",
]

ARCHIVE_FORMAT = "vaultcache-archive"
#: Version 2 holds entries of entry format 2 (docs/format.md), body chunks included.
ARCHIVE_VERSION = 3
#: Version 3 adds zstd dictionaries; an archive without any is written as version 2, which
#: releases before dictionaries read.
WITHOUT_DICTIONARIES_VERSION = 2
CHECKSUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "manifest.json"


def _hex_validator(length: int) -> Any:
    pattern = re.compile(f"[0-9a-f]{{{length}}}\\Z")

    def check(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
        if not pattern.match(value):
            raise ValueError(f"{attribute.name} must be {length} lower-case hex digits")

    return check


def _count_validator(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or value < 0:
        raise ValueError(f"{attribute.name} must be a count (an integer, 0 or more)")


@attrs.frozen
class SerializerInfo:
    """The serializer spec the exporting cache wrote with (each entry names its own)."""

    spec: str


@attrs.frozen
class EntryCounts:
    """How many entries of each kind the archive holds."""

    responses: int = attrs.field(validator=_count_validator)
    redirects: int = attrs.field(validator=_count_validator)
    chunks: int = attrs.field(validator=_count_validator)
    dictionaries: int = attrs.field(default=0, validator=_count_validator)

    @property
    def total(self) -> int:
        """Entries of every kind."""
        return self.responses + self.redirects + self.chunks + self.dictionaries


@attrs.frozen
class ChecksumInfo:
    """Where the per-entry checksums are, and the SHA-256 of that file."""

    file: str = attrs.field(validator=attrs.validators.in_([CHECKSUMS_NAME]))
    algorithm: str = attrs.field(validator=attrs.validators.in_(["sha256"]))
    sha256: str = attrs.field(validator=_hex_validator(64))


@attrs.frozen
class Manifest:
    """``manifest.json``: what an archive holds and how its entries were written."""

    format: str
    format_version: int
    vaultcache_version: str
    created: str
    serializer: SerializerInfo
    key_ids: dict[str, int]
    entries_without_key_id: int = attrs.field(validator=_count_validator)
    counts: EntryCounts
    checksums: ChecksumInfo

    def to_json(self) -> bytes:
        """The manifest as the archive stores it."""
        return (json.dumps(_converter.unstructure(self), indent=2, sort_keys=True) + "\n").encode()


_converter = cattrs.Converter()


def _corrupt(path: Path, problem: str) -> ArchiveError:
    return ArchiveError(f"{path} is not a usable vaultcache archive: {problem}", path=path)


def _parse_manifest(data: bytes, path: Path) -> Manifest:
    try:
        raw = json.loads(data)
    except ValueError:
        raise _corrupt(path, f"{MANIFEST_NAME} is not valid JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != ARCHIVE_FORMAT:
        raise _corrupt(path, f"{MANIFEST_NAME} does not name the format {ARCHIVE_FORMAT!r}")
    version = raw.get("format_version")
    if version == 1:
        raise ArchiveError(
            f"{path} has archive format version 1, whose entries are in entry format 1, "
            f"which this vaultcache ({__version__}) does not read; import it with the release "
            "that exported it",
            path=path,
        )
    if isinstance(version, int) and version > ARCHIVE_VERSION:
        raise ArchiveError(
            f"{path} has archive format version {version}, newer than this vaultcache "
            f"({__version__}) reads ({ARCHIVE_VERSION}); upgrade vaultcache to import it",
            path=path,
        )
    try:
        manifest = _converter.structure(raw, Manifest)
    except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
        details = (
            cattrs.transform_error(exc, path="manifest")
            if isinstance(exc, cattrs.BaseValidationError)
            else [str(exc)]
        )
        raise _corrupt(path, f"{MANIFEST_NAME} is invalid: {'; '.join(details)}") from None
    if manifest.format_version not in (WITHOUT_DICTIONARIES_VERSION, ARCHIVE_VERSION):
        raise _corrupt(path, f"unknown archive format version {manifest.format_version}")
    return manifest
