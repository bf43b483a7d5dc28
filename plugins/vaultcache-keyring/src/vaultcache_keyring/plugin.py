"""The entry point: registers the ``keyring`` key source with vaultcache's plugin registry.

Kept light: the keyring package is imported when the source is first built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vaultcache.plugin import KeySourceRegistrar, hookimpl

if TYPE_CHECKING:
    from vaultcache_keyring.source import KeyringKeySource

__all__ = ["VAULTCACHE_PLUGIN_API", "vaultcache_register_key_sources"]

#: The vaultcache hook-spec version this plugin was written for.
VAULTCACHE_PLUGIN_API = 1


def _keyring(options: dict[str, Any]) -> KeyringKeySource:
    from vaultcache_keyring.source import parse_options  # noqa: PLC0415 - import keyring lazily

    return parse_options(options)


@hookimpl
def vaultcache_register_key_sources(registry: KeySourceRegistrar) -> None:
    """Register the ``keyring`` key source."""
    registry.add(
        "keyring",
        _keyring,
        description="the OS keyring (Keychain, Credential Manager, Secret Service)",
    )
