"""The plugin allow-list that ``VAULTCACHE_PLUGINS`` sets, read the same way everywhere.

The registry reads it when it is first built; the config layer reads it as the override of
``[plugins] allow``. Both get the same names and errors from :func:`allow_from_environment`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, NoReturn

from vaultcache.crypto_key_text import KEY_MATERIAL_HINT, looks_like_key
from vaultcache.errors import ConfigError

__all__ = [
    "ALLOW_EXPECTED",
    "ALLOW_KEY",
    "DISTRIBUTION_EXPECTED",
    "DISTRIBUTION_NAME",
    "PLUGINS_VARIABLE",
    "allow_from_environment",
]

#: The variable that sets the plugin allow-list; unlike other overrides, it cannot be set empty.
PLUGINS_VARIABLE: Final = "VAULTCACHE_PLUGINS"
#: The dotted config key the variable overrides.
ALLOW_KEY: Final = "plugins.allow"
ALLOW_EXPECTED: Final = "none, all, or package names separated by commas"
#: A distribution (package) name, as the allow-list names plugins.
DISTRIBUTION_NAME: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?")
DISTRIBUTION_EXPECTED: Final = "a package name such as 'vaultcache-redis'"


def allow_from_environment(environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """The package names ``VAULTCACHE_PLUGINS`` allows in `environ`: None when it is unset or
    ``all``, () for ``none``; ConfigError naming the variable when it is invalid."""
    if PLUGINS_VARIABLE not in environ:
        return None
    text = environ[PLUGINS_VARIABLE].strip()
    if not text:
        # Empty could mean "none" or "all"; guessing wrong would run unwanted code.
        _refuse(f"empty; expected {ALLOW_EXPECTED}", ALLOW_EXPECTED)
    if looks_like_key(text):
        _refuse(KEY_MATERIAL_HINT, None)
    lowered = text.lower()
    if lowered in ("all", "none"):
        return None if lowered == "all" else ()
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names or {name.lower() for name in names} & {"all", "none"}:
        _refuse(f"expected {ALLOW_EXPECTED}", ALLOW_EXPECTED)
    for name in names:
        if not DISTRIBUTION_NAME.fullmatch(name):
            _refuse(f"expected {DISTRIBUTION_EXPECTED}, got string", DISTRIBUTION_EXPECTED)
    return tuple(names)


def _refuse(problem: str, expected: str | None) -> NoReturn:
    raise ConfigError(
        f"set by environment variable {PLUGINS_VARIABLE}: {problem}",
        key=ALLOW_KEY,
        expected=expected,
    )
