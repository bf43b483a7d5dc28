"""Everything a plugin package imports from vaultcache, in one place.

A plugin imports from here, from :mod:`vaultcache` (the user API: ``CachedSession``,
``build_pipeline``, ...) and, in its tests, from :mod:`vaultcache.testing`; nothing deeper,
so vaultcache can rearrange its modules without breaking plugins. The names by use:

- every plugin: :func:`hookimpl`, the registrar its hook receives (:class:`StageRegistrar`,
  :class:`BackendRegistrar`, :class:`KeySourceRegistrar`), :func:`get_registry` (to look a
  name up, for example in tests) and :data:`PLUGIN_API`;
- stages: :func:`parse_options`, :func:`int_option` and :func:`reject_options` check a
  stage's options; :data:`DEFAULT_MAX_SIZE` and :data:`DECOMPRESSION_STEP` are the bounds the
  built-in compression stages use;
- backends: :class:`BaseStorage` and its support types (:class:`AccessLog`,
  :class:`EntryStats`, :class:`StorageUsage`, :func:`stored_number`), :func:`open_mode`,
  :func:`not_found` and :func:`check_options` for factories, :class:`BaseCache` with
  :class:`EntryWriter`, :class:`CachedResponse` and :data:`NEVER_EXPIRE` for caches, and
  :class:`KeyFunction` and :class:`KeyRing`, the cache keys and crypto keys a session gives
  a cache it builds, and :func:`session_defaults` for what a cache object keeps for the
  session it is given to (``serializer``, ``expire_after``);
- key sources: the :class:`KeySource` protocol, :class:`KeyRing`, :class:`Key` and
  :func:`generate_key`;
- errors a plugin raises or catches; and :mod:`clock <vaultcache.clock>`, the one place
  vaultcache reads the time, which tests replace with ``monkeypatch.setattr(clock, "now", ...)``.
"""

from __future__ import annotations

from vaultcache import clock
from vaultcache.backends.base import BaseStorage
from vaultcache.backends.errors import BackendError, CacheNotFoundError
from vaultcache.backends.location import not_found
from vaultcache.backends.options import OpenMode, check_options, open_mode
from vaultcache.backends.usage import AccessLog, EntryStats, StorageUsage, stored_number
from vaultcache.cache import BaseCache
from vaultcache.cache_key_function import KeyFunction
from vaultcache.compat import session_defaults
from vaultcache.crypto_key_sources import KeySource
from vaultcache.crypto_keys import Key, KeyRing, generate_key
from vaultcache.entries import EntryWriter
from vaultcache.errors import (
    ConfigError,
    DecodeError,
    IntegrityError,
    KeyRingError,
    MissingDependencyError,
    SizeLimitError,
    VaultCacheError,
)
from vaultcache.hookspecs import PLUGIN_API, hookimpl
from vaultcache.models import CachedResponse
from vaultcache.policy.expiration import NEVER_EXPIRE
from vaultcache.registry import BackendRegistrar, KeySourceRegistrar, StageRegistrar, get_registry
from vaultcache.serializers.stages.compression import DECOMPRESSION_STEP, DEFAULT_MAX_SIZE
from vaultcache.serializers.stages.options import int_option, parse_options, reject_options

__all__ = [
    "DECOMPRESSION_STEP",
    "DEFAULT_MAX_SIZE",
    "NEVER_EXPIRE",
    "PLUGIN_API",
    "AccessLog",
    "BackendError",
    "BackendRegistrar",
    "BaseCache",
    "BaseStorage",
    "CacheNotFoundError",
    "CachedResponse",
    "ConfigError",
    "DecodeError",
    "EntryStats",
    "EntryWriter",
    "IntegrityError",
    "Key",
    "KeyFunction",
    "KeyRing",
    "KeyRingError",
    "KeySource",
    "KeySourceRegistrar",
    "MissingDependencyError",
    "OpenMode",
    "SizeLimitError",
    "StageRegistrar",
    "StorageUsage",
    "VaultCacheError",
    "check_options",
    "clock",
    "generate_key",
    "get_registry",
    "hookimpl",
    "int_option",
    "not_found",
    "open_mode",
    "parse_options",
    "reject_options",
    "session_defaults",
    "stored_number",
]
