"""File-like bodies: ``raw`` for cached responses, and the recorder that caches a stream.

A cached response's body is already decoded, so its ``raw`` reads the same bytes whatever
``decode_content`` says. A streamed miss is stored chunk by chunk as the caller reads it in
decoded form (``iter_content``, ``iter_lines``, ``raw.read``, ``raw.readinto``,
``raw.readline``), and committed only when it has been read to its real end: the origin's
stream ended without an error and, where the origin declared a Content-Length for an
unencoded body, at that length. A stream read in its transfer encoding, abandoned, closed
early or failing is not stored, and the chunks stored so far are deleted.
"""

from __future__ import annotations

import io
import logging
import threading
import weakref
from collections.abc import Iterator
from typing import Any, Protocol

__all__ = ["BodySink", "CachedRaw", "StreamRecorder"]

logger = logging.getLogger(__name__)


class CachedRaw(io.BytesIO):
    """A stand-in for urllib3's HTTPResponse over a body held in memory."""

    def __init__(self, body: bytes, *, status: int = 200, reason: str = "") -> None:
        super().__init__(body)
        self.status = status
        self.reason = reason
        self.decode_content = True
        self.version = 11

    def read(self, amt: int | None = None, decode_content: bool | None = None, **_: Any) -> bytes:
        """Read up to `amt` bytes (all by default)."""
        return super().read(-1 if amt is None else amt)

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        """Yield the rest of the body in chunks of at most `amt` bytes."""
        while chunk := self.read(amt):
            yield chunk

    def release_conn(self) -> None:
        """Nothing to release: the body is in memory."""


class BodySink(Protocol):
    """Where a recorded body goes: pieces as they pass, then commit or abort."""

    def write(self, data: bytes) -> None:
        """The next piece of the decoded body."""

    def commit(self) -> None:
        """The body was read to its end: store the entry."""

    def abort(self) -> None:
        """The body will not be complete: drop what was stored of it."""


#: Reading methods of urllib3's response that the recorder does not see through.
_UNRECORDED = frozenset({"read1", "readinto1", "readlines", "peek", "read_chunked", "__iter__"})


class StreamRecorder:
    """Wraps a live ``raw`` and hands the decoded body, piece by piece, to a sink.

    `expected` is the body's length when the origin declared it for an unencoded body.
    """

    def __init__(self, raw: Any, encoded: bool, sink: BodySink, expected: int | None) -> None:
        self._raw = raw
        self._encoded = encoded
        self._sink = sink
        self._expected = expected
        self._received = 0
        self._usable = True
        self._done = False
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _abandon, sink)

    def __getattr__(self, name: str) -> Any:
        if name in _UNRECORDED:
            self._spoil("read through a method the cache cannot record")
        return getattr(self._raw, name)

    def _decoding(self, decode_content: bool | None) -> bool:
        if not self._encoded:
            return True
        if decode_content is None:
            return bool(getattr(self._raw, "decode_content", False))
        return decode_content

    def _record(self, piece: bytes, decode_content: bool | None) -> None:
        if not self._decoding(decode_content):
            self._spoil("read in its transfer encoding")
        elif self._usable and piece:
            self._received += len(piece)
            try:
                self._sink.write(piece)
            except Exception as exc:
                self._spoil(f"could not be stored ({type(exc).__name__})")

    def _spoil(self, why: str) -> None:
        if self._usable:
            self._usable = False
            logger.debug("streamed response %s; not cached", why)
            self._end(commit=False)

    def _end(self, *, commit: bool) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self._finalizer.detach()
        if commit and self._usable and self._expected in (None, self._received):
            try:
                self._sink.commit()
            except Exception as exc:
                logger.warning("cache write failed, response not stored: %s", type(exc).__name__)
                self._sink.abort()
        else:
            self._sink.abort()

    def _guarded(self, read: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return read(*args, **kwargs)
        except BaseException:
            self._spoil("failed while it was read")
            raise

    def stream(
        self, amt: int | None = 2**16, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        """Yield from the live stream, recording what passes; its end commits the body."""
        pieces = self._raw.stream(amt, decode_content=decode_content)
        while True:
            piece = self._guarded(next, pieces, None)
            if piece is None:
                break
            self._record(piece, decode_content)
            yield piece
        self._end(commit=True)

    def read(
        self, amt: int | None = None, decode_content: bool | None = None, **kwargs: Any
    ) -> bytes:
        """Read from the live stream, recording what passes; its end commits the body."""
        piece: bytes = self._guarded(self._raw.read, amt, decode_content=decode_content, **kwargs)
        self._record(piece, decode_content)
        if amt is None or amt < 0 or (amt > 0 and not piece):
            self._end(commit=True)
        return piece

    def readinto(self, buffer: Any) -> int:
        """Read into `buffer`, recording what passes; 0 at the end commits the body."""
        view = memoryview(buffer).cast("B")
        count: int = self._guarded(self._raw.readinto, view)
        self._record(bytes(view[:count]), None)
        if count == 0 and len(view) > 0:
            self._end(commit=True)
        return count

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line, recording it; an empty line (the end) commits the body."""
        line: bytes = self._guarded(self._raw.readline, -1 if size is None else size)
        self._record(line, None)
        if not line and size != 0:
            self._end(commit=True)
        return line

    def close(self) -> None:
        """Close the live stream; a body not read to its end is not stored."""
        self._end(commit=False)
        self._raw.close()

    def release_conn(self) -> None:
        """Give the connection back; a body not read to its end is not stored."""
        self._end(commit=False)
        self._raw.release_conn()


def _abandon(sink: BodySink) -> None:
    sink.abort()
