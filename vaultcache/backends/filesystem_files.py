"""The entry file of the filesystem backend: its header, and reading and writing it safely.

An entry file holds a header (magic, key length, key) and then the value. It is written
under a private temp name, synced, then renamed over the entry, so no reader sees it torn.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import struct
import tempfile
import time
from pathlib import Path
from typing import IO, NamedTuple

from vaultcache.errors import ConfigError

__all__ = [
    "OPEN_FLAGS",
    "FileTimes",
    "check_extension",
    "entry_header",
    "install",
    "is_temp_name",
    "open_entry",
    "read_key",
    "write_temp",
]

_MAGIC = b"VCF1"
_HEADER = struct.Struct(">4sI")  # magic, length of the UTF-8 key that follows
TEMP_PREFIX = ".vaultcache-"
TEMP_SUFFIX = ".tmp"
_NOATIME = getattr(os, "O_NOATIME", 0)
# O_NONBLOCK: opening a FIFO planted at an entry's path would otherwise wait for a writer.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_READ_FLAGS = OPEN_FLAGS | getattr(os, "O_BINARY", 0) | _NOATIME


def is_temp_name(name: str) -> bool:
    """Whether `name` is that of a writer's temp file."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


class FileTimes(NamedTuple):
    """What eviction needs of an entry file: its size and, in epoch seconds, its times."""

    size: int
    created: float
    accessed: float

    @classmethod
    def of(cls, status: os.stat_result) -> FileTimes:
        """The times of a file from its `status`."""
        # The modification time is set when the entry is written, the access time when it is
        # read; an access time that is earlier (a replace keeps the old one) means "not since".
        created = status.st_mtime_ns / 1e9
        return cls(status.st_size, created, max(created, status.st_atime_ns / 1e9))


def open_entry(path: Path) -> IO[bytes]:
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


def entry_header(key: str) -> bytes:
    """The header an entry file starts with: magic, key length, key."""
    encoded = key.encode("utf-8")
    return _HEADER.pack(_MAGIC, len(encoded)) + encoded


def read_key(file: IO[bytes]) -> bytes | None:
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


def write_temp(
    directory: Path, header: bytes, value: bytes, times_ns: tuple[int, int] | None = None
) -> str:
    """Write a complete, synced entry file under a temp name in `directory`; return that name.

    Its access and modification times are `times_ns`, or now.
    """
    # mkstemp creates the file with mode 0600, in the same directory so that
    # os.replace is an atomic rename on one filesystem.
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
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


def install(temporary: str, path: Path, *, measure: bool) -> int | None:
    """Rename `temporary` over `path`; with `measure`, the size of the file it replaced
    (None: there was none, or not measured).

    The caller holds the lock file.
    """
    try:
        replaced: int | None = None
        if measure:
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


_EXTENSION = re.compile(r"(\.[A-Za-z0-9_-]{1,16})?\Z")


def check_extension(extension: object) -> str:
    """`extension`, checked: empty, or a dot and up to 16 letters, digits, "-" or "_"."""
    if not isinstance(extension, str) or not _EXTENSION.match(extension):
        raise ConfigError(
            f"extension {extension!r} is invalid: use '' or a dot and up to 16 letters, "
            "digits, '-' or '_' (such as '.bin')",
            key="backend.filesystem.extension",
            expected="file extension",
        )
    return extension
