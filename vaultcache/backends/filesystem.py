"""FileStorage: one file per entry in a directory.

A file's name is the SHA-256 of its key, so any key makes a safe name and no key shows in a
directory listing. The file holds a small header (magic, key length, key) and then the value;
the key is checked on every read, so a file copied or renamed onto another entry's name reads
as absent. A write goes to a private temp file in the same directory, is fsynced, then renamed
over the entry: readers in any thread or process see the old value or the new one, never a
torn one. Temp files a crashed writer leaves behind are ignored, and removed by ``clear()``.

A lock file (:mod:`~vaultcache.backends.filesystem_lock`) makes :meth:`FileStorage.replace`
a true compare-and-swap; readers never take it. The entry file's format and its safe writing
are in :mod:`~vaultcache.backends.filesystem_files`, eviction in
:mod:`~vaultcache.backends.filesystem_lru`.

For retention, a file's modification time is the entry's creation time (set exactly when it
is written: the kernel's own clock ticks too coarsely to order writes), and the later of its
access and modification times is its last use. While access tracking is on, a read notes the
time in memory; the times are set with ``os.utime`` in a batch, at the next write or eviction,
or after 1024 distinct keys or 30 seconds at the next read (setting them on every read would
cost a metadata write to disk per hit). FileStorage reads files with ``O_NOATIME`` (Linux), so
that only the reads it records count; another program reading every file can still update
access times (under ``relatime``, once per write or per day).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO

from vaultcache.backends.base import BaseStorage
from vaultcache.backends.errors import BackendError
from vaultcache.backends.filesystem_files import (
    FileTimes,
    check_extension,
    entry_header,
    install,
    is_temp_name,
    open_entry,
    read_key,
    write_temp,
)
from vaultcache.backends.filesystem_lock import DirectoryLock
from vaultcache.backends.filesystem_lru import evict_files, set_access_time
from vaultcache.backends.location import refuse_if_shared, resolve_location
from vaultcache.backends.options import check_bool
from vaultcache.backends.usage import AccessLog, EntryStats
from vaultcache.private_files import make_private_dirs

__all__ = ["FileStorage"]

logger = logging.getLogger(__name__)

BACKEND = "filesystem"
# A write whose temp file is removed under it by a concurrent clear() starts again.
_WRITE_ATTEMPTS = 3


class FileStorage(BaseStorage):
    """Entries as files named by the SHA-256 of their key in `cache_dir` (mode 0700).

    With `use_cache_dir`, `cache_dir` is relative to the user cache directory; with
    `use_temp`, to the system temp directory. `extension` (such as ``".bin"``) is appended to
    every entry's file name. An existing directory that another user owns, or that group or
    others may write, is refused (BackendError) unless `allow_shared` is True.
    With `read_only` nothing is created or written (a missing
    directory reads as empty), so a cache on read-only media can be read.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] = "http_cache",
        *,
        use_cache_dir: bool = False,
        use_temp: bool = False,
        extension: str = "",
        allow_shared: bool = False,
        read_only: bool = False,
    ) -> None:
        self.cache_dir = resolve_location(
            BACKEND, cache_dir, use_cache_dir=use_cache_dir, use_temp=use_temp
        )
        refuse_if_shared(BACKEND, self.cache_dir, "cache directory", allow_shared=allow_shared)
        self.extension = check_extension(extension)
        self._entry_name = re.compile(r"[0-9a-f]{64}" + re.escape(self.extension) + r"\Z")
        self._lock = DirectoryLock(self.cache_dir)
        self._accesses = AccessLog()
        self.read_only = check_bool(BACKEND, "read_only", read_only)
        if not self.read_only:
            self._make_dir()

    # -- the mapping ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise KeyError(key)
        path = self._path(key)
        try:
            with open_entry(path) as file:
                if not self._header_matches(file, key, path):
                    raise KeyError(key)
                value = file.read()
        except FileNotFoundError:
            raise KeyError(key) from None
        except OSError as exc:
            raise self._error(exc, "read", path) from exc
        if self.track_access:
            self.note_access(key)
        return value

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_item(key, value)
        self._check_writable()
        header = entry_header(key)
        path = self._path(key)
        for _ in range(_WRITE_ATTEMPTS):
            try:
                temporary = write_temp(self.cache_dir, header, value)
                with self._locked():
                    replaced = install(temporary, path, measure=self.track_access)
                    if self.track_access:
                        # Under the lock, like eviction's count: neither misses the other.
                        self.usage.wrote(len(header) + len(value), replaced)
            except FileNotFoundError:
                self._make_dir()  # the directory or our temp file was removed meanwhile
                continue
            except OSError as exc:
                raise self._error(exc, "write", path) from exc
            if self.track_access:
                self._flush_accesses()
            return
        logger.warning(
            "cache file %s could not be written: its temp file kept disappearing "
            "(concurrent clear?); the write was dropped",
            path,
        )

    def __delitem__(self, key: str) -> None:
        if not isinstance(key, str):
            raise KeyError(key)
        path = self._path(key)
        try:
            with self._locked():
                os.unlink(path)
        except FileNotFoundError:
            raise KeyError(key) from None
        except OSError as exc:
            raise self._error(exc, "delete", path) from exc

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        path = self._path(key)
        try:
            with open_entry(path) as file:
                return self._header_matches(file, key, path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._error(exc, "read", path) from exc

    def __iter__(self) -> Iterator[str]:
        # Collected first, like a snapshot: callers may write while they iterate.
        keys = []
        for name in self._names(self._entry_name):
            key = self._stored_key(self.cache_dir / name)
            if key is not None and self._file_name(key) == name:
                keys.append(key)
        return iter(keys)

    def __len__(self) -> int:
        # Counts entry files without opening them; a damaged file counts until overwritten.
        return sum(1 for _ in self._names(self._entry_name))

    # -- whole-directory operations -----------------------------------------------------------

    def clear(self) -> None:
        """Delete every entry, and temp files left by writers that crashed."""
        self._accesses.take()
        try:
            with self._locked():
                for name in self._names(self._entry_name, temp=True):
                    try:
                        os.unlink(self.cache_dir / name)
                    except FileNotFoundError:
                        continue
                    except OSError as exc:
                        raise self._error(exc, "delete", self.cache_dir / name) from exc
        except FileNotFoundError:
            pass  # no directory: nothing to clear
        except OSError as exc:
            raise self._error(exc, "lock", self._lock.path) from exc
        self.usage.cleared()

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        if not isinstance(key, str):
            return None
        path = self._path(key)
        try:
            with open_entry(path) as file:
                if not self._header_matches(file, key, path):
                    return None
                return os.fstat(file.fileno()).st_size - file.tell()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(exc, "read", path) from exc

    def replace(self, key: str, expected: bytes, new: bytes) -> bool:
        """Store `new` under `key` only if it still holds exactly `expected`; True if stored.

        Atomic across threads and processes that use FileStorage on this directory: the read,
        the comparison and the rename happen under the exclusive lock file, which every write
        and delete waits for. The file keeps its times (re-encrypting is not a use).
        """
        self._check_item(key, new)
        if not isinstance(expected, bytes):
            raise TypeError(f"expected values must be bytes, not {type(expected).__name__}")
        header = entry_header(key)
        path = self._path(key)
        try:
            with self._locked(exclusive=True):
                try:
                    with open_entry(path) as file:
                        if read_key(file) != key.encode("utf-8") or file.read() != expected:
                            return False
                        times = os.fstat(file.fileno())
                except FileNotFoundError:
                    return False
                temporary = write_temp(
                    self.cache_dir, header, new, (times.st_atime_ns, times.st_mtime_ns)
                )
                install(temporary, path, measure=False)
        except FileNotFoundError:
            return False  # the directory is gone, and the entry with it
        except OSError as exc:
            raise self._error(exc, "replace", path) from exc
        if self.track_access:
            self.usage.resized(len(new) - len(expected))
        return True

    # -- retention ----------------------------------------------------------------------------

    def note_access(self, key: str) -> None:
        """Record a read of `key` in memory; set the files' times when the batch is due."""
        if self._accesses.note(key):
            self._flush_accesses()

    def entry_stats(self) -> Iterator[EntryStats]:
        """Every entry's key, file size (value, plus 8 bytes and the key), and file times."""
        stats = []
        for name in self._names(self._entry_name):
            path = self.cache_dir / name
            try:
                with open_entry(path) as file:
                    encoded = read_key(file)
                    status = os.fstat(file.fileno())
            except FileNotFoundError:
                continue  # deleted since the directory was listed
            except OSError as exc:
                raise self._error(exc, "read", path) from exc
            try:
                key = None if encoded is None else encoded.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if key is None or self._file_name(key) != name:
                continue
            times = FileTimes.of(status)
            noted = self._accesses.get(key) or 0.0
            stats.append(EntryStats(key, times.size, times.created, max(times.accessed, noted)))
        return iter(stats)

    def evict(
        self,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        max_age: timedelta | None = None,
        now: float | None = None,
        slack: float = 0.0,
    ) -> int:
        """Delete entry files older than `max_age`, then the least recently used.

        See :meth:`BaseStorage.evict`; sizes are file sizes, as :meth:`entry_stats` gives
        them. Holds the lock file exclusively, so evictions in several processes take turns
        instead of each deleting its own share. Works from file names and ``stat``, without
        opening the files.
        """
        now = time.time() if now is None else now
        try:
            with self._locked(exclusive=True):
                self._flush_accesses()
                deleted, entries, size = evict_files(
                    self.cache_dir,
                    self._names(self._entry_name),
                    cutoff=None if max_age is None else now - max_age.total_seconds(),
                    max_entries=max_entries,
                    max_bytes=max_bytes,
                    slack=slack,
                )
                self.usage.counted(entries, size, now)
        except FileNotFoundError:
            self.usage.counted(0, 0, now)  # no directory: nothing stored
            return 0
        except OSError as exc:
            raise self._error(exc, "evict from", self.cache_dir) from exc
        return deleted

    def _flush_accesses(self) -> None:
        """Set the access time of each file read since the last flush (never backwards)."""
        for key, when in self._accesses.take().items():
            set_access_time(self._path(key), when)

    def close(self) -> None:
        """Set the access times of files read since the last write; safe to call again."""
        if not self.read_only:
            self._flush_accesses()

    def __repr__(self) -> str:
        return f"<FileStorage {str(self.cache_dir)!r}>"

    # -- files ------------------------------------------------------------------------------

    def _file_name(self, key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest() + self.extension

    def _path(self, key: str) -> Path:
        return self.cache_dir / self._file_name(key)

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool = False) -> Iterator[None]:
        """Hold the lock file (see :class:`DirectoryLock`), unless opened read-only."""
        self._check_writable()
        with self._lock.hold(exclusive=exclusive):
            yield

    def _header_matches(self, file: IO[bytes], key: str, path: Path) -> bool:
        """Read the header; True when it holds `key`, else log and return False."""
        if read_key(file) == key.encode("utf-8"):
            return True
        logger.warning(
            "cache file %s is damaged or holds another key; treating it as missing", path
        )
        return False

    def _stored_key(self, path: Path) -> str | None:
        try:
            with open_entry(path) as file:
                encoded = read_key(file)
        except FileNotFoundError:
            return None  # deleted since the directory was listed
        except OSError as exc:
            raise self._error(exc, "read", path) from exc
        try:
            return None if encoded is None else encoded.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _names(self, pattern: re.Pattern[str], *, temp: bool = False) -> Iterator[str]:
        """Names of entry files (and, with `temp`, of writers' temp files) in the directory."""
        try:
            with os.scandir(self.cache_dir) as entries:
                names = [entry.name for entry in entries]
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._error(exc, "list", self.cache_dir) from exc
        for name in names:
            if pattern.match(name) or (temp and is_temp_name(name)):
                yield name

    def _make_dir(self) -> None:
        try:
            make_private_dirs(self.cache_dir)
        except OSError as exc:
            raise self._error(exc, "create", self.cache_dir) from exc
        if not self.cache_dir.is_dir():
            raise BackendError(
                f"cache directory {self.cache_dir} exists but is not a directory; "
                "choose another location",
                backend=BACKEND,
                path=str(self.cache_dir),
            )

    def _check_writable(self) -> None:
        """Raise BackendError when this storage was opened read-only."""
        if self.read_only:
            raise BackendError(
                f"cache directory {self.cache_dir} was opened read-only; open it without "
                "read_only to change it",
                backend=BACKEND,
                path=str(self.cache_dir),
            )

    def _error(self, exc: OSError, action: str, path: Path) -> BackendError:
        return BackendError(
            f"cannot {action} {path} ({exc.strerror or exc}); check that {self.cache_dir} "
            "is writable by this user and that the disk is not full",
            backend=BACKEND,
            path=str(path),
        )
