"""Records: the pieces of an entry that pass through a pipeline's stages one at a time.

An entry holds one metadata record (the response without its body, or with it when the body
is inline) and, for a chunked or packed body, one record per chunk. Each record is sealed
with a *context* that the signing or encryption stages authenticate with it: the metadata
record's context is the whole header line; a chunk's is the header's identity (everything
but the body layout), its index and whether it is the last. So a chunk cannot be moved to
another entry or place, dropped or cut off without failing to authenticate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from vaultcache.errors import DecodeError, EncodeError, EntryError, VaultCacheError
from vaultcache.keys import Key
from vaultcache.serializers.pipeline import SerializerPipeline, run_steps, stage_name
from vaultcache.serializers.sealing import SealingStage

__all__ = ["RecordCodec", "chunk_context", "meta_context"]

#: Size of a body chunk before the stages run: 1 MiB.
CHUNK_SIZE: Final = 1024 * 1024
#: Bodies up to this size are kept inside the metadata record: one record, one decryption.
INLINE_LIMIT: Final = 64 * 1024

Step = tuple[str, Callable[[Any], Any]]


def meta_context(header_line: bytes) -> bytes:
    """The context the metadata record is sealed with."""
    return header_line + b"\x00meta"


def chunk_context(identity: bytes, index: int, final: bool) -> bytes:
    """The context chunk `index` is sealed with; `final` for the last chunk of the body."""
    return identity + b"\x00chunk" + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


class RecordCodec:
    """Seals and opens the records of entries written by one pipeline under one key."""

    def __init__(self, pipeline: SerializerPipeline, key: Key | None) -> None:
        self.pipeline = pipeline
        self.key = key
        # Whether a stage seals is decided once: a runtime Protocol check is slow.
        self._stages = tuple(
            (stage_name(stage), stage, isinstance(stage, SealingStage)) for stage in pipeline.stages
        )

    def seal_meta(self, value: Any, context: bytes) -> bytes:
        """Run every stage over `value`; the result as bytes."""
        sealed = run_steps(self._writing(self._stages, context), value, *_WRITING)
        return sealed.encode("utf-8") if isinstance(sealed, str) else bytes(sealed)

    def open_meta(self, data: bytes | memoryview, context: bytes) -> Any:
        """Undo :meth:`seal_meta`."""
        # bytes, not a view: decoders such as json.loads take no memoryview.
        value: Any = bytes(data) if self.pipeline.is_binary else str(data, "utf-8", "strict")
        return run_steps(self._reading(self._stages, context), value, *_READING)

    def seal_chunk(self, data: bytes, context: bytes) -> bytes:
        """Run every stage but the format over one chunk of a body."""
        return bytes(run_steps(self._writing(self._stages[1:], context), data, *_WRITING))

    def open_chunk(self, data: bytes | memoryview, context: bytes) -> bytes:
        """Undo :meth:`seal_chunk`."""
        return bytes(run_steps(self._reading(self._stages[1:], context), data, *_READING))

    def _writing(self, stages: Sequence[tuple[str, Any, bool]], context: bytes) -> Iterator[Step]:
        for name, stage, seals in stages:
            if seals:
                yield name, functools.partial(stage.seal, context=context, key=self._key())
            else:
                yield name, stage.dumps

    def _reading(self, stages: Sequence[tuple[str, Any, bool]], context: bytes) -> Iterator[Step]:
        for name, stage, seals in reversed(stages):
            if seals:
                yield name, functools.partial(stage.open, context=context, key=self._key())
            else:
                yield name, stage.loads

    def _key(self) -> Key:
        if self.key is None:
            raise EncodeError("a signing or encryption stage has no key to use")
        return self.key


_WRITING = (VaultCacheError, EncodeError, "write")
_READING = (EntryError, DecodeError, "read")
