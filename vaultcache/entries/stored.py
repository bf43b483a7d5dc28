"""Entries as stored: a head (header line and framed records) and its chunk records.

A head is the header line, then each record as a 4-byte big-endian length and its bytes: the
metadata record, and for a packed body every chunk record after it. A chunked body's records
are stored in the cache's chunk storage under :func:`chunk_key`. Reading builds a
CachedResponse from the metadata record alone; its body is read when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs

from vaultcache.backends.base import BaseStorage
from vaultcache.entries.body import BodyWriter, ChunkedBody
from vaultcache.entries.header import BodyLayout, EntryHeader, parse_header, peek_header
from vaultcache.entries.reader import ReaderPolicy
from vaultcache.entries.records import RecordCodec, chunk_context, meta_context
from vaultcache.errors import (
    DecodeError,
    EncodeError,
    EntryError,
    ForeignEntryError,
    IntegrityError,
)
from vaultcache.models import CachedResponse
from vaultcache.serializers.pipeline import SerializerPipeline

__all__ = ["EntryWriter", "chunk_key", "chunk_keys", "read_entry", "split_chunk_key"]

_LENGTH: Final = 4


def chunk_key(cache_key: str, entry_id: str, index: int) -> str:
    """Where chunk `index` of entry `entry_id` stored under `cache_key` lives."""
    return f"{cache_key}/{entry_id}/{index}"


def split_chunk_key(key: str) -> tuple[str, str, int] | None:
    """``(cache_key, entry_id, index)`` of a chunk key; None for anything else."""
    parts = key.rsplit("/", 2)
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2])


def chunk_keys(cache_key: str, head: bytes | None) -> list[str]:
    """The chunk keys the (unverified) head of `cache_key` names; [] when it names none."""
    header = peek_header(head)
    if header is None or header.body.mode != "chunks":
        return []
    return [chunk_key(cache_key, header.entry_id, i) for i in range(header.body.count)]


def frame(record: bytes) -> bytes:
    """A record as it sits in a head: its length, then its bytes."""
    return len(record).to_bytes(_LENGTH, "big") + record


def unframe(data: bytes, offset: int, count: int) -> list[memoryview]:
    """The `count` framed records of `data` from `offset`, which must end exactly there."""
    view = memoryview(data)
    records = []
    for _ in range(count):
        length = int.from_bytes(view[offset : offset + _LENGTH], "big")
        offset += _LENGTH
        if len(view) - offset < length or offset > len(view):
            raise IntegrityError("entry")
        records.append(view[offset : offset + length])
        offset += length
    if offset != len(view):
        raise IntegrityError("entry")
    return records


def read_entry(
    policy: ReaderPolicy,
    key: str,
    head: bytes,
    chunks: BaseStorage | None,
    *,
    on_error: Callable[[EntryError], None] | None = None,
) -> CachedResponse:
    """The response the head stored under `key` holds; its body is read when asked for.

    Raises EntryError: ForeignEntryError for an entry another reader could read (kept),
    IntegrityError or DecodeError for a damaged one.
    """
    header, offset = parse_header(head)
    codec = policy.codec_for(header)
    packed = header.body.count if header.body.mode == "packed" else 0
    records = unframe(head, offset, 1 + packed)
    line = head[:offset]
    response = codec.open_meta(records[0], meta_context(line))
    if not isinstance(response, CachedResponse):
        raise DecodeError(f"entry does not hold a response ({type(response).__name__})")
    if response.cache_key != key:
        raise DecodeError("entry belongs to another key")
    if header.body.mode == "inline":
        return response
    if response.content:
        raise DecodeError("entry has a body both inline and in chunks")
    if header.body.mode == "packed":
        source = _packed_source(records[1:])
    elif chunks is None:
        raise ForeignEntryError("entry's body is in chunks, and this cache has no chunk storage")
    else:
        source = _stored_source(chunks, key, header.entry_id)
    body = ChunkedBody(
        source,
        codec,
        header,
        on_error=on_error,
        status=response.status_code,
        reason=response.reason,
    )
    response.attach_body(body)
    return response


def _packed_source(records: list[memoryview]) -> Callable[[int], bytes | None]:
    return lambda index: bytes(records[index]) if index < len(records) else None


class _StoredSource:
    """Reads chunk records of one entry from a chunk storage."""

    def __init__(self, chunks: BaseStorage, key: str, entry_id: str) -> None:
        self._chunks = chunks
        self._key = key
        self._entry_id = entry_id

    def chunk_key(self, index: int) -> str:
        """The storage key of chunk `index`."""
        return chunk_key(self._key, self._entry_id, index)

    def __call__(self, index: int) -> bytes | None:
        return self._chunks.get(self.chunk_key(index))


def _stored_source(chunks: BaseStorage, key: str, entry_id: str) -> Callable[[int], bytes | None]:
    return _StoredSource(chunks, key, entry_id)


@attrs.define
class EntryWriter:
    """Writes one response as an entry, its body given piece by piece.

    :meth:`write` seals and stores chunks as they fill; :meth:`head` finishes the body and
    gives the head, and storing it (``BaseCache.commit``) makes the entry visible at once, so
    a reader never sees a part-written one; :meth:`abort` deletes the chunks stored so far.
    """

    pipeline: SerializerPipeline
    response: CachedResponse
    chunks: BaseStorage | None
    #: Keys of redirects that lead to this response, stored with it.
    redirect_keys: list[str] = attrs.field(factory=list)
    #: Stores one chunk record under a key (by default ``chunks[key] = record``).
    store_chunk: Callable[[str, bytes], None] | None = None
    header: EntryHeader = attrs.field(init=False)
    _codec: RecordCodec = attrs.field(init=False)
    _body: BodyWriter = attrs.field(init=False)
    _stored: list[str] = attrs.field(init=False, factory=list)
    _adopted: BodyLayout | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        if self.pipeline.unsealed:
            raise EncodeError(
                f"stage {', '.join(self.pipeline.unsealed)} signs or encrypts without "
                "seal/open, so entries written with it would not bind their header; not stored",
                stage=self.pipeline.unsealed[0],
            )
        ring = self.pipeline.key_ring if self.pipeline.authenticates else None
        key = ring.primary if ring is not None else None
        self.header = EntryHeader(self.pipeline.spec, key.hex_id if key is not None else None)
        self._codec = RecordCodec(self.pipeline, key)
        chunked = self.pipeline.chunkable
        put = self._put if chunked and self.chunks is not None else None
        self._body = BodyWriter(self._codec, self.header, put, chunked=chunked)

    def _put(self, index: int, record: bytes) -> None:
        assert self.chunks is not None
        key = chunk_key(self.response.cache_key, self.header.entry_id, index)
        self._stored.append(key)
        if self.store_chunk is not None:
            self.store_chunk(key, record)
        else:
            self.chunks[key] = record

    def write(self, data: bytes | memoryview) -> None:
        """The next piece of the body."""
        self._body.write(data)

    def write_all(self, pieces: Iterable[bytes | memoryview]) -> None:
        """Every piece of the body, in order."""
        for piece in pieces:
            self._body.write(piece)

    def reuses(self, body: ChunkedBody) -> bool:
        """True when `body` (still in the store) is already sealed as this writer would seal
        it: same spec and key, so its chunk records can be kept as they are."""
        header = body.header
        return (
            header.spec == self.header.spec
            and header.key_id == self.header.key_id
            and (header.body.mode == "packed" or self.chunks is not None)
        )

    def adopt(self, body: ChunkedBody) -> None:
        """Take `body`'s sealed chunk records as this entry's (see :meth:`reuses`).

        EncodeError, before anything is stored again, when a stage of this writer could not
        read the first chunk back within its ``max_size`` (see
        :meth:`RecordCodec.check_chunk`): every chunk but the last holds a whole chunk of the
        body and the last no more, so the first is the largest, and the only one read back.
        """
        old = body.header
        self.header = attrs.evolve(self.header, entry_id=old.entry_id)
        self._adopted = old.body
        identity = self.header.identity()
        for index in range(old.body.count):
            record = body.source(index)
            if record is None:
                raise IntegrityError("body")
            if index == 0:
                final = old.body.count == 1
                self._codec.check_chunk(record, chunk_context(identity, index, final))
            if old.body.mode == "packed":
                self._body.packed.append(record)
            elif chunk_key(self.response.cache_key, old.entry_id, index) != _source_key(
                body, index
            ):
                self._put(index, record)

    def head(self) -> bytes:
        """Finish the body and return the head to store (nothing is stored by this call).

        EncodeError when a record is larger than a stage may give back on reading (its
        ``max_size``): stored, it could never be read back. Each record is checked as it is
        sealed, with what the stage is given (the encoded response, a chunk with its
        signature): see :class:`~vaultcache.entries.records.RecordCodec`.
        """
        if self._adopted is not None:
            layout, inline = self._adopted, b""
        else:
            layout, inline = self._body.finish()
        self.header = self.header.with_body(layout)
        meta: Any = attrs.evolve(self.response, content=inline)
        line = self.header.encode()
        record = self._codec.seal_meta(meta, meta_context(line))
        return b"".join([line, frame(record), *map(frame, self._body.packed)])

    def stored_source(self) -> tuple[Callable[[int], bytes | None], RecordCodec, EntryHeader]:
        """Where the body this writer wrote can be read back, once its head is stored."""
        if self.header.body.mode == "packed" or self.chunks is None:
            return (
                _packed_source([memoryview(r) for r in self._body.packed]),
                self._codec,
                self.header,
            )
        return (
            _stored_source(self.chunks, self.response.cache_key, self.header.entry_id),
            self._codec,
            self.header,
        )

    def abort(self) -> None:
        """Delete the chunks stored so far (a body that was not read to its end)."""
        if self.chunks is not None and self._stored:
            self.chunks.bulk_delete(self._stored)
            self._stored.clear()


def _source_key(body: ChunkedBody, index: int) -> str | None:
    """The chunk key `body` reads chunk `index` from, when it reads from a chunk storage."""
    return getattr(body.source, "chunk_key", lambda index: None)(index)
