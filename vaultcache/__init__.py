"""vaultcache: an encrypted, compressed, archival HTTP response cache for requests."""

from vaultcache._version import __version__
from vaultcache.backends.base import BackendError
from vaultcache.backends.caches import FileCache, SQLiteCache
from vaultcache.cache import BaseCache
from vaultcache.crypto_key_sources import load_key_ring
from vaultcache.crypto_keys import KeyRing, generate_key
from vaultcache.errors import (
    ConfigError,
    ConfigTypeError,
    DecodeError,
    EncodeError,
    EntryError,
    IntegrityError,
    KeyRingError,
    MissingDependencyError,
    PluginConflictError,
    PluginError,
    PluginIncompatibleError,
    PluginLoadError,
    SizeLimitError,
    SpecError,
    UnknownPluginError,
    VaultCacheError,
)
from vaultcache.hookspecs import PLUGIN_API, hookimpl
from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.patcher import (
    clear,
    delete,
    disabled,
    enabled,
    get_cache,
    install_cache,
    is_installed,
    uninstall_cache,
)
from vaultcache.policy.expiration import DO_NOT_CACHE, EXPIRE_IMMEDIATELY, NEVER_EXPIRE
from vaultcache.retention import Retention
from vaultcache.serializers import (
    SerializerPipeline,
    Stage,
    UnsafePipelineWarning,
    build_pipeline,
)
from vaultcache.session import CachedSession, CacheMixin

__all__ = [
    "DO_NOT_CACHE",
    "EXPIRE_IMMEDIATELY",
    "NEVER_EXPIRE",
    "PLUGIN_API",
    "BackendError",
    "BaseCache",
    "CacheMixin",
    "CachedRequest",
    "CachedResponse",
    "CachedSession",
    "ConfigError",
    "ConfigTypeError",
    "DecodeError",
    "EncodeError",
    "EntryError",
    "FileCache",
    "IntegrityError",
    "KeyRing",
    "KeyRingError",
    "MissingDependencyError",
    "PluginConflictError",
    "PluginError",
    "PluginIncompatibleError",
    "PluginLoadError",
    "Retention",
    "SQLiteCache",
    "SerializerPipeline",
    "SizeLimitError",
    "SpecError",
    "Stage",
    "UnknownPluginError",
    "UnsafePipelineWarning",
    "VaultCacheError",
    "__version__",
    "build_pipeline",
    "clear",
    "delete",
    "disabled",
    "enabled",
    "generate_key",
    "get_cache",
    "hookimpl",
    "install_cache",
    "is_installed",
    "load_key_ring",
    "uninstall_cache",
]
