"""The archive file: a tar stream of stored entries with checksums, written and read in order.

The archive is an uncompressed POSIX (pax) tar file::

    dictionaries/<id>        one sealed zstd dictionary, as stored (first of all: entries
                             that name it are read when they are imported)
    chunks/<cache key>/<entry id>/<n>   one body chunk of a response, as stored (these come
                             before the heads, so that an import writes a body before the head
                             naming it)
    responses/<cache key>    the stored head of one response, exactly as the backend holds it
    redirects/<cache key>    the stored bytes of one redirect (the key of its response)
    ...
    SHA256SUMS               "<sha256 hex>  <member name>" per entry, in archive order
    manifest.json            format, versions, time, serializer spec and fingerprint, key ids,
                             entry counts, and the SHA-256 of SHA256SUMS
    manifest.json.sha256     "<sha256 hex>  manifest.json"

Tar rather than zip: it is written and read strictly in order, so neither side holds a
central directory of every entry; the checksum files are in ``sha256sum`` format, so an
extracted archive can be checked with standard tools. Member names are cache keys (hex
digests), never URLs. The checksums detect corruption; the entries' own authenticated
encryption, checked on import, detects tampering.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import attrs

from vaultcache.archive.common import ArchiveError, Progress
from vaultcache.archive.manifest import (
    CHECKSUMS_NAME,
    MANIFEST_NAME,
    Manifest,
    _corrupt,
    _parse_manifest,
)

__all__ = ["read_manifest"]

MANIFEST_CHECKSUM_NAME = "manifest.json.sha256"
#: The largest entry an archive may hold (an import reads one entry into memory at a time).
MAX_ENTRY_SIZE = 1 << 30
_MAX_MANIFEST_SIZE = 1 << 20
_CHUNK = 1 << 20
_KEY = re.compile(r"[0-9A-Fa-f]{1,128}\Z")
_NAME = (
    r"(responses|redirects)/([0-9A-Fa-f]{1,128})"
    r"|(chunks)/([0-9A-Fa-f]{1,128}/[0-9a-f]{32}/[0-9]{1,8})"
    r"|(dictionaries)/([0-9a-f]{16})"
)
_MEMBER = re.compile(rf"(?:{_NAME})\Z")
_SUM_LINE = re.compile(rb"([0-9a-f]{64})  ((?:" + _NAME.encode() + rb"))\n\Z")
_MAX_SUM_LINE = 64 + 2 + len("chunks") + 1 + 128 + 1 + 32 + 1 + 8 + 1
_TRAILER = (CHECKSUMS_NAME, MANIFEST_NAME, MANIFEST_CHECKSUM_NAME)


# -- writing -------------------------------------------------------------------------------


class _TarWriter:
    """Writes a pax tar stream one member at a time, holding nothing but the current one."""

    def __init__(self, file: IO[bytes], mtime: int) -> None:
        self._file = file
        self._mtime = mtime
        self._written = 0

    def add(self, name: str, data: bytes) -> None:
        """Append a member holding `data`."""
        self._header(name, len(data))
        self._write(data)
        self._pad()

    def add_file(self, name: str, source: IO[bytes], size: int) -> None:
        """Append a member holding the first `size` bytes of `source` (from its start)."""
        self._header(name, size)
        source.seek(0)
        start = self._written
        shutil.copyfileobj(source, self._file, _CHUNK)
        self._written = start + size
        self._pad()

    def close(self) -> None:
        """Write the end-of-archive blocks, padded to a whole tar record."""
        self._write(bytes(2 * tarfile.BLOCKSIZE))
        self._write(bytes(-self._written % tarfile.RECORDSIZE))

    def _header(self, name: str, size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = self._mtime
        info.mode = 0o600
        info.type = tarfile.REGTYPE
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def _pad(self) -> None:
        self._write(bytes(-self._written % tarfile.BLOCKSIZE))

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._written += len(data)


def _sum_line(data: bytes, name: str) -> bytes:
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode("ascii")


# -- reading -------------------------------------------------------------------------------


def _members(file: IO[bytes], path: Path) -> Iterator[tarfile.TarInfo]:
    """Every member's header, in order; nothing is extracted and nothing accumulates."""
    file.seek(0)
    try:
        with tarfile.open(fileobj=file, mode="r:") as tar:
            while (info := tar.next()) is not None:
                # tarfile keeps every header it reads; an archive may hold millions.
                tar.members.clear()  # type: ignore[attr-defined]
                yield info
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise _corrupt(path, f"it is not a readable tar file ({exc})") from None


def _entry_members(file: IO[bytes], path: Path) -> Iterator[tarfile.TarInfo]:
    for info in _members(file, path):
        if info.name == CHECKSUMS_NAME:
            return
        yield info


def _read_member(file: IO[bytes], info: tarfile.TarInfo, path: Path, *, limit: int) -> bytes:
    if info.size > limit:
        raise _corrupt(path, f"{info.name} is larger than {limit} bytes")
    file.seek(info.offset_data)
    data = file.read(info.size)
    if len(data) != info.size:
        raise _corrupt(path, f"{info.name} is truncated")
    return data


@attrs.frozen
class _Layout:
    manifest: Manifest
    checksums: tarfile.TarInfo
    entries: int


def _scan(file: IO[bytes], path: Path) -> _Layout:
    """Check every member's name and type, then read and check the manifest."""
    entries = 0
    trailer: list[tarfile.TarInfo] = []
    for info in _members(file, path):
        name = info.name
        if name in _TRAILER or trailer:
            trailer.append(info)
            continue
        if not (info.isreg() and _MEMBER.match(name)):
            raise _corrupt(path, f"unexpected member {name[:80]!r}")
        if info.size > MAX_ENTRY_SIZE:
            raise _corrupt(path, f"{name} is larger than {MAX_ENTRY_SIZE} bytes")
        entries += 1
    if [info.name for info in trailer] != list(_TRAILER) or not all(
        info.isreg() for info in trailer
    ):
        raise _corrupt(path, f"it does not end with {', '.join(_TRAILER)} (truncated or damaged?)")
    checksums, manifest_info, manifest_sum_info = trailer
    manifest_bytes = _read_member(file, manifest_info, path, limit=_MAX_MANIFEST_SIZE)
    manifest_sum = _read_member(file, manifest_sum_info, path, limit=_MAX_SUM_LINE)
    if manifest_sum != _sum_line(manifest_bytes, MANIFEST_NAME):
        raise _corrupt(path, f"{MANIFEST_NAME} does not match its checksum")
    manifest = _parse_manifest(manifest_bytes, path)
    if entries != manifest.counts.total:
        raise _corrupt(
            path, f"it holds {entries} entries, but its manifest lists {manifest.counts.total}"
        )
    return _Layout(manifest=manifest, checksums=checksums, entries=entries)


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The manifest of the archive at `path`, after checking its structure and checksum."""
    path = Path(path)
    with _open_archive(path) as file:
        return _scan(file, path).manifest


def _open_archive(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise ArchiveError(f"{path} does not exist", path=path) from None
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}", path=path) from None


class _ChecksumLines:
    """SHA256SUMS, read one line at a time from its own handle, hashed as it is read."""

    def __init__(self, file: IO[bytes], info: tarfile.TarInfo, path: Path) -> None:
        self._file = file
        self._path = path
        self._left = info.size
        self._digest = hashlib.sha256()
        file.seek(info.offset_data)

    def next(self) -> tuple[str, str]:
        """The next (sha256 hex, member name)."""
        line = self._file.readline(min(self._left, _MAX_SUM_LINE)) if self._left else b""
        self._left -= len(line)
        self._digest.update(line)
        match = _SUM_LINE.match(line)
        if match is None:
            raise _corrupt(self._path, f"{CHECKSUMS_NAME} has fewer or malformed lines")
        return match[1].decode("ascii"), match[2].decode("ascii")

    def finish(self, expected: str) -> None:
        """Check that every line was read and the file is the one the manifest names."""
        if self._left:
            raise _corrupt(self._path, f"{CHECKSUMS_NAME} lists entries the archive lacks")
        if self._digest.hexdigest() != expected:
            raise _corrupt(self._path, f"{CHECKSUMS_NAME} does not match the manifest")


@attrs.frozen
class _OpenArchive:
    """An archive being imported: two handles on one file (entries, and SHA256SUMS)."""

    path: Path
    file: IO[bytes]
    sums_file: IO[bytes]
    layout: _Layout


def _checked_entries(
    archive: _OpenArchive, *, keep: bool, progress: Progress, label: str
) -> Iterator[tuple[str, str, bytes]]:
    """(kind, key, data) of every entry whose SHA-256 matches SHA256SUMS; data only if `keep`.

    Raises ArchiveError at the first entry that does not match.
    """
    file, path, layout = archive.file, archive.path, archive.layout
    lines = _ChecksumLines(archive.sums_file, layout.checksums, path)
    for info in progress(_entry_members(file, path), layout.entries, label):
        expected, listed = lines.next()
        if listed != info.name:
            raise _corrupt(path, f"{info.name} is not where {CHECKSUMS_NAME} lists it")
        digest, data = _hash_member(file, info, path, keep=keep)
        if digest != expected:
            raise _corrupt(path, f"{info.name} is damaged: its SHA-256 does not match")
        match = _MEMBER.match(info.name)
        assert match is not None  # checked by _scan
        yield match[1] or match[3] or match[5], match[2] or match[4] or match[6], data
    lines.finish(layout.manifest.checksums.sha256)


def _hash_member(
    file: IO[bytes], info: tarfile.TarInfo, path: Path, *, keep: bool
) -> tuple[str, bytes]:
    """The SHA-256 of a member's data, read in chunks; and the data itself if `keep`."""
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    file.seek(info.offset_data)
    left = info.size
    while left:
        chunk = file.read(min(left, _CHUNK))
        if not chunk:
            raise _corrupt(path, f"{info.name} is truncated")
        digest.update(chunk)
        if keep:
            chunks.append(chunk)
        left -= len(chunk)
    return digest.hexdigest(), b"".join(chunks)
