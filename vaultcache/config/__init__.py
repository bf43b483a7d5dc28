"""Config files: find one, parse it into typed :class:`Settings`, and turn those into a session.

Where settings come from, first found wins (see ``docs/config.md`` for every key):

1. an explicit path (``load_settings(path)``, ``CachedSession.from_config(path)``,
   ``vaultcache --config PATH``); a file that does not exist is an error;
2. the file named by ``VAULTCACHE_CONFIG``;
3. ``vaultcache.toml`` in the working directory;
4. the ``[tool.vaultcache]`` table of the nearest ``pyproject.toml`` that has one, walking up
   from the working directory to the filesystem root;
5. nothing: the defaults, which are the session's own.

Environment variables in :data:`ENVIRONMENT_VARIABLES` then override single values. Every
problem is a :class:`~vaultcache.errors.ConfigError` naming the file (or the variable), the
dotted key and what was expected. Values are never echoed, only their types: a config file
is no place for secrets, and one that holds key material is refused outright.

- :mod:`vaultcache.config.loading`: ``load_settings``, from the file to the overrides
- :mod:`vaultcache.config.sources`: finding the file and reading its TOML
- :mod:`vaultcache.config.trust`: refusing files other users could write; warning when a
  file turns encryption off
- :mod:`vaultcache.config.applying`: settings to a session, errors naming the file and key
- :mod:`vaultcache.config.schema`: the settings classes, and ``Settings.session_kwargs``
- :mod:`vaultcache.config.key_ring_lookup`: the key ring a ``[keys]`` table asks for
- :mod:`vaultcache.config.value_types`: the schema's value types
- :mod:`vaultcache.config.value_checks`: one check per value type
- :mod:`vaultcache.config.table_checks`: checks across a table
- :mod:`vaultcache.config.converter`: the cattrs converter wiring the checks together
- :mod:`vaultcache.config.reporting`: cattrs errors told as one ConfigError
- :mod:`vaultcache.config.problems`: how a problem is told (types, never values)
- :mod:`vaultcache.config.crypto_key_material`: refusing key material
- :mod:`vaultcache.config.environment`: the environment overrides
"""

from __future__ import annotations

from vaultcache.config.environment import ENVIRONMENT_VARIABLES
from vaultcache.config.loading import load_settings
from vaultcache.config.schema import (
    TOML_NAME,
    DictionarySettings,
    ExpirySettings,
    KeySettings,
    MatchingSettings,
    PluginSettings,
    RetentionSettings,
    SerializerSettings,
    Settings,
)
from vaultcache.config.sources import CONFIG_FILE_NAME, CONFIG_VARIABLE

__all__ = [
    "CONFIG_FILE_NAME",
    "CONFIG_VARIABLE",
    "ENVIRONMENT_VARIABLES",
    "TOML_NAME",
    "DictionarySettings",
    "ExpirySettings",
    "KeySettings",
    "MatchingSettings",
    "PluginSettings",
    "RetentionSettings",
    "SerializerSettings",
    "Settings",
    "load_settings",
]
