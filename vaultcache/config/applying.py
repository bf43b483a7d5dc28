"""Settings applied to a session class; errors in what the config file chose name the file.

The schema checks a file's types and shapes when it is read. Names and options are checked
later, when the session looks them up in the plugin registry (a backend, a stage, a stage's
options); those errors are told here as the schema's are: the file and the dotted key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from vaultcache.config.environment import ENVIRONMENT_VARIABLES
from vaultcache.config.schema import Settings
from vaultcache.config.sources import PYPROJECT
from vaultcache.config.trust import warn_if_unencrypted
from vaultcache.errors import ConfigError, SpecError, UnknownPluginError

__all__ = ["open_configured"]

T = TypeVar("T")


def open_configured(session_class: type[T], settings: Settings, **overrides: Any) -> T:
    """``session_class(**settings.session_kwargs(**overrides))``, errors told with the file.

    A spec the file chose that does not encrypt is logged as a warning naming the file.
    """
    kwargs = settings.session_kwargs(**overrides)
    try:
        session = session_class(**kwargs)
    except (ConfigError, UnknownPluginError) as exc:
        told = _in_file(exc, settings, overrides)
        if told is None:
            raise
        raise told from None
    spec = settings.serializer.spec
    chosen_by_file = "serializer" not in overrides and not _from_environment("serializer.spec")
    if settings.source is not None and spec is not None and chosen_by_file:
        # After the session is built: the registry now applies the file's plugin allow-list.
        warn_if_unencrypted(spec, settings.source)
    return session


def _in_file(
    exc: ConfigError | UnknownPluginError, settings: Settings, overrides: Mapping[str, Any]
) -> ConfigError | None:
    """`exc` naming the config file and its key; None when the file did not choose it."""
    if settings.source is None or getattr(exc, "file", None):
        return None
    found = _file_key(exc)
    if found is None:
        return None
    key, argument = found
    if argument in overrides or _from_environment(key):
        return None
    file = str(settings.source)
    dotted = ("tool.vaultcache." if settings.source.name == PYPROJECT else "") + key
    if isinstance(exc, SpecError):
        return SpecError(exc.spec, exc.reason, file=file, key=dotted)
    if isinstance(exc, ConfigError):
        return ConfigError(exc.message, file=file, key=dotted, expected=exc.expected)
    return ConfigError(str(exc), file=file, key=dotted)


def _file_key(exc: ConfigError | UnknownPluginError) -> tuple[str, str] | None:
    """(the key as the file spells it, the session argument it becomes) for `exc`."""
    if isinstance(exc, UnknownPluginError):
        return ("backend", "backend") if exc.category == "backend" else None
    if isinstance(exc, SpecError):
        return "serializer.spec", "serializer"
    parts = (exc.key or "").split(".")
    if len(parts) == 3 and parts[0] == "serializer":
        return exc.key or "", "serializer_options"
    if len(parts) == 3 and parts[0] == "backend":
        return f"backend_options.{parts[2]}", parts[2]
    return None


def _from_environment(key: str) -> bool:
    """True when a set environment variable, not the file, gave this key its value."""
    return any(
        dotted == key and os.environ.get(variable, "").strip()
        for variable, dotted in ENVIRONMENT_VARIABLES.items()
    )
