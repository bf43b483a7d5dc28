"""Re-keying and moving a cache: key rotation, portable archives, and WARC export."""

from vaultcache.archive.common import ArchiveError, Progress, SkippedEntry
from vaultcache.archive.manifest import (
    ARCHIVE_FORMAT,
    ARCHIVE_VERSION,
    ChecksumInfo,
    EntryCounts,
    Manifest,
    SerializerInfo,
)
from vaultcache.archive.rotation import RotationReport, rotate
from vaultcache.archive.tarball import read_manifest
from vaultcache.archive.transfer import ExportReport, ImportReport, export_archive, import_archive
from vaultcache.archive.warc import WarcReport, export_warc

__all__ = [
    "ARCHIVE_FORMAT",
    "ARCHIVE_VERSION",
    "ArchiveError",
    "ChecksumInfo",
    "EntryCounts",
    "ExportReport",
    "ImportReport",
    "Manifest",
    "Progress",
    "RotationReport",
    "SerializerInfo",
    "SkippedEntry",
    "WarcReport",
    "export_archive",
    "export_warc",
    "import_archive",
    "read_manifest",
    "rotate",
]
