"""A streamed miss becoming an entry: chunks stored as the caller reads, the head at the end.

:class:`StreamedEntry` is the sink a :class:`~vaultcache.models.raw.StreamRecorder` feeds.
Storage failures never fail the caller's read: they are logged, and the response is not
stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import attrs
import requests

from vaultcache.backends.base import BackendError
from vaultcache.cache import BaseCache
from vaultcache.errors import EncodeError, EntryError
from vaultcache.models import CachedResponse
from vaultcache.models.raw import StreamRecorder

__all__ = ["StreamedEntry", "declared_length", "encoded", "record_stream"]

logger = logging.getLogger(__name__)


class StreamedEntry:
    """The entry one streamed response becomes; then its copy under its Vary variant key
    (read back from the store chunk by chunk, so no body is held whole)."""

    def __init__(
        self,
        cache: BaseCache,
        cached: CachedResponse,
        redirect_keys: Iterable[str],
        variant_key: str | None,
    ) -> None:
        self.cache = cache
        self.cached = cached
        self.variant_key = variant_key
        self.writer = cache.entry_writer(cached, redirect_keys)

    def write(self, data: bytes) -> None:
        """Seal and store the next piece of the body."""
        self.writer.write(data)

    def commit(self) -> None:
        """Store the entry's head; then the variant's copy."""
        try:
            self.cache.commit(self.writer)
        except (BackendError, EncodeError, EntryError) as exc:
            # As save_response does: the chunks stored so far belong to no entry.
            logger.warning("cache write failed, response not stored: %s", exc)
            self.abort()
            return
        try:
            if self.variant_key is not None:
                stored = self.cache.get_response(self.cached.cache_key)
                if stored is not None:
                    copy = attrs.evolve(stored, cache_key=self.variant_key)
                    self.cache.save_response(copy)
        except (BackendError, EncodeError, EntryError) as exc:
            logger.warning("cache write failed, response not stored: %s", exc)

    def abort(self) -> None:
        """Delete the chunks stored so far."""
        try:
            self.writer.abort()
        except BackendError as exc:
            logger.warning("cache cleanup failed: %s", exc)


def record_stream(
    cache: BaseCache,
    response: requests.Response,
    request: requests.PreparedRequest,
    cached: CachedResponse,
    *,
    redirect_keys: Iterable[str],
    variant_key: str | None,
) -> None:
    """Store `cached` as the caller reads `response`'s body, which is not read yet; with
    `variant_key`, then its copy under that key. A failure to begin is logged, not raised."""
    try:
        sink = StreamedEntry(cache, cached, redirect_keys, variant_key)
    except (BackendError, EncodeError) as exc:
        logger.warning("cache write failed, response not stored: %s", exc)
        return
    response.raw = StreamRecorder(
        response.raw, encoded(response), sink, declared_length(request, response)
    )


def encoded(response: requests.Response) -> bool:
    """True when the response's body comes in a content coding (gzip...)."""
    return response.headers.get("Content-Encoding", "identity").strip().lower() != "identity"


def declared_length(request: requests.PreparedRequest, response: requests.Response) -> int | None:
    """The length the decoded body must have, when the origin declared one (Content-Length
    of an unencoded body that is not chunked, and not the answer to a HEAD)."""
    if (request.method or "").upper() == "HEAD" or encoded(response):
        return None
    if "chunked" in response.headers.get("Transfer-Encoding", "").lower():
        return None
    length = response.headers.get("Content-Length", "").strip()
    return int(length) if length.isdigit() else None
