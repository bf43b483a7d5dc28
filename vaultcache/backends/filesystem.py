"""FileStorage: one file per entry in a directory.

A file's name is the SHA-256 of its key, so any key makes a safe name and no key shows in a
directory listing. The file holds a small header (magic, key length, key) and then the value;
the key is checked on every read, so a file copied or renamed onto another entry's name reads
as absent. A write goes to a private temp file in the same directory, is fsynced, then renamed
over the entry: readers in any thread or process see the old value or the new one, never a
torn one. Temp files a crashed writer leaves behind are ignored, and removed by ``clear()``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from vaultcache.backends.base import (
    BackendError,
    BaseStorage,
    check_options,
    make_private_dirs,
    resolve_location,
)
from vaultcache.errors import ConfigError

if TYPE_CHECKING:
    from vaultcache.cache import BaseCache

__all__ = ["FileStorage", "filesystem_cache"]

logger = logging.getLogger(__name__)

BACKEND = "filesystem"
_MAGIC = b"VCF1"
_HEADER = struct.Struct(">4sI")  # magic, length of the UTF-8 key that follows
_TEMP_PREFIX = ".vaultcache-"
_TEMP_SUFFIX = ".tmp"
_EXTENSION = re.compile(r"(\.[A-Za-z0-9_-]{1,16})?\Z")
# A write whose temp file is removed under it by a concurrent clear() starts again.
_WRITE_ATTEMPTS = 3


class FileStorage(BaseStorage):
    """Entries as files named by the SHA-256 of their key in `cache_dir` (mode 0700).

    With `use_cache_dir`, `cache_dir` is relative to the user cache directory; with
    `use_temp`, to the system temp directory. `extension` (such as ``".bin"``) is appended to
    every entry's file name.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] = "http_cache",
        *,
        use_cache_dir: bool = False,
        use_temp: bool = False,
        extension: str = "",
    ) -> None:
        self.cache_dir = resolve_location(
            BACKEND, cache_dir, use_cache_dir=use_cache_dir, use_temp=use_temp
        )
        self.extension = _check_extension(extension)
        self._entry_name = re.compile(r"[0-9a-f]{64}" + re.escape(self.extension) + r"\Z")
        self._make_dir()

    # -- the mapping ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise KeyError(key)
        path = self._path(key)
        try:
            with open(path, "rb") as file:
                if not self._header_matches(file, key, path):
                    raise KeyError(key)
                return file.read()
        except FileNotFoundError:
            raise KeyError(key) from None
        except OSError as exc:
            raise self._error(exc, "read", path) from exc

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_item(key, value)
        encoded = key.encode("utf-8")
        header = _HEADER.pack(_MAGIC, len(encoded)) + encoded
        path = self._path(key)
        for _ in range(_WRITE_ATTEMPTS):
            try:
                self._write(path, header, value)
            except FileNotFoundError:
                self._make_dir()  # the directory or our temp file was removed meanwhile
                continue
            except OSError as exc:
                raise self._error(exc, "write", path) from exc
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
            with open(path, "rb") as file:
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
        for name in self._names(self._entry_name, temp=True):
            try:
                os.unlink(self.cache_dir / name)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise self._error(exc, "delete", self.cache_dir / name) from exc

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        if not isinstance(key, str):
            return None
        path = self._path(key)
        try:
            with open(path, "rb") as file:
                if not self._header_matches(file, key, path):
                    return None
                return os.fstat(file.fileno()).st_size - file.tell()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(exc, "read", path) from exc

    def __repr__(self) -> str:
        return f"<FileStorage {str(self.cache_dir)!r}>"

    # -- files ------------------------------------------------------------------------------

    def _file_name(self, key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest() + self.extension

    def _path(self, key: str) -> Path:
        return self.cache_dir / self._file_name(key)

    def _write(self, path: Path, header: bytes, value: bytes) -> None:
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
                os.fsync(file.fileno())
            # No fsync of the directory: after a power cut the entry may be missing (a miss),
            # which a cache tolerates, but it is never torn.
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

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
            with open(path, "rb") as file:
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

    def _error(self, exc: OSError, action: str, path: Path) -> BackendError:
        return BackendError(
            f"cannot {action} {path} ({exc.strerror or exc}); check that {self.cache_dir} "
            "is writable by this user and that the disk is not full",
            backend=BACKEND,
            path=str(path),
        )


def _read_key(file: IO[bytes]) -> bytes | None:
    """The key in a file's header, or None when the header is not ours or is truncated."""
    header = file.read(_HEADER.size)
    if len(header) != _HEADER.size:
        return None
    magic, length = _HEADER.unpack(header)
    if magic != _MAGIC:
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


def filesystem_cache(
    cache_name: str | os.PathLike[str] = "http_cache", **options: Any
) -> BaseCache:
    """A BaseCache with responses and redirects in two subdirectories of `cache_name`.

    Options: ``use_cache_dir``, ``use_temp``, ``extension`` (see :class:`FileStorage`).
    """
    check_options(BACKEND, options, ("use_cache_dir", "use_temp", "extension"))
    # Imported here: vaultcache.cache imports this package.
    from vaultcache.cache import BaseCache  # noqa: PLC0415

    root = Path(cache_name)
    return BaseCache(
        str(cache_name),
        responses=FileStorage(root / "responses", **options),
        redirects=FileStorage(root / "redirects", **options),
    )
