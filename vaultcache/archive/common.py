"""What rotation, export and import share: the error, reports, reading entries, output files."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from vaultcache.entries import peek_key_id
from vaultcache.errors import EntryError, ForeignEntryError, VaultCacheError, describe
from vaultcache.models import CachedResponse

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage
    from vaultcache.cache import BaseCache

__all__ = ["ArchiveError", "Progress", "SkippedEntry", "untracked"]

#: :attr:`SkippedEntry.kind` of a response entry (and its archive directory).
RESPONSES = "responses"
#: :attr:`SkippedEntry.kind` of a redirect entry (and its archive directory).
REDIRECTS = "redirects"
#: The archive directory of body chunks.
CHUNKS = "chunks"
#: The archive directory of sealed zstd dictionaries.
DICTIONARIES = "dictionaries"

_T = TypeVar("_T")


class Progress(Protocol):
    """Wraps the entries an operation walks to show progress, as ``cli.common.progress`` does."""

    def __call__(self, items: Iterable[_T], total: int | None, label: str, /) -> Iterable[_T]: ...


def _no_progress(items: Iterable[_T], total: int | None, label: str, /) -> Iterable[_T]:
    return items


class ArchiveError(VaultCacheError):
    """An archive cannot be written or read, or does not fit the cache; carries its path."""

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else str(path)
        super().__init__(message)


@attrs.frozen
class SkippedEntry:
    """An entry left out of an operation: which storage, its key, its key id, and why."""

    kind: str
    key: str
    key_id: str | None
    reason: str


# -- reading entries -----------------------------------------------------------------------


def _spec(pipeline: Any) -> str:
    return str(getattr(pipeline, "spec", None) or type(pipeline).__name__)


def _decode(cache: BaseCache, key: str, data: bytes) -> CachedResponse | str:
    """The response whose head `data` is stored under `key`, with its body read (and so
    authenticated), or why it cannot be read (never its contents)."""
    try:
        response = cache.read_entry(key, data)
        response.load_body()
    except ForeignEntryError as exc:
        return str(exc)
    except EntryError as exc:
        return describe(exc)
    return response


def _unreadable(key: str, data: bytes, reason: str) -> SkippedEntry:
    return SkippedEntry(kind=RESPONSES, key=key, key_id=peek_key_id(data), reason=reason)


@contextlib.contextmanager
def untracked(*storages: BaseStorage) -> Iterator[None]:
    """While in force, reads from `storages` are not uses: LRU retention's order stays as is.

    For reads that walk the whole cache (rotation, export, inspection). Switches off each
    storage's ``track_access`` and restores it on exit; meanwhile, hits by other threads on
    these storages are not recorded either.
    """
    tracking = [storage.track_access for storage in storages]
    for storage in storages:
        storage.track_access = False
    try:
        yield
    finally:
        for storage, was in zip(storages, tracking, strict=True):
            storage.track_access = was


# -- files these operations create ---------------------------------------------------------


@contextlib.contextmanager
def _private_file(path: Path, *, force: bool) -> Iterator[IO[bytes]]:
    """A new file at `path` with mode 0600; nothing is left behind if writing fails.

    Without `force` an existing `path` is refused before anything is written. With it, the
    data goes to a private temp file beside `path` that replaces it once complete, so a
    failed export never destroys the previous file.
    """
    target = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp") if force else path
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        raise ArchiveError(
            f"{path} already exists; choose another file or overwrite it with --force", path=path
        ) from None
    except OSError as exc:
        raise ArchiveError(f"cannot create {path}: {exc.strerror or exc}", path=path) from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if force:
            os.replace(target, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
