"""Export and import: a cache's entries moved to and from an archive file as stored, encrypted."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from vaultcache import clock
from vaultcache._version import __version__
from vaultcache.archive.common import (
    CHUNKS,
    DICTIONARIES,
    REDIRECTS,
    RESPONSES,
    ArchiveError,
    Progress,
    SkippedEntry,
    _no_progress,
    _private_file,
    _spec,
    untracked,
)
from vaultcache.archive.manifest import (
    ARCHIVE_FORMAT,
    ARCHIVE_VERSION,
    CHECKSUMS_NAME,
    MANIFEST_NAME,
    WITHOUT_DICTIONARIES_VERSION,
    ChecksumInfo,
    EntryCounts,
    Manifest,
    SerializerInfo,
)
from vaultcache.archive.tarball import (
    _KEY,
    MANIFEST_CHECKSUM_NAME,
    _checked_entries,
    _open_archive,
    _OpenArchive,
    _scan,
    _sum_line,
    _TarWriter,
)
from vaultcache.dictionaries.store import PREFIX as DICTIONARY_PREFIX
from vaultcache.dictionaries.store import dictionary_key
from vaultcache.entries import chunk_keys, peek_key_id, split_chunk_key
from vaultcache.errors import EntryError, describe

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage
    from vaultcache.cache import BaseCache

__all__ = ["ExportReport", "ImportReport", "export_archive", "import_archive"]

_SPOOL_SIZE = 8 << 20


# -- export --------------------------------------------------------------------------------


@attrs.define
class ExportReport:
    """What :func:`export_archive` wrote, and how many entries it had to leave out."""

    path: Path
    manifest: Manifest
    #: Entries whose cache key is not a hex digest (from a custom key_fn): never exported,
    #: since member names must not carry URLs. Only counted: such keys may hold URLs.
    not_exported: int = 0


@attrs.define
class _Tally:
    responses: int = 0
    redirects: int = 0
    chunks: int = 0
    dictionaries: int = 0
    not_exported: int = 0
    without_key_id: int = 0
    key_ids: Counter[str] = attrs.field(factory=Counter)
    sums: Any = attrs.field(factory=hashlib.sha256)


def export_archive(
    cache: BaseCache,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> ExportReport:
    """Write every response and redirect, as stored, to a new archive at `path` (mode 0600).

    Refuses an existing `path` unless `force`. Entries are streamed: one at a time in memory.
    """
    pipeline = cache.serializer
    path = Path(path)
    created = clock.now()
    tally = _Tally()
    try:
        with (
            untracked(cache.storage, cache.redirect_storage),
            _private_file(path, force=force) as out,
            tempfile.SpooledTemporaryFile(_SPOOL_SIZE) as sums,
        ):
            tar = _TarWriter(out, int(created.timestamp()))
            _export_dictionaries(tar, sums, tally, cache)
            storages = [(RESPONSES, cache.storage), (REDIRECTS, cache.redirect_storage)]
            if cache.chunk_storage is not None:  # first: an import writes bodies before heads
                storages.insert(0, (CHUNKS, cache.chunk_storage))
            for kind, storage in storages:
                _export_storage(
                    tar, sums, tally, kind=kind, storage=storage, progress=progress or _no_progress
                )
            manifest = _manifest(pipeline, created, tally)
            tar.add_file(CHECKSUMS_NAME, sums, sums.tell())
            manifest_bytes = manifest.to_json()
            tar.add(MANIFEST_NAME, manifest_bytes)
            tar.add(MANIFEST_CHECKSUM_NAME, _sum_line(manifest_bytes, MANIFEST_NAME))
            tar.close()
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {exc.strerror or exc}", path=path) from None
    return ExportReport(path=path, manifest=manifest, not_exported=tally.not_exported)


def _export_storage(
    tar: _TarWriter,
    sums: IO[bytes],
    tally: _Tally,
    *,
    kind: str,
    storage: BaseStorage,
    progress: Progress,
) -> None:
    keys = list(storage)
    for key in progress(keys, len(keys), f"export {kind}"):
        if kind == CHUNKS and key.startswith(DICTIONARY_PREFIX):
            continue  # exported first, by _export_dictionaries
        if not _exportable(kind, key):
            tally.not_exported += 1
            continue
        data = storage.get(key)
        if data is None:  # deleted since the keys were listed
            continue
        name = f"{kind}/{key}"
        tar.add(name, data)
        line = _sum_line(data, name)
        sums.write(line)
        tally.sums.update(line)
        if kind == REDIRECTS:
            tally.redirects += 1
            continue
        if kind == CHUNKS:
            tally.chunks += 1
            continue
        tally.responses += 1
        key_id = peek_key_id(data)
        if key_id is None:
            tally.without_key_id += 1
        else:
            tally.key_ids[key_id] += 1


def _export_dictionaries(tar: _TarWriter, sums: IO[bytes], tally: _Tally, cache: BaseCache) -> None:
    """Every stored zstd dictionary, as stored (sealed): entries that name one need it."""
    store = cache.dictionaries
    for dictionary_id in sorted(store.ids()) if store is not None else ():
        data = store.storage.get(dictionary_key(dictionary_id)) if store is not None else None
        if data is None:
            continue
        name = f"{DICTIONARIES}/{dictionary_id}"
        tar.add(name, data)
        line = _sum_line(data, name)
        sums.write(line)
        tally.sums.update(line)
        tally.dictionaries += 1


def _exportable(kind: str, key: str) -> bool:
    """Keys that are hex digests (a custom key_fn's keys may hold URLs: never exported)."""
    if kind != CHUNKS:
        return bool(_KEY.match(key))
    parts = split_chunk_key(key)
    return parts is not None and bool(_KEY.match(parts[0]))


def _manifest(pipeline: Any, created: datetime, tally: _Tally) -> Manifest:
    return Manifest(
        format=ARCHIVE_FORMAT,
        format_version=ARCHIVE_VERSION if tally.dictionaries else WITHOUT_DICTIONARIES_VERSION,
        vaultcache_version=__version__,
        created=created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        serializer=SerializerInfo(spec=_spec(pipeline)),
        key_ids=dict(sorted(tally.key_ids.items())),
        entries_without_key_id=tally.without_key_id,
        counts=EntryCounts(
            responses=tally.responses,
            redirects=tally.redirects,
            chunks=tally.chunks,
            dictionaries=tally.dictionaries,
        ),
        checksums=ChecksumInfo(
            file=CHECKSUMS_NAME, algorithm="sha256", sha256=tally.sums.hexdigest()
        ),
    )


# -- import --------------------------------------------------------------------------------


@attrs.define
class ImportReport:
    """What :func:`import_archive` wrote, and the entries it skipped."""

    manifest: Manifest
    responses: int = 0
    redirects: int = 0
    chunks: int = 0
    #: Dictionaries written (one that is here already, authentic, is not counted).
    dictionaries: int = 0
    skipped: tuple[SkippedEntry, ...] = ()
    #: Entries the cache's retention bounds evicted once the import was written.
    evicted: int = 0


def import_archive(
    cache: BaseCache, path: str | os.PathLike[str], *, progress: Progress | None = None
) -> ImportReport:
    """Write the entries of the archive at `path` into `cache`, as stored.

    Every checksum is verified before anything is written: a damaged archive raises
    ArchiveError and changes nothing. Entries name the spec and key that wrote them, so
    any spec this cache's reader policy accepts is read. Entries this cache cannot read (a
    key that is not in its ring, a stage that is not installed, or damage) are skipped and
    reported, with their body chunks: the archive still holds them.
    """
    pipeline = cache.serializer
    path = Path(path)
    progress = progress or _no_progress
    with _open_archive(path) as file, _open_archive(path) as sums_file:
        if not _same_file(file, sums_file):
            raise ArchiveError(f"{path} was replaced while it was being read", path=path)
        archive = _OpenArchive(path, file, sums_file, _scan(file, path))
        for _ in _checked_entries(archive, keep=False, progress=progress, label="verify"):
            pass
        return _write_entries(cache, pipeline, archive, progress)


def _same_file(first: IO[bytes], second: IO[bytes]) -> bool:
    a, b = os.fstat(first.fileno()), os.fstat(second.fileno())
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _write_entries(
    cache: BaseCache, pipeline: Any, archive: _OpenArchive, progress: Progress
) -> ImportReport:
    report = ImportReport(manifest=archive.layout.manifest)
    skipped: list[SkippedEntry] = []
    chunks: list[str] = []  # written before the heads that name them, which are checked later
    entries = _checked_entries(archive, keep=True, progress=progress, label="import")
    try:
        for kind, key, data in entries:
            problem = (
                _restore_dictionary(cache, report, key, data)
                if kind == DICTIONARIES
                else _entry_problem(cache, kind, key, data)
            )
            if problem is not None:
                key_id = peek_key_id(data) if kind == RESPONSES else None
                skipped.append(SkippedEntry(kind=kind, key=key, key_id=key_id, reason=problem))
            elif kind == DICTIONARIES:
                pass  # written (or found here) by _restore_dictionary
            elif kind == RESPONSES:
                cache.storage[key] = data
                report.responses += 1
            elif kind == CHUNKS:
                _chunk_storage(cache, archive.path)[key] = data
                chunks.append(key)
            else:
                cache.redirect_storage[key] = data
                report.redirects += 1
    except ArchiveError as exc:  # verified a moment ago: the file changed under us
        raise ArchiveError(
            f"{archive.path} changed while it was imported, after {report.responses} "
            f"responses and {report.redirects} redirects were written ({exc})",
            path=archive.path,
        ) from None
    report.skipped = tuple(skipped)
    report.chunks = _drop_unclaimed(cache, chunks)
    if cache.retention is not None:  # imported entries count as new: older ones go first
        report.evicted = cache.retention.apply(cache.storage)
    return report


def _chunk_storage(cache: BaseCache, path: Path) -> BaseStorage:
    if cache.chunk_storage is None:
        raise ArchiveError(
            f"{path} holds chunked bodies, and this cache's backend has no chunk storage; "
            "import it into a sqlite, filesystem, memory or redis cache",
            path=path,
        )
    return cache.chunk_storage


def _drop_unclaimed(cache: BaseCache, written: list[str]) -> int:
    """Delete the imported chunks that no imported head names; how many are left."""
    claimed: set[str] = set()
    for key in {parts[0] for parts in map(split_chunk_key, written) if parts is not None}:
        claimed.update(chunk_keys(key, cache.storage.get(key)))
    unclaimed = [key for key in written if key not in claimed]
    if unclaimed and cache.chunk_storage is not None:
        cache.chunk_storage.bulk_delete(unclaimed)
    return len(written) - len(unclaimed)


def _restore_dictionary(
    cache: BaseCache, report: ImportReport, dictionary_id: str, data: bytes
) -> str | None:
    """Write one dictionary unless an authentic copy is here; why it is skipped (None: it
    is not). One that does not open here is skipped: entries that name it are kept."""
    store = cache.dictionaries
    if store is None:
        return "this cache's backend has no chunk storage, where dictionaries are kept"
    try:
        report.dictionaries += store.restore(dictionary_id, data)
    except EntryError as exc:
        return describe(exc)
    return None


def _entry_problem(cache: BaseCache, kind: str, key: str, data: bytes) -> str | None:
    """Why an entry is not imported (None: it is)."""
    if kind == REDIRECTS:
        target = data.decode("ascii", "replace")
        return None if _KEY.match(target) else "redirect target is not a cache key"
    if kind == CHUNKS:
        return None  # authenticated when its entry's body is read
    try:
        cache.read_entry(key, data)
    except EntryError as exc:
        return describe(exc)
    return None
