"""vaultcache-keyring: keep vaultcache keys in the operating system's keyring.

Installing the package registers the key source ``keyring``; name it in the config::

    [keys]
    sources = ["keyring"]

    [keys.keyring]
    service = "myapp"

Put keys there with ``python -m vaultcache_keyring generate`` (or the functions in
:mod:`vaultcache_keyring.store`). The names below are imported on first use, so that
vaultcache reading its plugins does not import keyring.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaultcache_keyring.source import KeyringKeySource
    from vaultcache_keyring.store import (
        delete_keys,
        generate_keys,
        key_ids,
        retire_key,
        rotate_keys,
        store_keys,
    )

__all__ = [
    "VAULTCACHE_PLUGIN_API",
    "KeyringKeySource",
    "delete_keys",
    "generate_keys",
    "key_ids",
    "retire_key",
    "rotate_keys",
    "store_keys",
]

__version__ = "0.1.0"

#: The vaultcache hook-spec version this package was written for.
VAULTCACHE_PLUGIN_API = 1

_LAZY = {"KeyringKeySource": "vaultcache_keyring.source"} | dict.fromkeys(
    ["delete_keys", "generate_keys", "key_ids", "retire_key", "rotate_keys", "store_keys"],
    "vaultcache_keyring.store",
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
