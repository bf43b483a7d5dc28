"""The entry point: registers the ``brotli`` compression stage with vaultcache's registry."""

from __future__ import annotations

from vaultcache.plugin import StageRegistrar, hookimpl
from vaultcache_brotli.stage import brotli_stage

__all__ = ["VAULTCACHE_PLUGIN_API", "vaultcache_register_stages"]

#: The vaultcache hook-spec version this plugin was written for.
VAULTCACHE_PLUGIN_API = 1


@hookimpl
def vaultcache_register_stages(registry: StageRegistrar) -> None:
    """Register the ``brotli`` compression stage."""
    registry.add(
        "brotli",
        brotli_stage,
        kind="compression",
        description="Brotli: small output on text; quality 0-11 (default 5)",
    )
