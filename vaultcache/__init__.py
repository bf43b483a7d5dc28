"""vaultcache: an encrypted, compressed, archival HTTP response cache for requests."""

from vaultcache._version import __version__
from vaultcache.errors import (
    ConfigError,
    DecodeError,
    EntryError,
    IntegrityError,
    KeyRingError,
    MissingDependencyError,
    PluginConflictError,
    PluginError,
    PluginLoadError,
    SizeLimitError,
    SpecError,
    UnknownPluginError,
    VaultCacheError,
)
from vaultcache.hookspecs import PLUGIN_API, hookimpl
from vaultcache.key_sources import load_key_ring
from vaultcache.keys import KeyRing, generate_key
from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.serializers import SerializerPipeline, Stage, build_pipeline

__all__ = [
    "PLUGIN_API",
    "CachedRequest",
    "CachedResponse",
    "ConfigError",
    "DecodeError",
    "EntryError",
    "IntegrityError",
    "KeyRing",
    "KeyRingError",
    "MissingDependencyError",
    "PluginConflictError",
    "PluginError",
    "PluginLoadError",
    "SerializerPipeline",
    "SizeLimitError",
    "SpecError",
    "Stage",
    "UnknownPluginError",
    "VaultCacheError",
    "__version__",
    "build_pipeline",
    "generate_key",
    "hookimpl",
    "load_key_ring",
]
