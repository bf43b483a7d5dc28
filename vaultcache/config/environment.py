"""Environment variables that override one setting each, parsed as the file's values are."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs
from cattrs.errors import BaseValidationError

from vaultcache.allow_list import ALLOW_KEY, PLUGINS_VARIABLE, allow_from_environment
from vaultcache.config.converter import converter, is_tuple
from vaultcache.config.problems import Invalid
from vaultcache.config.reporting import leaf_problems
from vaultcache.config.schema import Settings
from vaultcache.config.value_types import CacheName, Expiry, Name, Spec
from vaultcache.crypto_key_text import KEY_MATERIAL_HINT, looks_like_key
from vaultcache.errors import ConfigError

__all__ = ["ENVIRONMENT_VARIABLES", "apply_environment"]

#: Environment variables that override one setting each: variable -> dotted key.
ENVIRONMENT_VARIABLES: Final[Mapping[str, str]] = {
    "VAULTCACHE_NAME": "name",
    "VAULTCACHE_BACKEND": "backend",
    "VAULTCACHE_SERIALIZER": "serializer.spec",
    "VAULTCACHE_EXPIRE_AFTER": "expiry.expire_after",
    "VAULTCACHE_CACHE_CONTROL": "expiry.cache_control",
    "VAULTCACHE_RFC9111": "expiry.rfc9111",
    "VAULTCACHE_KEY_SOURCES": "keys.sources",
    "VAULTCACHE_RETENTION_MAX_ENTRIES": "retention.max_entries",
    "VAULTCACHE_RETENTION_MAX_BYTES": "retention.max_bytes",
    "VAULTCACHE_RETENTION_MAX_AGE": "retention.max_age",
    "VAULTCACHE_DICTIONARY_TRAIN_AFTER": "dictionary.train_after",
    PLUGINS_VARIABLE: ALLOW_KEY,
}
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def apply_environment(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """`settings` with each variable of ENVIRONMENT_VARIABLES set in `environ` applied."""
    for variable, dotted in ENVIRONMENT_VARIABLES.items():
        text = environ.get(variable, "").strip()
        if variable == PLUGINS_VARIABLE:
            if variable in environ:
                settings = _override(settings, dotted.split("."), allow_from_environment(environ))
        elif text:
            settings = _override(settings, dotted.split("."), _from_environment(variable, text))
    return settings


def _from_environment(variable: str, text: str) -> object:
    """The typed value of one override; ConfigError naming the variable if it is invalid."""
    dotted = ENVIRONMENT_VARIABLES[variable]
    annotation = _annotation(dotted.split("."))
    if looks_like_key(text):
        raise ConfigError(
            f"set by environment variable {variable}: {KEY_MATERIAL_HINT}", key=dotted
        )
    try:
        return converter.structure(_environment_value(annotation, text), annotation)
    except (BaseValidationError, Invalid) as exc:
        leaf = next(leaf_problems(exc, ()))[1] if isinstance(exc, BaseValidationError) else exc
        if not isinstance(leaf, Invalid):
            leaf = Invalid("invalid value", "a valid value")
        raise ConfigError(
            f"set by environment variable {variable}: {leaf.message}",
            key=dotted,
            expected=leaf.expected,
        ) from None


def _environment_value(annotation: object, text: str) -> object:
    """Text as the TOML value it stands for, given the field's type."""
    lowered = text.lower()
    if annotation is bool:
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    if is_tuple(annotation):
        return _comma_list(text)
    if annotation in _TEXT_TYPES:
        return text
    if re.fullmatch(r"-?[0-9]{1,30}", text):
        return int(text)
    if annotation == Expiry:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return text
    return text


_TEXT_TYPES: Final = (CacheName, Name, Spec | None)


def _comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _annotation(path: Sequence[str]) -> Any:
    """The type of the field at a dotted path of Settings."""
    annotation: Any = Settings
    for name in path:
        annotation = attrs.fields_dict(annotation)[name].type
    return annotation


def _override(settings: Any, path: Sequence[str], value: object) -> Any:
    head, *rest = path
    if not rest:
        return attrs.evolve(settings, **{head: value})
    return attrs.evolve(settings, **{head: _override(getattr(settings, head), rest, value)})
