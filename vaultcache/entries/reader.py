"""The reader policy: which pipeline and key may read an entry, from what its header names.

The configured serializer decides how new entries are written; any entry whose header names
an acceptable spec can be read. A spec is acceptable when every stage it names is installed
and allowed, it passes the spec builder's checks, and, when this cache's own serializer
authenticates, its last stage authenticates too (so a header planted by someone without the
key cannot downgrade a read to unauthenticated decoding). The key must be in the ring. Only
then does anything run, and the first stage to run is the one that authenticates.

A stage option ``dict=<id>`` names a zstd dictionary: the policy's `dictionaries` lookup gives
it (authenticated, from the cache's storage), or the entry is kept as foreign.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from vaultcache.crypto_keys import KeyRing
from vaultcache.entries.header import EntryHeader
from vaultcache.entries.records import RecordCodec
from vaultcache.errors import (
    DecodeError,
    KeyRingError,
    MissingDictionaryError,
    MissingStageError,
    RefusedSpecError,
    SpecError,
    UnknownKeyError,
    UnknownPluginError,
)
from vaultcache.registry import PluginRegistry, get_registry
from vaultcache.serializers.builder import build_pipeline
from vaultcache.serializers.pipeline import SerializerPipeline, spec_part, stage_name
from vaultcache.serializers.zstd_dictionary import ZstdDictionary

#: Gives the dictionary of an id, or raises a ForeignEntryError (it is missing or damaged).
DictionaryLookup = Callable[[str], ZstdDictionary]

__all__ = ["ReaderPolicy"]

_UNSEALED = (
    "stage {} signs or encrypts without seal/open, so it cannot bind the entry's header "
    "and the place of each record (vaultcache.serializers.sealing.SealingStage)"
)
#: How many other specs one policy keeps built pipelines for.
_MAX_BUILT = 16
_STAGE = re.compile(r"(?P<name>[a-z0-9_-]+)(?:\((?P<options>[^)]*)\))?\Z")


class ReaderPolicy:
    """Picks the pipeline and key that read an entry, for a cache writing with `pipeline`.

    `keys` is the ring to read with (by default the pipeline's own); `dictionaries` looks up
    the zstd dictionaries specs name. Pipelines built for other specs are kept, per spec, for
    the life of the policy.
    """

    def __init__(
        self,
        pipeline: SerializerPipeline,
        *,
        keys: KeyRing | None = None,
        registry: PluginRegistry | None = None,
        dictionaries: DictionaryLookup | None = None,
    ) -> None:
        self.pipeline = pipeline
        self._dictionaries = dictionaries
        self.keys: KeyRing | None = keys if keys is not None else pipeline.key_ring
        self._registry = registry
        self._built: dict[str, SerializerPipeline] = {}
        self._codecs: dict[tuple[str, str | None], RecordCodec] = {}
        self._lock = threading.Lock()

    def codec_for(self, header: EntryHeader) -> RecordCodec:
        """The codec that reads the entry `header` describes.

        Raises MissingStageError, RefusedSpecError or UnknownKeyError (the entry is kept),
        or DecodeError when the header contradicts itself.
        """
        codec = self._codecs.get((header.spec, header.key_id))
        if codec is None:
            codec = self._codec(header)
            with self._lock:
                if len(self._codecs) < _MAX_BUILT * 4:
                    self._codecs[header.spec, header.key_id] = codec
        return codec

    def _codec(self, header: EntryHeader) -> RecordCodec:
        pipeline = self.pipeline_for(header.spec, header.key_id)
        if pipeline.unsealed:
            raise RefusedSpecError(header.spec, _UNSEALED.format(", ".join(pipeline.unsealed)))
        if pipeline.authenticates != (header.key_id is not None):
            raise DecodeError("entry header names a key for a spec without keys, or none")
        if header.key_id is None:
            return RecordCodec(pipeline, None)
        key = self.keys.get(bytes.fromhex(header.key_id)) if self.keys is not None else None
        if key is None:
            raise UnknownKeyError(header.key_id)
        return RecordCodec(pipeline, key)

    def pipeline_for(self, spec: str, key_id: str | None = None) -> SerializerPipeline:
        """The pipeline for `spec`: this cache's own, or one built under the policy."""
        if spec == self.pipeline.spec:
            return self.pipeline
        with self._lock:
            built = self._built.get(spec)
        if built is None:
            built = self._build(spec, key_id)
            with self._lock:
                if len(self._built) < _MAX_BUILT:
                    self._built[spec] = built
        return built

    def _build(self, spec: str, key_id: str | None) -> SerializerPipeline:
        registry = self._registry or get_registry()
        names, options = _parse(spec)
        dictionary_ids = {n: o.pop("dict") for n, o in options.items() if "dict" in o}
        if dictionary_ids and self.pipeline.spec == "+".join(
            spec_part(name, options.get(name, {})) for name in names
        ):
            # This cache's own spec with a dictionary: read with its own stages, so the
            # options it was configured with (zstd's max_size) bound these entries too.
            return self._with_dictionaries(spec, self.pipeline, dictionary_ids)
        registrations = []
        for name in names:
            try:
                registrations.append(registry.stage(name))
            except UnknownPluginError as exc:
                why = (
                    "is not allowed by the plugin allow-list"
                    if exc.not_allowed
                    else ("is not installed")
                )
                raise MissingStageError(name, why) from None
        for registration in registrations:
            if not registration.available:
                raise MissingStageError(
                    registration.name, f"needs the extra {registration.extra!r}"
                )
        if self.pipeline.authenticates and not registrations[-1].authenticates:
            raise RefusedSpecError(
                spec,
                "its last stage does not authenticate and this cache's serializer does "
                "(reading it could be a downgrade)",
            )
        if any(r.authenticates for r in registrations) and self.keys is None:
            raise UnknownKeyError(key_id or "-")
        if any("max_size" in given for given in options.values()):
            raise RefusedSpecError(spec, "a header cannot set max_size; the reader's settings do")
        try:
            built = build_pipeline(
                "+".join(names),
                keys=self.keys,
                options=options,
                registry=registry,
                as_written=True,
            )
        except SpecError as exc:
            raise RefusedSpecError(spec, exc.reason) from None
        except KeyRingError:
            raise RefusedSpecError(spec, "KeyRingError") from None
        except Exception as exc:
            # The header is not authenticated yet, and a stage's factory (a plugin's too) may
            # refuse the options it names in any way: kept as a refused spec, never raised.
            reason = f"a stage refused its options ({type(exc).__name__})"
            raise RefusedSpecError(spec, reason) from None
        return self._with_dictionaries(spec, built, dictionary_ids) if dictionary_ids else built

    def _with_dictionaries(
        self, spec: str, pipeline: SerializerPipeline, ids: dict[str, str]
    ) -> SerializerPipeline:
        stages = []
        for stage in pipeline.stages:
            dictionary_id = ids.get(stage_name(stage))
            if dictionary_id is None:
                stages.append(stage)
                continue
            if not callable(getattr(stage, "with_dictionary", None)):
                raise RefusedSpecError(spec, f"stage {stage_name(stage)!r} takes no dict")
            if self._dictionaries is None:
                raise MissingDictionaryError(dictionary_id)
            stages.append(stage.with_dictionary(self._dictionaries(dictionary_id)))
        return SerializerPipeline(stages, is_binary=pipeline.is_binary)


def _parse(spec: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    names: list[str] = []
    options: dict[str, dict[str, Any]] = {}
    for part in spec.split("+"):
        match = _STAGE.match(part)
        if match is None:
            raise DecodeError("entry header names a malformed spec")
        names.append(match["name"])
        if match["options"]:
            options[match["name"]] = dict(
                item.split("=", 1) for item in match["options"].split(",")
            )
    return names, options
