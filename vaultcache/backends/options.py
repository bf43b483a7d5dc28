"""The options every backend factory takes: checking names and booleans, the open mode."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

from vaultcache.errors import ConfigError

__all__ = ["CACHE_ARGUMENTS", "OpenMode", "check_bool", "check_options", "open_mode"]


class OpenMode(NamedTuple):
    """How a backend factory opens a cache: the ``create`` and ``read_only`` options."""

    #: False: never create a cache (file, directory, table) that does not exist.
    create: bool
    #: True: write nothing, not even on opening (implies ``create=False``).
    read_only: bool


def open_mode(backend: str, options: dict[str, Any]) -> OpenMode:
    """Take ``create`` (default True) and ``read_only`` (default False) out of `options`.

    Every backend factory accepts these two options (see docs/plugins.md): the read-only
    commands of ``vaultcache`` pass ``read_only=True``, the others that work on an existing
    cache ``create=False``.
    """
    read_only = check_bool(backend, "read_only", options.pop("read_only", False))
    create = check_bool(backend, "create", options.pop("create", True))
    return OpenMode(create=create and not read_only, read_only=read_only)


#: What a session gives every backend factory in its options, for ``BaseCache.__init__``.
CACHE_ARGUMENTS = ("serializer", "key_ring", "create_key")


def check_options(backend: str, options: Mapping[str, Any], known: Collection[str]) -> None:
    """Raise ConfigError naming ``backend.<backend>.<option>`` for an option not in `known`
    (nor in :data:`CACHE_ARGUMENTS`, which the factory passes on to BaseCache)."""
    for name in options:
        if name in known or name in CACHE_ARGUMENTS:
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
