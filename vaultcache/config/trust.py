"""Config files another local user could have planted, and configs that turn encryption off."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from vaultcache.errors import ConfigError, UnknownPluginError
from vaultcache.private_files import written_by_others
from vaultcache.registry import get_registry
from vaultcache.serializers.builder import parse_spec

__all__ = ["SHARED_CONFIG_VARIABLE", "check_owner", "warn_if_unencrypted"]

logger = logging.getLogger(__name__)

#: Set to 1 to accept a config file that another user owns or that group or others may write.
SHARED_CONFIG_VARIABLE: Final = "VAULTCACHE_ALLOW_SHARED_CONFIG"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})


def check_owner(path: Path, environ: Mapping[str, str]) -> None:
    """Refuse `path` when another user could have written it, unless the variable accepts it."""
    reason = written_by_others(path)
    if reason is None:
        return
    if environ.get(SHARED_CONFIG_VARIABLE, "").strip().lower() in _TRUE:
        logger.warning("using config file %s although %s", path, reason)
        return
    raise ConfigError(
        f"refused: {reason}, so they could choose how your responses are cached (a spec "
        f"without encryption, a database they read); fix its owner or mode (chmod go-w), or "
        f"set {SHARED_CONFIG_VARIABLE}=1 to accept it",
        file=str(path),
    )


def warn_if_unencrypted(spec: str | None, path: Path) -> None:
    """Log a warning naming `path` when the spec it chooses has no encryption stage."""
    if spec is None:
        return
    try:
        kinds = {get_registry().stage(name).kind for name in parse_spec(spec)}
    except (ConfigError, UnknownPluginError):
        return  # reported, with the file, when the spec is built
    if "encryption" not in kinds:
        logger.warning(
            "config file %s chooses serializer %r: entries are not encrypted at rest%s",
            path,
            spec,
            "" if "signing" in kinds else " and not authenticated",
        )
