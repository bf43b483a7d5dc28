"""The exceptions vaultcache raises.

Every error derives from :class:`VaultCacheError` and carries structured attributes, so callers
can branch on what failed without parsing messages. Messages name the thing that failed and
the fix; they never contain key material or cached payload bytes. Where requests-cache raises
a built-in exception for the same mistake, the vaultcache error also derives from that
built-in (in brackets below), so ``except ValueError`` in migrated code still works.

::

    VaultCacheError
    ├── ConfigError                 bad settings: file, key, value, expected  [ValueError]
    │   ├── ConfigTypeError         a setting of the wrong type               [TypeError]
    │   └── SpecError               a serializer spec string that cannot be built
    ├── MissingDependencyError      an optional extra is not installed        [ImportError]
    ├── PluginError                 a plugin could not be used
    │   ├── UnknownPluginError      no provider for a name (lists known names)
    │   │                                                         [LookupError, ValueError]
    │   ├── PluginConflictError     two distributions provide one name
    │   └── PluginLoadError         a plugin failed to import or register
    │       └── PluginIncompatibleError  written for a plugin API this vaultcache lacks
    ├── KeyRingError                no usable key, or an unsafe key file
    ├── TrainingError               a zstd dictionary cannot be trained or stored
    ├── EncodeError                 a response cannot be written as an entry; it is not stored
    └── EntryError                  a stored entry cannot be read; the cache treats it as a miss
        ├── IntegrityError          proven damaged: fails to authenticate under a key in the ring
        ├── DecodeError             authentic (or unauthenticated) bytes that do not decode
        │   └── SizeLimitError      decompressed output would exceed the configured bound;
        │                           also a ForeignEntryError (kept: a larger bound reads it)
        └── ForeignEntryError       readable elsewhere, not here: the entry is kept
            ├── UnknownKeyError     written under a key id that is not in the key ring
            ├── MissingStageError   names a stage that is not installed or not allowed
            ├── RefusedSpecError    names a spec the reader policy refuses (a downgrade)
            ├── DictionaryError     names a zstd dictionary that cannot be used
            │   ├── MissingDictionaryError   not in this cache's storage
            │   └── DamagedDictionaryError   stored, but fails to authenticate or decode
            └── OldFormatError      written in an entry format this version does not read
"""

from __future__ import annotations

from collections.abc import Sequence

from vaultcache.crypto_key_text import quotes_key

__all__ = [
    "ConfigError",
    "ConfigTypeError",
    "DamagedDictionaryError",
    "DecodeError",
    "DictionaryError",
    "EncodeError",
    "EntryError",
    "ForeignEntryError",
    "IntegrityError",
    "KeyRingError",
    "MissingDependencyError",
    "MissingDictionaryError",
    "MissingStageError",
    "OldFormatError",
    "PluginConflictError",
    "PluginError",
    "PluginIncompatibleError",
    "PluginLoadError",
    "RefusedSpecError",
    "SizeLimitError",
    "SpecError",
    "TrainingError",
    "UnknownKeyError",
    "UnknownPluginError",
    "VaultCacheError",
    "describe",
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


class ConfigTypeError(ConfigError, TypeError):
    """A setting has a type it can never have (requests-cache raises TypeError there)."""


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


class UnknownPluginError(PluginError, LookupError, ValueError):
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


class TrainingError(VaultCacheError):
    """A zstd dictionary cannot be trained or stored: too few bodies, no zstd stage, or a
    serializer that cannot store it authenticated."""


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


def describe(exc: EntryError) -> str:
    """Why an entry cannot be read, fit for logs and listings: the error type and stage, or
    the message of an error that names no stage (messages never quote stored bytes)."""
    if exc.stage:
        return f"{type(exc).__name__} at stage {exc.stage!r}"
    return str(exc)


class IntegrityError(EntryError):
    """An entry failed to authenticate. Deliberately carries no detail about why."""

    def __init__(self, stage: str | None = None) -> None:
        where = f" at stage {stage!r}" if stage else ""
        super().__init__(
            f"entry failed authentication{where}: tampered, truncated, reordered or swapped",
            stage=stage,
        )


class DecodeError(EntryError):
    """An entry's bytes are not valid for a stage (corrupt, or written in another format)."""


class ForeignEntryError(EntryError):
    """An entry that this reader cannot read but another could (with a key, a plugin, or
    another vaultcache version): a miss that is kept, never deleted."""

    #: Short name of the outcome, as ``vaultcache verify`` reports it.
    outcome = "foreign"


class SizeLimitError(DecodeError, ForeignEntryError):
    """Decompressing an entry would exceed the configured maximum size.

    Still a DecodeError for whoever catches those; in a cache it is a kept miss: the entry
    is not proven damaged, and a reader with a larger bound may read it.
    """

    outcome = "too large"

    def __init__(self, stage: str, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"stage {stage!r}: decompressed entry exceeds the limit of {limit} bytes; "
            f"raise the stage's max_size option if responses this large are expected",
            stage=stage,
        )


class UnknownKeyError(ForeignEntryError):
    """The entry was written under a key id that is not in the key ring."""

    outcome = "unknown key"

    def __init__(self, key_id: str) -> None:
        #: Hex id of the key that wrote the entry (an id, never key material).
        self.key_id = key_id
        super().__init__(
            f"written under key id {key_id}, which is not in your key ring; add that key "
            "(as an older key, after the primary) to read it"
        )


class MissingStageError(ForeignEntryError):
    """The entry names a stage that is not installed, or not allowed by the allow-list."""

    outcome = "missing stage"

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"written with stage {stage!r}, which {reason}", stage=stage)


class RefusedSpecError(ForeignEntryError):
    """The entry names a spec the reader policy refuses: unauthenticated where this reader
    authenticates (a downgrade), or a spec the builder rejects."""

    outcome = "refused spec"

    def __init__(self, spec: str, reason: str) -> None:
        #: The spec the entry's (unverified) header names.
        self.spec = spec
        super().__init__(f"written with spec {spec!r}, which is refused: {reason}")


class DictionaryError(ForeignEntryError):
    """The entry names a zstd dictionary this cache cannot use. The entry itself is not
    proven damaged, so it is kept: restoring the dictionary (an import) makes it readable."""

    outcome = "dictionary"

    def __init__(self, dictionary_id: str, reason: str) -> None:
        #: Id of the dictionary the entry's (unverified) header names.
        self.dictionary_id = dictionary_id
        super().__init__(f"written with zstd dictionary {dictionary_id}, which {reason}")


class MissingDictionaryError(DictionaryError):
    """The dictionary an entry names is not in this cache's storage."""

    outcome = "missing dictionary"

    def __init__(self, dictionary_id: str) -> None:
        super().__init__(
            dictionary_id,
            "is not in this cache; import an archive that holds it to read the entry",
        )


class DamagedDictionaryError(DictionaryError):
    """The stored dictionary fails to authenticate or decode: it is never used."""

    outcome = "damaged dictionary"

    def __init__(self, dictionary_id: str) -> None:
        super().__init__(
            dictionary_id,
            "failed authentication (tampered or corrupt) and is not used; import an "
            "archive that holds it, or purge the entries that name it",
        )


class OldFormatError(ForeignEntryError):
    """The entry was written in an entry format this version does not read."""

    outcome = "old format"

    def __init__(self, version: int | None) -> None:
        self.version = version
        which = "an unknown format" if version is None else f"entry format version {version}"
        super().__init__(
            f"written in {which}; this vaultcache reads format 2 (docs/format.md); "
            "purge it, or read it with the vaultcache release that wrote it"
        )
