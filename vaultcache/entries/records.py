"""Records: the pieces of an entry that pass through a pipeline's stages one at a time.

An entry holds one metadata record (the response without its body, or with it when the body
is inline) and, for a chunked or packed body, one record per chunk. Each record is sealed
with a *context* that the signing or encryption stages authenticate with it: the metadata
record's context is the whole header line; a chunk's is the header's identity (everything
but the body layout), its index and whether it is the last. So a chunk cannot be moved to
another entry or place, dropped or cut off without failing to authenticate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from vaultcache.crypto_keys import Key
from vaultcache.errors import DecodeError, EncodeError, EntryError, SizeLimitError, VaultCacheError
from vaultcache.serializers.pipeline import (
    Handover,
    SerializerPipeline,
    Step,
    run_steps,
    stage_name,
)
from vaultcache.serializers.sealing import SealingStage

__all__ = ["RecordCodec", "chunk_context", "meta_context"]

#: Size of a body chunk before the stages run: 1 MiB.
CHUNK_SIZE: Final = 1024 * 1024
#: Bodies up to this size are kept inside the metadata record: one record, one decryption.
INLINE_LIMIT: Final = 64 * 1024


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
        seals = [isinstance(stage, SealingStage) for stage in pipeline.stages]
        self._writing: tuple[Step, ...] = tuple(
            (stage_name(stage), _bounded(stage, stage.seal if sealing else stage.dumps), sealing)
            for stage, sealing in zip(pipeline.stages, seals, strict=True)
        )
        self._reading: tuple[Step, ...] = tuple(
            (stage_name(stage), stage.open if sealing else stage.loads, sealing)
            for stage, sealing in zip(pipeline.stages[::-1], seals[::-1], strict=True)
        )
        if any(seals) and key is None:
            raise EncodeError("a signing or encryption stage has no key to use")
        self._has_bounds = any(_limit(stage) is not None for stage in pipeline.stages)

    def seal_meta(self, value: Any, context: bytes) -> bytes:
        """Run every stage over `value`; the result as bytes."""
        sealed = run_steps(self._writing, value, *_WRITING, context, self.key)
        return sealed.encode("utf-8") if isinstance(sealed, str) else bytes(sealed)

    def open_meta(self, data: bytes | memoryview, context: bytes) -> Any:
        """Undo :meth:`seal_meta`."""
        # bytes, not a view: decoders such as json.loads take no memoryview.
        value: Any = bytes(data) if self.pipeline.is_binary else str(data, "utf-8", "strict")
        return run_steps(self._reading, value, *_READING, context, self.key)

    def seal_chunk(self, data: bytes, context: bytes) -> bytes:
        """Run every stage but the format over one chunk of a body."""
        return bytes(run_steps(self._writing[1:], data, *_WRITING, context, self.key))

    def open_chunk(self, data: bytes | memoryview | Handover, context: bytes) -> bytes:
        """Undo :meth:`seal_chunk` (on a record handed over: freed once it is opened)."""
        return bytes(run_steps(self._reading[:-1], data, *_READING, context, self.key))

    def check_chunk(self, data: bytes | memoryview, context: bytes) -> None:
        """EncodeError, as :meth:`seal_chunk` gives, for a chunk record sealed elsewhere (same
        spec and key) that a stage of this codec could not read back within its ``max_size``.

        When a stage has a ``max_size``, the record is read back to know. One that fails to
        read for another reason is left for readers to find damaged, as any stored record is.
        """
        if not self._has_bounds:
            return
        try:
            self.open_chunk(data, context)
        except SizeLimitError as exc:
            raise _refusal("a sealed chunk", exc.stage or "?", exc.limit) from None
        except EntryError:
            pass


def _limit(stage: Any) -> int | None:
    """The stage's ``max_size``: the most its ``loads`` gives back; None without one."""
    limit = getattr(stage, "max_size", None)
    return limit if isinstance(limit, int) else None


def _bounded(stage: Any, step: Callable[..., Any]) -> Callable[..., Any]:
    """`step` of `stage`, refusing input larger than the stage's ``max_size``, if it has one.

    Reading, such a stage refuses to give back more than ``max_size`` bytes: what it was given
    when the record was written, which is the output of the stages before it (the format's
    encoding of the whole response, a signature added to a chunk), not just the body. Text is
    counted in UTF-8 bytes.
    """
    limit = _limit(stage)
    if limit is None:
        return step
    name = stage_name(stage)

    def bounded(value: Any, *sealing: Any) -> Any:
        size = _size(value)
        if size is not None and size > limit:
            raise _refusal(f"a record of {size} bytes", name, limit)
        return step(value, *sealing)

    return bounded


def _size(value: Any) -> int | None:
    """The size in bytes of what a stage is given; None for what is not bytes or text."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes | bytearray | memoryview):
        return memoryview(value).nbytes
    return None


def _refusal(record: str, stage: str, limit: int) -> EncodeError:
    return EncodeError(
        f"{record} is more than stage {stage!r} may read back (max_size {limit}); not stored",
        stage=stage,
    )


_WRITING = (VaultCacheError, EncodeError, "write")
_READING = (EntryError, DecodeError, "read")
