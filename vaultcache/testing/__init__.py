"""Contract tests shared by the built-ins and plugins: stages, storage backends, key sources.

Each kit is a base class to subclass in a ``Test...`` class of your test module; pytest then
runs every test in it against your plugin. See :mod:`vaultcache.testing.stages`,
:mod:`vaultcache.testing.storage` and :mod:`vaultcache.testing.key_sources` for how to point
each one at what you built. Needs pytest and hypothesis (vaultcache's ``test`` extra).
"""

from __future__ import annotations

from vaultcache.testing.key_sources import KeySourceContract
from vaultcache.testing.stages import StageContract
from vaultcache.testing.storage import ODD_KEYS, StorageContract
from vaultcache.testing.storage_base import StorageFactory
from vaultcache.testing.storage_sharing import run_storage_workers

__all__ = [
    "ODD_KEYS",
    "KeySourceContract",
    "StageContract",
    "StorageContract",
    "StorageFactory",
    "run_storage_workers",
]
