"""File-like bodies: ``raw`` for cached responses, and the recorder that caches a stream.

A cached response's body is already decoded, so its ``raw`` reads the same bytes whatever
``decode_content`` says. A streamed miss is stored once it has been read to the end in
decoded form (``iter_content``, ``iter_lines``, or ``raw.read(decode_content=True)``); a
stream read in its transfer encoding, or abandoned early, is not stored.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["CachedRaw", "StreamRecorder"]

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


class StreamRecorder:
    """Wraps a live ``raw`` and hands the decoded body to `on_complete` once fully read."""

    def __init__(self, raw: Any, encoded: bool, on_complete: Callable[[bytes], None]) -> None:
        self._raw = raw
        self._encoded = encoded
        self._on_complete = on_complete
        self._chunks: list[bytes] = []
        self._usable = True
        self._done = False
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def _decoding(self, decode_content: bool | None) -> bool:
        if not self._encoded:
            return True
        if decode_content is None:
            return bool(getattr(self._raw, "decode_content", False))
        return decode_content

    def _record(self, chunk: bytes, decode_content: bool | None) -> None:
        if not self._decoding(decode_content):
            self._usable = False
        elif self._usable:
            self._chunks.append(chunk)

    def _finish(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        body, self._chunks = b"".join(self._chunks), []
        if self._usable:
            self._on_complete(body)
        else:
            logger.debug("streamed response read in its transfer encoding; not cached")

    def stream(
        self, amt: int | None = 2**16, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        """Yield from the live stream, recording what passes."""
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            self._record(chunk, decode_content)
            yield chunk
        self._finish()

    def read(
        self, amt: int | None = None, decode_content: bool | None = None, **kwargs: Any
    ) -> bytes:
        """Read from the live stream, recording what passes; the end completes the body."""
        chunk: bytes = self._raw.read(amt, decode_content=decode_content, **kwargs)
        self._record(chunk, decode_content)
        if amt is None or not chunk:
            self._finish()
        return chunk
