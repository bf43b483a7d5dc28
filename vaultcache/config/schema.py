"""The settings a config file can hold: one attrs class per table, defaults the session's own."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from vaultcache.cache_keys import DEFAULT_CREDENTIAL_PARAMETERS
from vaultcache.config.key_ring_lookup import configured_key_ring
from vaultcache.config.value_types import (
    BackendOptions,
    ByteSize,
    CacheName,
    Count,
    Distribution,
    Duration,
    Expiry,
    Headers,
    Method,
    Name,
    Options,
    Rfc9111,
    Seconds,
    Spec,
    StatusCode,
    Text,
)
from vaultcache.crypto_key_sources import DEFAULT_SOURCES
from vaultcache.registry import PluginRegistry, get_registry
from vaultcache.retention import Retention

__all__ = [
    "TOML_NAME",
    "DictionarySettings",
    "ExpirySettings",
    "KeySettings",
    "MatchingSettings",
    "PluginSettings",
    "RetentionSettings",
    "SerializerSettings",
    "Settings",
    "file_keys",
]

#: Field metadata: the name a field has in the file (``"<stage>"`` for a table of tables),
#: or None for a field that is not read from the file at all.
TOML_NAME: Final = "vaultcache.toml_name"


@attrs.frozen(kw_only=True)
class SerializerSettings:
    """``[serializer]``: the spec, and options per stage (every other table under it)."""

    spec: Spec | None = None
    options: Mapping[str, Options] = attrs.field(factory=dict, metadata={TOML_NAME: "<stage>"})


@attrs.frozen(kw_only=True)
class ExpirySettings:
    """``[expiry]``: how long responses are kept and which ones are stored."""

    expire_after: Expiry = None
    cache_control: bool = False
    rfc9111: Rfc9111 | None = None
    cdn_cache_control: bool = False
    always_revalidate: bool = False
    stale_if_error: Seconds = False
    stale_while_revalidate: Seconds = False
    allowable_codes: tuple[StatusCode, ...] | None = None
    allowable_methods: tuple[Method, ...] = ("GET", "HEAD")
    urls: Mapping[str, Expiry] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class MatchingSettings:
    """``[matching]``: what makes two requests the same cache entry."""

    match_headers: Headers = False
    credential_parameters: tuple[Text, ...] = DEFAULT_CREDENTIAL_PARAMETERS
    extra_credential_parameters: tuple[Text, ...] = ()
    ignored_parameters: tuple[Text, ...] = ()
    share_credentials: bool = False


@attrs.frozen(kw_only=True)
class KeySettings:
    """``[keys]``: where keys come from (never the keys themselves)."""

    sources: tuple[Name, ...] = DEFAULT_SOURCES
    auto_create: bool = True
    options: Mapping[str, Options] = attrs.field(factory=dict, metadata={TOML_NAME: "<source>"})

    @property
    def is_default(self) -> bool:
        """True when these settings leave the key lookup as the session does it."""
        return self.sources == DEFAULT_SOURCES and not self.options and self.auto_create


@attrs.frozen(kw_only=True)
class RetentionSettings:
    """``[retention]``: bounds on the size of the cache (None: unbounded)."""

    max_entries: Count | None = None
    max_bytes: ByteSize | None = None
    max_age: Duration | None = None

    def to_retention(self) -> Retention | None:
        """The Retention these bounds describe; None when no bound is set."""
        if self.max_entries is None and self.max_bytes is None and self.max_age is None:
            return None
        return Retention(
            max_entries=self.max_entries, max_bytes=self.max_bytes, max_age=self.max_age
        )


@attrs.frozen(kw_only=True)
class DictionarySettings:
    """``[dictionary]``: training zstd dictionaries (docs/stages.md)."""

    train_after: Count | None = None


@attrs.frozen(kw_only=True)
class PluginSettings:
    """``[plugins]``: which installed plugin packages may be used (None: all of them)."""

    allow: tuple[Distribution, ...] | None = None

    def apply(self, registry: PluginRegistry | None = None) -> None:
        """Give `registry` (the process-wide one by default) this allow-list, when one is set.

        None leaves the registry as it is: a file without ``allow`` never widens what
        ``VAULTCACHE_PLUGINS`` or an earlier config narrowed.
        """
        if self.allow is not None:
            (registry or get_registry()).allow(self.allow)


@attrs.frozen(kw_only=True)
class Settings:
    """Everything a config file can say; the defaults are the session's own."""

    name: CacheName = "http_cache"
    backend: Name = "sqlite"
    backend_options: BackendOptions = attrs.field(factory=dict)
    serializer: SerializerSettings = attrs.field(factory=SerializerSettings)
    expiry: ExpirySettings = attrs.field(factory=ExpirySettings)
    matching: MatchingSettings = attrs.field(factory=MatchingSettings)
    keys: KeySettings = attrs.field(factory=KeySettings)
    retention: RetentionSettings = attrs.field(factory=RetentionSettings)
    dictionary: DictionarySettings = attrs.field(factory=DictionarySettings)
    plugins: PluginSettings = attrs.field(factory=PluginSettings)
    #: The file these settings were read from; None when no file was found.
    source: Path | None = attrs.field(default=None, metadata={TOML_NAME: None})

    def session_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``CachedSession(**kwargs)``, with `overrides` applied.

        The ``[plugins]`` allow-list is applied to the process-wide registry first (see
        :meth:`PluginSettings.apply`), before any name is looked up. Keys are loaded here
        only when ``[keys]`` changes the lookup (other sources, source options, or
        ``auto_create = false``) and `overrides` has no ``keys``; otherwise ``keys`` is left
        out and the session finds its keys as it always does.
        """
        self.plugins.apply()
        expiry, matching, keys = self.expiry, self.matching, self.keys
        kwargs: dict[str, Any] = {
            **self.backend_options,
            "cache_name": self.name,
            "backend": self.backend,
            "serializer": self.serializer.spec,
            "serializer_options": {k: dict(v) for k, v in self.serializer.options.items()} or None,
            "expire_after": expiry.expire_after,
            "urls_expire_after": dict(expiry.urls) or None,
            "cache_control": expiry.cache_control,
            "rfc9111": expiry.rfc9111,
            "cdn_cache_control": expiry.cdn_cache_control,
            "allowable_codes": expiry.allowable_codes,
            "allowable_methods": expiry.allowable_methods,
            "always_revalidate": expiry.always_revalidate,
            "stale_if_error": expiry.stale_if_error,
            "stale_while_revalidate": expiry.stale_while_revalidate,
            "credential_parameters": (
                *matching.credential_parameters,
                *matching.extra_credential_parameters,
            ),
            "ignored_parameters": matching.ignored_parameters,
            "match_headers": matching.match_headers,
            "share_credentials": matching.share_credentials,
            "retention": self.retention.to_retention(),
            "train_dictionary_after": self.dictionary.train_after,
            **overrides,
        }
        if "keys" not in kwargs and not keys.is_default:
            ring = configured_key_ring(
                keys.sources,
                keys.options,
                keys.auto_create,
                serializer=kwargs["serializer"],
                config_file=self.source,
            )
            if ring is not None:
                kwargs["keys"] = ring
        return kwargs


# Hooks and the docs test read the types; with postponed annotations they are strings.
for _cls in (
    SerializerSettings,
    ExpirySettings,
    MatchingSettings,
    KeySettings,
    RetentionSettings,
    PluginSettings,
    Settings,
):
    attrs.resolve_types(_cls)


def file_keys(cl: type) -> list[str]:
    """The keys a settings class reads from its table, in field order."""
    return [
        field.name
        for field in attrs.fields(cl)
        if field.metadata.get(TOML_NAME, field.name) == field.name
    ]
