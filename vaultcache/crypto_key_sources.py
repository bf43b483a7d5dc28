"""Where keys come from: the built-in key sources, :func:`load_key_ring` and :func:`key_ring_for`.

The default chain, first that holds keys wins:

1. ``env``: ``VAULTCACHE_KEYS``, keys separated by commas, primary first.
2. ``file``: the file named by ``VAULTCACHE_KEY_FILE`` (one key per line, primary first),
   refused when group or others can read it.
3. ``data-dir``: ``keys`` in the user's data directory (``VAULTCACHE_DATA_DIR`` overrides),
   created with mode 0600 on first use unless ``VAULTCACHE_AUTO_CREATE_KEY=0``.

Key sources from plugins are used only when named explicitly (``source=``, or the config).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from vaultcache.crypto_keys import KeyRing, coerce_key_ring, generate_key
from vaultcache.errors import ConfigError, KeyRingError
from vaultcache.hookspecs import hookimpl
from vaultcache.private_files import make_private_dirs
from vaultcache.registry import KeySourceRegistrar, PluginRegistry, get_registry

__all__ = [
    "DEFAULT_SOURCES",
    "DataDirKeySource",
    "EnvKeySource",
    "FileKeySource",
    "KeySource",
    "default_key_file",
    "key_ring_for",
    "load_key_ring",
]

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for

logger = logging.getLogger(__name__)

DEFAULT_SOURCES = ("env", "file", "data-dir")
KEY_FILE_NAME = "keys"
_GENERATE = "create a key with `vaultcache keys generate`"


class KeySource(Protocol):
    """What a key-source factory returns.

    It may also have ``describe()`` (where its keys come from, for errors: never the keys)
    and ``hint()`` (how to put a key there, for the no-key error).
    """

    def load(self) -> list[str] | None:
        """The keys as text, primary first; None when this source holds none."""
        ...


class EnvKeySource:
    """Keys from an environment variable (``VAULTCACHE_KEYS`` by default)."""

    def __init__(self, variable: str = "VAULTCACHE_KEYS") -> None:
        self.variable = variable

    def load(self) -> list[str] | None:
        """The keys in the variable, or None when it is unset or empty."""
        value = os.environ.get(self.variable, "").strip()
        return _split(value) if value else None

    def describe(self) -> str:
        """Where the keys come from."""
        return f"environment variable {self.variable}"

    def hint(self) -> str:
        """How to put a key there."""
        return f"set {self.variable} to it (keys separated by commas, primary first)"


class FileKeySource:
    """Keys from a file named by `path` or by ``VAULTCACHE_KEY_FILE``."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = path

    def load(self) -> list[str] | None:
        """The keys in the file; None when no file is configured."""
        path = self._path()
        if path is None:
            return None
        if not path.exists():
            raise KeyRingError(
                f"{self.describe()} does not exist; {_GENERATE} and write it there (mode 0600)"
            )
        return read_key_file(path)

    def describe(self) -> str:
        """Where the keys come from."""
        path = self._path()
        if path is None:
            return "the key file named by VAULTCACHE_KEY_FILE (not set)"
        return f"key file {path}" + ("" if self.path else " (named by VAULTCACHE_KEY_FILE)")

    def hint(self) -> str:
        """How to put a key there."""
        where = self.path or "a file named by VAULTCACHE_KEY_FILE"
        return f"write it to {where} (mode 0600)"

    def _path(self) -> Path | None:
        path = self.path or os.environ.get("VAULTCACHE_KEY_FILE")
        return Path(path).expanduser() if path else None


class DataDirKeySource:
    """The key file in the user's data directory, created on first use if allowed."""

    def __init__(self, path: Path | None = None, *, auto_create: bool | None = None) -> None:
        self.path = path or default_key_file()
        self.auto_create = _auto_create_default() if auto_create is None else auto_create

    def load(self) -> list[str] | None:
        """The keys in the file, creating it with one new key when missing and allowed."""
        if not self.path.exists():
            if not self.auto_create:
                return None
            _create_key_file(self.path)
        return read_key_file(self.path)

    def describe(self) -> str:
        """Where the keys come from."""
        return f"key file {self.path}"

    def hint(self) -> str:
        """How to put a key there."""
        return f"allow auto-creation of {self.path} (VAULTCACHE_AUTO_CREATE_KEY=1)"


def default_key_file() -> Path:
    """Where the auto-created key file lives: ``<user data dir>/vaultcache/keys``."""
    data_dir = os.environ.get("VAULTCACHE_DATA_DIR") or platformdirs.user_data_dir("vaultcache")
    return Path(data_dir).expanduser() / KEY_FILE_NAME


def read_key_file(path: Path) -> list[str]:
    """Read a key file, refusing one that group or others can read or write."""
    if os.name == "posix":
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyRingError(
                f"key file {path} is accessible by group or others (mode "
                f"{stat.S_IMODE(mode):o}); run `chmod 600 {path}`"
            )
    keys = _split(path.read_text(encoding="utf-8"))
    if not keys:
        raise KeyRingError(f"key file {path} holds no keys; {_GENERATE} and add it")
    return keys


def load_key_ring(
    keys: KeyRing | str | Sequence[str | bytes] | None = None,
    *,
    sources: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    registry: PluginRegistry | None = None,
    auto_create: bool | None = None,
) -> KeyRing:
    """The KeyRing from `keys` if given, else from the first of `sources` that holds keys.

    `sources` are key-source names (default: ``env``, ``file``, ``data-dir``); `options`
    maps a source name to its options. Raises KeyRingError, saying how to make a key, when
    no source holds keys.
    """
    if keys is not None:
        return _parsed(lambda: coerce_key_ring(keys), "keys passed in code (keys=)")
    registry = registry or get_registry()
    options = options or {}
    hints: list[str] = []
    names = tuple(sources or DEFAULT_SOURCES)
    for name in names:
        registration = registry.key_source(name)
        registration.ensure_available()
        source_options = dict(options.get(name, {}))
        if name == "data-dir" and auto_create is not None:
            source_options.setdefault("auto_create", auto_create)
        source = registration.factory(source_options)
        found = source.load()
        if found:
            where = _call(source, "describe") or f"key source {name!r}"
            return _parsed(functools.partial(KeyRing.from_text, "\n".join(found)), where)
        hints.append(_call(source, "hint") or f"store it where key source {name!r} reads it")
    raise KeyRingError(
        f"no vaultcache key found (key sources: {', '.join(names)}); {_GENERATE} and "
        + "; or ".join(hints)
    )


def key_ring_for(
    keys: KeyRing | str | Sequence[str | bytes] | None = None,
    *,
    required: bool,
    sources: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    registry: PluginRegistry | None = None,
    auto_create: bool | None = None,
) -> KeyRing | None:
    """The key ring a serializer is given, by the one rule every caller follows.

    `required` (the serializer signs or encrypts): the ring :func:`load_key_ring` finds, or
    creates as `auto_create` allows; KeyRingError when there is none. Otherwise keys only
    strengthen cache keys: the ring found without creating one, or None (also when the
    sources' keys cannot be read). Keys given explicitly are checked either way: an
    invalid one is a KeyRingError, never silently dropped (an empty list gives none).
    """
    if required:
        return load_key_ring(
            keys, sources=sources, options=options, registry=registry, auto_create=auto_create
        )
    try:
        return load_key_ring(
            keys, sources=sources, options=options, registry=registry, auto_create=False
        )
    except KeyRingError:
        if keys:  # keys given (not an empty list): one that does not parse is refused
            raise
        return None


def _parsed(parse: Callable[[], KeyRing], where: str) -> KeyRing:
    """`parse()`, with an invalid key reported as coming from `where` (never echoed)."""
    try:
        return parse()
    except KeyRingError as exc:
        raise KeyRingError(f"{where}: {exc}") from None


def _call(source: object, method: str) -> str | None:
    function = getattr(source, method, None)
    return str(function()) if callable(function) else None


def _split(text: str) -> list[str]:
    lines = (line.split("#", 1)[0] for line in text.splitlines())
    return [part.strip() for line in lines for part in line.split(",") if part.strip()]


def _auto_create_default() -> bool:
    value = os.environ.get("VAULTCACHE_AUTO_CREATE_KEY", "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


def _create_key_file(path: Path) -> None:
    """Create `path` holding one new key, mode 0600, atomically: racing creators agree."""
    make_private_dirs(path.parent)  # every missing parent 0700, whatever the umask
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".keys-")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(f"# vaultcache keys, primary first; back this file up\n{generate_key()}\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # fails if another process created it first
        except FileExistsError:
            return
        logger.warning("created a new key file at %s; back it up", path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _no_options(name: str, options: Mapping[str, Any], allowed: set[str]) -> None:
    for option in options:
        if option not in allowed:
            raise ConfigError(
                f"unknown option for key source {name!r} (known: {', '.join(sorted(allowed))})",
                key=f"keys.{name}.{option}",
            )


def _env(options: dict[str, Any]) -> EnvKeySource:
    _no_options("env", options, {"variable"})
    return EnvKeySource(**options)


def _file(options: dict[str, Any]) -> FileKeySource:
    _no_options("file", options, {"path"})
    return FileKeySource(**options)


def _data_dir(options: dict[str, Any]) -> DataDirKeySource:
    _no_options("data-dir", options, {"path", "auto_create"})
    path = options.get("path")
    return DataDirKeySource(Path(path) if path else None, auto_create=options.get("auto_create"))


@hookimpl
def vaultcache_register_key_sources(registry: KeySourceRegistrar) -> None:
    """Register the built-in key sources."""
    registry.add("env", _env, description="VAULTCACHE_KEYS environment variable")
    registry.add("file", _file, description="key file named by VAULTCACHE_KEY_FILE (mode 0600)")
    registry.add(
        "data-dir", _data_dir, description="key file in the user data directory, auto-created"
    )
