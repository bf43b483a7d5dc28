"""Environment variables that override one setting each, parsed as the file's values are."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs
from cattrs.errors import BaseValidationError

from vaultcache.config.converter import converter, is_tuple
from vaultcache.config.key_material import looks_like_key
from vaultcache.config.problems import Invalid
from vaultcache.config.reporting import leaf_problems
from vaultcache.config.schema import Settings
from vaultcache.config.value_types import CacheName, Distribution, Expiry, Name, Spec
from vaultcache.errors import ConfigError

__all__ = [
    "ENVIRONMENT_VARIABLES",
    "PLUGINS_VARIABLE",
    "apply_environment",
    "plugins_from_environment",
]

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
    "VAULTCACHE_PLUGINS": "plugins.allow",
}
#: The variable that sets the plugin allow-list; unlike the others, it cannot be set empty.
PLUGINS_VARIABLE: Final = "VAULTCACHE_PLUGINS"
_ALLOW_EXPECTED: Final = "none, all, or package names separated by commas"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def apply_environment(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """`settings` with each variable of ENVIRONMENT_VARIABLES set in `environ` applied."""
    for variable, dotted in ENVIRONMENT_VARIABLES.items():
        text = environ.get(variable, "").strip()
        if text:
            settings = _override(settings, dotted.split("."), _from_environment(variable, text))
        elif variable == PLUGINS_VARIABLE and variable in environ:
            # Empty could mean "none" or "all"; guessing wrong would run unwanted code.
            raise ConfigError(
                f"set by environment variable {variable}: empty; expected {_ALLOW_EXPECTED}",
                key=dotted,
                expected=_ALLOW_EXPECTED,
            )
    return settings


def plugins_from_environment(environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """The allow-list ``VAULTCACHE_PLUGINS`` sets in `environ`; None when unset or ``all``."""
    only = {name: environ[name] for name in (PLUGINS_VARIABLE,) if name in environ}
    allow: tuple[str, ...] | None = apply_environment(Settings(), only).plugins.allow
    return allow


def _from_environment(variable: str, text: str) -> object:
    """The typed value of one override; ConfigError naming the variable if it is invalid."""
    dotted = ENVIRONMENT_VARIABLES[variable]
    annotation = _annotation(dotted.split("."))
    if looks_like_key(text):
        raise ConfigError(
            f"set by environment variable {variable}: this looks like key material (not "
            "shown); keys go in VAULTCACHE_KEYS or a key file named by VAULTCACHE_KEY_FILE",
            key=dotted,
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
    if annotation == _ALLOW:
        return _allow_value(text)
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


_ALLOW: Final = tuple[Distribution, ...] | None
_TEXT_TYPES: Final = (CacheName, Name, Spec | None)


def _allow_value(text: str) -> list[str] | None:
    lowered = text.lower()
    if lowered in ("all", "none"):
        return None if lowered == "all" else []
    names = _comma_list(text)
    if not names or {name.lower() for name in names} & {"all", "none"}:
        raise Invalid(f"expected {_ALLOW_EXPECTED}", _ALLOW_EXPECTED)
    return names


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
