"""Bodies in chunks: sealing one as it arrives, and reading one back a chunk at a time.

Memory stays bounded by a chunk (about two while writing: the chunk being filled and the last
full one, sealed once it is known whether it is the final chunk), never by the body.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from vaultcache.entries.header import BodyLayout, EntryHeader
from vaultcache.entries.records import (
    CHUNK_SIZE,
    INLINE_LIMIT,
    RecordCodec,
    chunk_context,
)
from vaultcache.errors import EntryError, IntegrityError
from vaultcache.serializers.pipeline import Handover

__all__ = ["BodyWriter", "ChunkedBody"]

#: Fetches the sealed record of chunk `index`; None when it is missing.
ChunkSource = Callable[[int], bytes | None]


class BodyWriter:
    """Seals a body as it arrives: inline when it stays small, else chunk by chunk.

    `put` stores each sealed chunk (index, record) as soon as it is sealed; without it the
    records are kept for a packed entry (the whole-body fallback). With `chunked` False (a
    pipeline that cannot carry chunks) the whole body is kept for the metadata record.
    `chunk_size` and `inline_limit` are the format's sizes; only test vectors change them.
    """

    def __init__(
        self,
        codec: RecordCodec,
        header: EntryHeader,
        put: Callable[[int, bytes], None] | None,
        *,
        chunked: bool = True,
        chunk_size: int = CHUNK_SIZE,
        inline_limit: int = INLINE_LIMIT,
    ) -> None:
        self._codec = codec
        self._chunk_size = chunk_size
        self._inline_limit = inline_limit
        self._identity = header.identity()
        self._put = put
        self._chunked = chunked
        self._buffer = bytearray()
        self._pending: bytes | None = None  # the last full chunk, sealed once the next begins
        self._spilled = False
        self.count = 0
        self.size = 0
        #: Sealed chunk records of a packed body, in order.
        self.packed: list[bytes] = []

    def write(self, data: bytes | memoryview) -> None:
        """Add the next piece of the body."""
        self._buffer += data
        self.size += len(data)
        if not self._chunked or (not self._spilled and len(self._buffer) <= self._inline_limit):
            return
        self._spilled = True
        size = self._chunk_size
        # Strictly more than a chunk: the last chunk then always has at least one byte.
        while len(self._buffer) > size:
            if self._pending is not None:
                self._emit(self._pending, final=False)
            self._pending = bytes(self._buffer[:size])
            del self._buffer[:size]

    def finish(self) -> tuple[BodyLayout, bytes]:
        """The body's layout, and the body itself when it is inline (else ``b""``)."""
        if not self._spilled:
            body, self._buffer = bytes(self._buffer), bytearray()
            return BodyLayout(), body
        if self._pending is not None:
            self._emit(self._pending, final=not self._buffer)
            self._pending = None
        if self._buffer:
            self._emit(bytes(self._buffer), final=True)
            self._buffer = bytearray()
        if self._put is not None:
            return BodyLayout("chunks", self.count, self.size), b""
        return BodyLayout("packed", self.count, self.size), b""

    def _emit(self, plain: bytes, *, final: bool) -> None:
        sealed = self._codec.seal_chunk(plain, chunk_context(self._identity, self.count, final))
        if self._put is not None:
            self._put(self.count, sealed)
        else:
            self.packed.append(sealed)
        self.count += 1


class ChunkedBody(io.RawIOBase):
    """The ``raw`` of a cached response whose body is stored in chunks.

    Each chunk is fetched, authenticated and decoded only when the reader reaches it; a
    chunk that is missing, out of place, altered, or a body that ends early or runs long,
    raises IntegrityError (after `on_error` has been told, so the cache can act on it).
    Behaves as urllib3's response does for requests: ``read``, ``stream``, ``readinto``.
    """

    def __init__(
        self,
        source: ChunkSource,
        codec: RecordCodec,
        header: EntryHeader,
        *,
        on_error: Callable[[EntryError], None] | None = None,
        status: int = 200,
        reason: str = "",
    ) -> None:
        super().__init__()
        self.source = source
        self.codec = codec
        self.header = header
        self._identity = header.identity()
        self._on_error = on_error
        self._next = 0
        self._delivered = 0  # bytes decoded from chunks
        self._given = 0  # bytes handed to readers
        self._current = memoryview(b"")
        self.status = status
        self.reason = reason
        self.decode_content = True
        self.version = 11

    @property
    def size(self) -> int:
        """The body's size in bytes, as the entry's header gives it."""
        return self.header.body.size

    @property
    def started(self) -> bool:
        """True once any of the body has been handed to a reader."""
        return self._given > 0

    def clone(self) -> ChunkedBody:
        """A reader of the same stored body, from its start."""
        return ChunkedBody(
            self.source,
            self.codec,
            self.header,
            on_error=self._on_error,
            status=self.status,
            reason=self.reason,
        )

    def moved(self, source: ChunkSource, codec: RecordCodec, header: EntryHeader) -> None:
        """Read the rest from the same body stored again elsewhere (same plaintext chunks)."""
        self.source, self.codec, self.header = source, codec, header
        self._identity = header.identity()

    def readable(self) -> bool:
        """Always True."""
        return True

    def _advance(self) -> bool:
        """Load the next chunk; False at the verified end of the body."""
        layout = self.header.body
        try:
            if self._next >= layout.count:
                if self._delivered != layout.size:
                    raise IntegrityError("body")
                return False
            sealed = self.source(self._next)
            if sealed is None:
                raise IntegrityError("body")
            final = self._next == layout.count - 1
            context = chunk_context(self._identity, self._next, final)
            # Handed over: the sealed chunk is freed before the plaintext is decompressed.
            record, sealed = Handover(sealed), None
            plain = self.codec.open_chunk(record, context)
            self._delivered += len(plain)
            if self._delivered > layout.size or (final and self._delivered != layout.size):
                raise IntegrityError("body")
        except EntryError as exc:
            if self._on_error is not None:
                self._on_error(exc)
            raise
        self._next += 1
        self._current = memoryview(plain)
        return True

    def prefetch(self) -> None:
        """Read and check the first chunk now (so a bad one is found before any is served)."""
        if self._next == 0 and not self._current:
            self._advance()

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` with the next bytes of the body; 0 at its end."""
        while not self._current:
            if not self._advance():
                return 0
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._current))
        view[:count] = self._current[:count]
        self._current = self._current[count:]
        self._given += count
        return count

    def read(self, amt: int | None = None, decode_content: bool | None = None, **_: Any) -> bytes:
        """Up to `amt` bytes of the body (the rest of it by default)."""
        if amt is None or amt < 0:
            return self.read_all()
        while not self._current:
            if amt == 0 or not self._advance():
                return b""
        piece = bytes(self._current[:amt])
        self._current = self._current[amt:]
        self._given += len(piece)
        return piece

    def read_all(self) -> bytes:
        """The rest of the body.

        One chunk is returned as decoded. More are written into one buffer, each dropped once
        copied, whose bytes are returned without another copy: memory peaks at about the body
        plus a chunk.
        """
        if not self._current and not self._advance():
            return b""
        body = self._take()
        if self._advance():
            buffer = io.BytesIO()
            buffer.write(body)
            del body
            while True:
                buffer.write(self._take())
                if not self._advance():
                    break
            body = buffer.getvalue()
        self._given += len(body)
        return body

    def _take(self) -> bytes:
        """The rest of the current chunk; the chunk itself when none of it has been read."""
        current, self._current = self._current, memoryview(b"")
        if isinstance(current.obj, bytes) and len(current) == len(current.obj):
            return current.obj
        return bytes(current)

    def stream(
        self, amt: int | None = 2**16, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        """Yield the rest of the body in pieces of at most `amt` bytes."""
        size = amt or CHUNK_SIZE
        while piece := self.read(size):
            yield piece

    def release_conn(self) -> None:
        """Nothing to release: chunks are read from the store on demand."""
