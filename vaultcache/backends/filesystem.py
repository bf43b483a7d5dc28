"""FileStorage: one file per entry in a directory.

A file's name is the SHA-256 of its key, so any key makes a safe name and no key shows in a
directory listing. The file holds a small header (magic, key length, key) and then the value;
the key is checked on every read, so a file copied or renamed onto another entry's name reads
as absent. A write goes to a private temp file in the same directory, is fsynced, then renamed
over the entry: readers in any thread or process see the old value or the new one, never a
torn one. Temp files a crashed writer leaves behind are ignored, and removed by ``clear()``.

A lock file, ``.vaultcache.lock`` in the directory, makes :meth:`FileStorage.replace` a true
compare-and-swap: writers and deleters hold it shared (``fcntl.flock``) only while they rename
or unlink, and ``replace`` and eviction hold it exclusively, so no write lands between
``replace``'s read and its rename. Readers never take it. (Without ``fcntl``, on Windows, a
lock of this object stands in for it, and ``replace`` is atomic only within the process.)

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
import errno
import hashlib
import logging
import os
import re
import stat
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, NamedTuple

from vaultcache.backends.base import BaseStorage
from vaultcache.backends.errors import BackendError
from vaultcache.backends.location import refuse_if_shared, resolve_location
from vaultcache.backends.options import check_bool
from vaultcache.backends.usage import AccessLog, EntryStats, lru_victims
from vaultcache.errors import ConfigError
from vaultcache.private_files import make_private_dirs

if sys.platform != "win32":
    import fcntl

__all__ = ["FileStorage"]

logger = logging.getLogger(__name__)

BACKEND = "filesystem"
_MAGIC = b"VCF1"
_HEADER = struct.Struct(">4sI")  # magic, length of the UTF-8 key that follows
_TEMP_PREFIX = ".vaultcache-"
_TEMP_SUFFIX = ".tmp"
_LOCK_NAME = ".vaultcache.lock"
_NOATIME = getattr(os, "O_NOATIME", 0)
# O_NONBLOCK: opening a FIFO planted at an entry's path would otherwise wait for a writer.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_READ_FLAGS = _OPEN_FLAGS | getattr(os, "O_BINARY", 0) | _NOATIME
_EXTENSION = re.compile(r"(\.[A-Za-z0-9_-]{1,16})?\Z")
# A write whose temp file is removed under it by a concurrent clear() starts again.
_WRITE_ATTEMPTS = 3


class FileStorage(BaseStorage):
    """Entries as files named by the SHA-256 of their key in `cache_dir` (mode 0700).

    With `use_cache_dir`, `cache_dir` is relative to the user cache directory; with
    `use_temp`, to the system temp directory. `extension` (such as ``".bin"``) is appended to
    every entry's file name. An existing directory that another user owns, or that group or
    others may write, is refused (BackendError) unless `allow_shared` is True.
    every entry's file name. With `read_only` nothing is created or written (a missing
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
        self.extension = _check_extension(extension)
        self._entry_name = re.compile(r"[0-9a-f]{64}" + re.escape(self.extension) + r"\Z")
        self._lock_path = self.cache_dir / _LOCK_NAME
        self._process_lock = threading.Lock()  # stands in for the lock file without fcntl
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
            with _open_entry(path) as file:
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
        header = _header(key)
        path = self._path(key)
        for _ in range(_WRITE_ATTEMPTS):
            try:
                temporary = self._write_temp(header, value)
                with self._locked():
                    replaced = self._install(temporary, path)
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
            with _open_entry(path) as file:
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
            raise self._error(exc, "lock", self._lock_path) from exc
        self.usage.cleared()

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        if not isinstance(key, str):
            return None
        path = self._path(key)
        try:
            with _open_entry(path) as file:
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
        header = _header(key)
        path = self._path(key)
        try:
            with self._locked(exclusive=True):
                try:
                    with _open_entry(path) as file:
                        if _read_key(file) != key.encode("utf-8") or file.read() != expected:
                            return False
                        times = os.fstat(file.fileno())
                except FileNotFoundError:
                    return False
                temporary = self._write_temp(header, new, (times.st_atime_ns, times.st_mtime_ns))
                self._install(temporary, path)
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
                with _open_entry(path) as file:
                    encoded = _read_key(file)
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
            times = _FileTimes.of(status)
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
                deleted, entries, size = self._evict(
                    max_entries, max_bytes, max_age, now=now, slack=slack
                )
                self.usage.counted(entries, size, now)
        except FileNotFoundError:
            self.usage.counted(0, 0, now)  # no directory: nothing stored
            return 0
        except OSError as exc:
            raise self._error(exc, "evict from", self.cache_dir) from exc
        return deleted

    def _evict(
        self,
        max_entries: int | None,
        max_bytes: int | None,
        max_age: timedelta | None,
        *,
        now: float,
        slack: float,
    ) -> tuple[int, int, int]:
        """The body of :meth:`evict`, under the lock: (deleted, entries left, bytes left)."""
        self._flush_accesses()
        files: list[tuple[_FileTimes, str]] = []
        for name in self._names(self._entry_name):
            try:
                files.append((_FileTimes.of(os.stat(self.cache_dir / name)), name))
            except FileNotFoundError:
                continue
        doomed: list[str] = []
        if max_age is not None:
            cutoff = now - max_age.total_seconds()
            doomed = [name for times, name in files if times.created < cutoff]
            files = [(times, name) for times, name in files if times.created >= cutoff]
        files.sort(key=lambda item: (item[0].accessed, item[1]))
        victims, entries, size = lru_victims(
            ((name, times.size) for times, name in files),
            entries=len(files),
            size=sum(times.size for times, _ in files),
            max_entries=max_entries,
            max_bytes=max_bytes,
            slack=slack,
        )
        deleted = 0
        for name in doomed + victims:
            try:
                os.unlink(self.cache_dir / name)
            except FileNotFoundError:
                continue
            deleted += 1
        return deleted, entries, size

    def _flush_accesses(self) -> None:
        """Set the access time of each file read since the last flush (never backwards)."""
        for key, when in self._accesses.take().items():
            try:
                fd = os.open(self._path(key), _OPEN_FLAGS)
            except OSError:
                continue  # deleted or replaced meanwhile: nothing to record
            try:
                status = os.fstat(fd)
                when_ns = int(when * 1e9)
                if when_ns > status.st_atime_ns:
                    # By descriptor: the file we opened, even if renamed over meanwhile.
                    os.utime(fd, ns=(when_ns, status.st_mtime_ns))
            except OSError:
                logger.debug("could not set the access time of a cache file", exc_info=True)
            finally:
                os.close(fd)

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

    def _write_temp(
        self, header: bytes, value: bytes, times_ns: tuple[int, int] | None = None
    ) -> str:
        """Write a complete, synced entry file under a temp name; return that name.

        Its access and modification times are `times_ns`, or now.
        """
        # mkstemp creates the file with mode 0600, in the same directory so that
        # os.replace is an atomic rename on one filesystem.
        fd, temporary = tempfile.mkstemp(
            dir=self.cache_dir, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX
        )
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(header)
                file.write(value)
                file.flush()
                if times_ns is None:
                    now = time.time_ns()
                    times_ns = (now, now)
                # Exact times: the kernel stamps files from a clock that ticks every few ms.
                os.utime(file.fileno(), ns=times_ns)
                os.fsync(file.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return temporary

    def _install(self, temporary: str, path: Path) -> int | None:
        """Rename `temporary` over `path`; the size of the file it replaced, or None.

        The caller holds the lock file.
        """
        try:
            replaced: int | None = None
            if self.track_access:
                with contextlib.suppress(FileNotFoundError):
                    replaced = os.stat(path).st_size
            # No fsync of the directory: after a power cut the entry may be missing (a miss),
            # which a cache tolerates, but it is never torn.
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return replaced

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool = False) -> Iterator[None]:
        """Hold the lock file: shared to write or delete, exclusive to replace or evict.

        A new descriptor each time: flock locks belong to an open file description, so
        threads of this process exclude each other too. Raises FileNotFoundError when the
        directory is gone.
        """
        self._check_writable()
        if sys.platform == "win32":
            with self._process_lock:
                yield
            return
        # O_NOFOLLOW: a link planted here must not make us create or open a file elsewhere.
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self._lock_path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _header_matches(self, file: IO[bytes], key: str, path: Path) -> bool:
        """Read the header; True when it holds `key`, else log and return False."""
        if _read_key(file) == key.encode("utf-8"):
            return True
        logger.warning(
            "cache file %s is damaged or holds another key; treating it as missing", path
        )
        return False

    def _stored_key(self, path: Path) -> str | None:
        try:
            with _open_entry(path) as file:
                encoded = _read_key(file)
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
            if pattern.match(name) or (
                temp and name.startswith(_TEMP_PREFIX) and name.endswith(_TEMP_SUFFIX)
            ):
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


class _FileTimes(NamedTuple):
    """What eviction needs of an entry file: its size and, in epoch seconds, its times."""

    size: int
    created: float
    accessed: float

    @classmethod
    def of(cls, status: os.stat_result) -> _FileTimes:
        # The modification time is set when the entry is written, the access time when it is
        # read; an access time that is earlier (a replace keeps the old one) means "not since".
        created = status.st_mtime_ns / 1e9
        return cls(status.st_size, created, max(created, status.st_atime_ns / 1e9))


def _open_entry(path: Path) -> IO[bytes]:
    """Open an entry file for reading, without the kernel updating its access time.

    With ``relatime`` the kernel would set it on the first read after our own ``utime`` (which
    changes the status-change time), so merely listing keys would count as a use.
    ``O_NOATIME`` (Linux) is refused for files this user does not own: then open normally.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except PermissionError:
        if not _NOATIME:
            raise
        fd = os.open(path, _READ_FLAGS & ~_NOATIME)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        # A directory, FIFO or device where an entry should be: no entry (reading a FIFO
        # would wait for a writer, a device would never end).
        raise FileNotFoundError(errno.ENOENT, "not a regular file", str(path))
    return os.fdopen(fd, "rb")


def _header(key: str) -> bytes:
    """The header an entry file starts with: magic, key length, key."""
    encoded = key.encode("utf-8")
    return _HEADER.pack(_MAGIC, len(encoded)) + encoded


def _read_key(file: IO[bytes]) -> bytes | None:
    """The key in a file's header, or None when the header is not ours or is truncated."""
    header = file.read(_HEADER.size)
    if len(header) != _HEADER.size:
        return None
    magic, length = _HEADER.unpack(header)
    # A length past the end of the file is damage: reading it would allocate up to 4 GiB.
    if magic != _MAGIC or length > os.fstat(file.fileno()).st_size - file.tell():
        return None
    encoded = file.read(length)
    return encoded if len(encoded) == length else None


def _check_extension(extension: object) -> str:
    if not isinstance(extension, str) or not _EXTENSION.match(extension):
        raise ConfigError(
            f"extension {extension!r} is invalid: use '' or a dot and up to 16 letters, "
            "digits, '-' or '_' (such as '.bin')",
            key="backend.filesystem.extension",
            expected="file extension",
        )
    return extension
