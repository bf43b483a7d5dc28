"""vaultcache-brotli: a brotli compression stage for vaultcache, with bounded decompression.

Installing the package registers the stage ``brotli``::

    from vaultcache import CachedSession

    session = CachedSession("myapp", serializer="signed+brotli+fernet",
                            serializer_options={"brotli": {"quality": 6}})
"""

from __future__ import annotations

from vaultcache_brotli.stage import DEFAULT_QUALITY, BrotliStage, brotli_stage

__all__ = ["DEFAULT_QUALITY", "VAULTCACHE_PLUGIN_API", "BrotliStage", "brotli_stage"]

__version__ = "0.1.0"

#: The vaultcache hook-spec version this package was written for.
VAULTCACHE_PLUGIN_API = 1
