"""The exceptions vaultcache raises.

Every error derives from :class:`VaultCacheError` and carries structured attributes, so callers
can branch on what failed without parsing messages. Messages name the thing that failed and
the fix; they never contain key material or cached payload bytes.

::

    VaultCacheError
    ├── ConfigError                 bad settings: file, key, value, expected
    │   └── SpecError               a serializer spec string that cannot be built
    ├── MissingDependencyError      an optional extra is not installed
    ├── PluginError                 a plugin could not be used
    │   ├── UnknownPluginError      no provider for a name (lists known names)
    │   ├── PluginConflictError     two distributions provide one name
    │   └── PluginLoadError         a plugin failed to import or register
    │       └── PluginIncompatibleError  written for a plugin API this vaultcache lacks
    ├── KeyRingError                no usable key, or an unsafe key file
    ├── EncodeError                 a response cannot be written as an entry; it is not stored
    └── EntryError                  a stored entry cannot be read; the cache treats it as a miss
        ├── IntegrityError          not authentic: tampered, truncated, swapped, unknown key
        └── DecodeError             authentic (or unauthenticated) bytes that do not decode
            └── SizeLimitError      decompressed output would exceed the configured bound
"""

from __future__ import annotations

from collections.abc import Sequence

from vaultcache.key_text import quotes_key

__all__ = [
    "ConfigError",
    "DecodeError",
    "EncodeError",
    "EntryError",
    "IntegrityError",
    "KeyRingError",
    "MissingDependencyError",
    "PluginConflictError",
    "PluginError",
    "PluginIncompatibleError",
    "PluginLoadError",
    "SizeLimitError",
    "SpecError",
    "UnknownPluginError",
    "VaultCacheError",
]


class VaultCacheError(Exception):
    """Base class of every error vaultcache raises."""


class ConfigError(VaultCacheError, ValueError):
    """A setting is invalid; names the file and key where known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        #: What is wrong, without the file and key.
        self.message = message
        where = ", ".join(part for part in (file, f"key {key!r}" if key else None) if part)
        super().__init__(f"{where}: {message}" if where else message)


class SpecError(ConfigError):
    """A serializer spec string is malformed, unsafe or pointless."""

    def __init__(
        self, spec: str, reason: str, *, file: str | None = None, key: str = "serializer"
    ) -> None:
        if quotes_key(str(spec)) or quotes_key(reason):
            # A key passed by mistake where the spec goes: never quote it, in any form.
            spec, reason = (
                _KEY_LIKE_SPEC,
                (
                    "this looks like a key, not a serializer spec; pass keys with keys=... or a "
                    "key source, never as the serializer"
                ),
            )
        self.spec = spec
        self.reason = reason
        super().__init__(f"serializer spec {spec!r}: {reason}", file=file, key=key)


_KEY_LIKE_SPEC = "<key material, not shown>"


class MissingDependencyError(VaultCacheError, ImportError):
    """A feature needs an optional extra that is not installed."""

    def __init__(self, feature: str, extra: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(
            f"{feature} needs the optional extra {extra!r}: pip install 'vaultcache[{extra}]'"
        )


class PluginError(VaultCacheError):
    """A plugin, or a name a plugin provides, could not be used."""


class UnknownPluginError(PluginError, LookupError):
    """No stage, backend or key source is registered under a name."""

    def __init__(
        self,
        name: str,
        category: str,
        known: Sequence[str],
        failed: Sequence[str] = (),
        not_allowed: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.category = category
        self.known = tuple(known)
        self.failed = tuple(failed)
        #: Installed plugins left unloaded by the allow-list (``[plugins] allow``).
        self.not_allowed = tuple(not_allowed)
        message = f"unknown {category} {name!r}; known: {', '.join(self.known) or '(none)'}"
        if self.failed:
            message += f"; plugins that failed to load: {'; '.join(self.failed)}"
        if self.not_allowed:
            count = len(self.not_allowed)
            message += (
                f"; {count} installed plugin{'s were' if count > 1 else ' was'} not loaded "
                f"because of the allow-list ({', '.join(self.not_allowed)}): to use one, add "
                "its package name to 'allow' under [plugins] in the config file, or to "
                "VAULTCACHE_PLUGINS"
            )
        super().__init__(message)

    def __str__(self) -> str:
        # LookupError would quote the message as a key; keep it readable.
        return str(self.args[0])


class PluginConflictError(PluginError):
    """Two distributions register the same name; neither is used."""

    def __init__(self, name: str, category: str, distributions: Sequence[str]) -> None:
        self.name = name
        self.category = category
        self.distributions = tuple(distributions)
        super().__init__(
            f"{category} {name!r} is provided by more than one package "
            f"({' and '.join(self.distributions)}); uninstall one of them, or leave it "
            "out of the allow-list ([plugins] allow or VAULTCACHE_PLUGINS)"
        )


class PluginLoadError(PluginError):
    """A plugin failed to import or to register its names."""

    def __init__(self, distribution: str, entry_point: str, reason: str) -> None:
        self.distribution = distribution
        self.entry_point = entry_point
        self.reason = reason
        super().__init__(
            f"plugin {entry_point!r} from package {distribution!r} failed to load: {reason}"
        )


class PluginIncompatibleError(PluginLoadError):
    """A plugin declares a plugin API version this vaultcache does not provide; not loaded."""

    def __init__(
        self, distribution: str, entry_point: str, reason: str, declared: object = None
    ) -> None:
        #: What the plugin declared as ``VAULTCACHE_PLUGIN_API`` (None when nothing).
        self.declared = declared
        super().__init__(distribution, entry_point, reason)


class KeyRingError(VaultCacheError):
    """No usable key could be found or created, or a key source is unsafe."""


class EncodeError(VaultCacheError):
    """A stage failed to turn a response into an entry; the cache does not store it."""

    def __init__(self, message: str, *, stage: str | None = None) -> None:
        self.stage = stage
        super().__init__(message)


class EntryError(VaultCacheError):
    """A stored entry cannot be turned back into a value; the cache treats it as a miss."""

    def __init__(self, message: str, *, stage: str | None = None) -> None:
        self.stage = stage
        super().__init__(message)


class IntegrityError(EntryError):
    """An entry failed to authenticate. Deliberately carries no detail about why."""

    def __init__(self, stage: str | None = None) -> None:
        where = f" at stage {stage!r}" if stage else ""
        super().__init__(
            f"entry failed authentication{where}: tampered, truncated, written under "
            "another spec, or under a key that is not in the key ring",
            stage=stage,
        )


class DecodeError(EntryError):
    """An entry's bytes are not valid for a stage (corrupt, or written in another format)."""


class SizeLimitError(DecodeError):
    """Decompressing an entry would exceed the configured maximum size."""

    def __init__(self, stage: str, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"stage {stage!r}: decompressed entry exceeds the limit of {limit} bytes; "
            f"raise the stage's max_size option if responses this large are expected",
            stage=stage,
        )
