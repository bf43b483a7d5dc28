"""The key ring a ``[keys]`` table asks for, loaded only when the session would need one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaultcache.config.sources import PYPROJECT
from vaultcache.crypto_key_sources import key_ring_for
from vaultcache.crypto_keys import KeyRing
from vaultcache.errors import ConfigError, UnknownPluginError
from vaultcache.serializers.builder import spec_needs_keys
from vaultcache.session_options import DEFAULT_SERIALIZER

__all__ = ["configured_key_ring"]


def configured_key_ring(
    sources: tuple[str, ...],
    options: Mapping[str, Mapping[str, Any]],
    auto_create: bool,
    *,
    serializer: object,
    config_file: Path | None,
) -> KeyRing | None:
    """The ring from the configured sources, by the session's rule
    (:func:`~vaultcache.crypto_key_sources.key_ring_for`): required when `serializer` needs keys."""
    spec = DEFAULT_SERIALIZER if serializer is None else serializer
    required = isinstance(spec, str) and spec_needs_keys(spec)
    # None lets VAULTCACHE_AUTO_CREATE_KEY decide, so a key file is created only when
    # both the file and the environment allow it.
    create = None if auto_create else False
    try:
        return key_ring_for(required=required, sources=sources, options=options, auto_create=create)
    except UnknownPluginError as exc:
        raise ConfigError(
            str(exc), file=_display(config_file), key=_prefix(config_file) + "keys.sources"
        ) from None


def _display(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _prefix(path: Path | None) -> str:
    return "tool.vaultcache." if path is not None and path.name == PYPROJECT else ""
