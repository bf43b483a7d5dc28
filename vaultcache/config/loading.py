"""``load_settings``: the file found, checked and structured, then the environment overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs
from cattrs.errors import BaseValidationError

from vaultcache.config.converter import converter
from vaultcache.config.crypto_key_material import (
    KeyMaterialFound,
    key_material_error,
    refuse_key_material,
)
from vaultcache.config.environment import apply_environment
from vaultcache.config.problems import Invalid
from vaultcache.config.reporting import config_error
from vaultcache.config.schema import Settings
from vaultcache.config.sources import FoundFile, find_file
from vaultcache.config.trust import check_owner
from vaultcache.errors import ConfigError

__all__ = ["load_settings"]


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Settings from `path` or the first config file found, then the environment overrides.

    `environ` defaults to ``os.environ`` and `cwd` to the working directory (relative paths
    are taken from it). Raises ConfigError for a missing explicit file, a file another user
    owns or may write (unless ``VAULTCACHE_ALLOW_SHARED_CONFIG=1``), invalid TOML, unknown
    keys, wrong types, invalid values, key material in the file, or a bad override.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else Path(cwd)
    found = find_file(path, environ, cwd)
    if found is not None:
        check_owner(found.path, environ)
    settings = Settings() if found is None else _from_file(found)
    return apply_environment(settings, environ)


def _from_file(found: FoundFile) -> Settings:
    file = str(found.path)
    try:
        refuse_key_material(found.table)
    except KeyMaterialFound as exc:
        raise key_material_error(file, found.prefix + exc.path) from None
    try:
        settings = converter.structure(found.table, Settings)
    except (BaseValidationError, Invalid) as exc:
        raise config_error(exc, file, found.prefix) from None
    except RecursionError:
        raise ConfigError("arrays or tables nested too deeply", file=file) from None
    return attrs.evolve(settings, source=found.path)
