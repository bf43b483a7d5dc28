"""BaseStorage, the byte-storage contract every backend implements, and BackendError.

A storage maps ``str`` keys to ``bytes`` values and knows nothing else: the cache above it
turns responses into bytes and back. Storages must be safe to use from several threads;
built-in persistent ones are also safe across processes.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from abc import abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import platformdirs

from vaultcache.errors import ConfigError, VaultCacheError

__all__ = [
    "BackendError",
    "BaseStorage",
    "check_options",
    "resolve_location",
]


class BackendError(VaultCacheError):
    """Storage failed for a reason that is not the caller's fault (corrupt file, full disk).

    Carries the backend name and the path involved; the message says how to fix it and
    never contains keys or stored bytes.
    """

    def __init__(self, message: str, *, backend: str, path: str | None = None) -> None:
        self.backend = backend
        self.path = path
        super().__init__(message)


class BaseStorage(MutableMapping[str, bytes]):
    """A thread-safe mapping of ``str`` keys to ``bytes`` values; the base of every backend.

    Subclasses implement the five mapping methods and call :meth:`_check_item` in
    ``__setitem__``. Reading a key that is not a ``str`` is a miss (``KeyError``);
    writing one is a ``TypeError``. Iterating gives a snapshot: the caller may write
    meanwhile. :class:`vaultcache.testing.StorageContract` checks all this.
    """

    @abstractmethod
    def __getitem__(self, key: str) -> bytes: ...

    @abstractmethod
    def __setitem__(self, key: str, value: bytes) -> None: ...

    @abstractmethod
    def __delitem__(self, key: str) -> None: ...

    @abstractmethod
    def __iter__(self) -> Iterator[str]: ...

    @abstractmethod
    def __len__(self) -> int: ...

    def bulk_delete(self, keys: Iterable[str]) -> int:
        """Delete every key in `keys` that is present; return how many were deleted."""
        deleted = 0
        for key in list(keys):
            try:
                del self[key]
            except KeyError:
                continue
            deleted += 1
        return deleted

    def clear(self) -> None:
        """Delete every entry."""
        # MutableMapping.clear pops one item at a time, reading every value first.
        self.bulk_delete(list(self))

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        try:
            return len(self[key])
        except KeyError:
            return None

    def close(self) -> None:
        """Release connections and file handles; safe to call more than once."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    @staticmethod
    def _check_item(key: object, value: object) -> None:
        """Raise TypeError unless `key` is a str and `value` is bytes.

        The message names the type only: a wrong value may well be a secret.
        """
        if not isinstance(key, str):
            raise TypeError(f"storage keys must be str, not {type(key).__name__}")
        if not isinstance(value, bytes):
            raise TypeError(f"storage values must be bytes, not {type(value).__name__}")


def check_options(backend: str, options: Mapping[str, Any], known: Collection[str]) -> None:
    """Raise ConfigError naming ``backend.<backend>.<option>`` for an option not in `known`."""
    for name in options:
        if name in known:
            continue
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(sorted(known)) or "none"
        raise ConfigError(
            f"unknown option for backend {backend!r}{hint} (known: {listing})",
            key=f"backend.{backend}.{name}",
        )


def check_bool(backend: str, name: str, value: object) -> bool:
    """`value` if it is a bool, else ConfigError naming ``backend.<backend>.<name>``."""
    if not isinstance(value, bool):
        raise ConfigError(
            f"expected true or false, got {type(value).__name__}",
            key=f"backend.{backend}.{name}",
            expected="boolean",
        )
    return value


def resolve_location(
    backend: str,
    location: str | os.PathLike[str],
    *,
    use_cache_dir: bool,
    use_temp: bool,
) -> Path:
    """Where a cache lives: `location`, or relative to the user cache dir or the temp dir."""
    use_cache_dir = check_bool(backend, "use_cache_dir", use_cache_dir)
    use_temp = check_bool(backend, "use_temp", use_temp)
    if not isinstance(location, str | os.PathLike):
        raise ConfigError(
            f"expected a path, got {type(location).__name__}", key=f"backend.{backend}.path"
        )
    path = Path(location).expanduser()
    if use_cache_dir and use_temp:
        raise ConfigError(
            "use_cache_dir and use_temp exclude each other; set only one",
            key=f"backend.{backend}.use_temp",
        )
    if use_cache_dir or use_temp:
        if path.is_absolute():
            # Joining would silently drop the base directory the user asked for.
            option = "use_cache_dir" if use_cache_dir else "use_temp"
            raise ConfigError(
                f"{option} needs a relative name, got the absolute path {str(path)!r}",
                key=f"backend.{backend}.{option}",
            )
        base = platformdirs.user_cache_dir("vaultcache") if use_cache_dir else None
        path = Path(base or tempfile.gettempdir()) / path
    return path.absolute()


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents with mode 0700; leave existing ones alone."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    # Path.mkdir(parents=True) gives the parents default permissions; create each ourselves.
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process or thread won the race; that is fine
