"""BaseCache: responses and redirects over byte storages, in the entry format.

This is the only layer that turns stored bytes into responses. A backend's storages hold
bytes under string keys; the cache writes each response as a self-describing entry
(:mod:`vaultcache.entries`, docs/format.md) with the configured serializer, and reads any
entry whose header names a spec the reader policy accepts. An entry that cannot be read is a
miss. It is deleted only when proven damaged (it fails to authenticate under a key in the
ring, does not decode, or belongs to another cache key); one that another reader could read
(a key that is not in the ring, a stage that is not installed, another format version) is
kept and reported once per process. Both are counted in :attr:`BaseCache.stats` and logged
by key and reason only.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests

from vaultcache import maintenance
from vaultcache.backends.memory import MemoryStorage
from vaultcache.cache_chunks import ORPHAN_GRACE, collect_orphan_chunks, delete_chunks
from vaultcache.cache_key_function import KeyFunction
from vaultcache.cache_queries import CacheQueries
from vaultcache.cache_stats import CacheStats
from vaultcache.cache_views import RedirectView, ResponseView
from vaultcache.dictionaries.store import DictionaryStore
from vaultcache.dictionaries.training import check_train_after, train
from vaultcache.entries import (
    CHUNK_SIZE,
    ChunkedBody,
    EntryWriter,
    ReaderPolicy,
    chunk_keys,
    read_entry,
)
from vaultcache.errors import (
    EntryError,
    ForeignEntryError,
    MissingDictionaryError,
    VaultCacheError,
    describe,
)
from vaultcache.models import CachedResponse
from vaultcache.models.response import MAX_REDIRECT_KEYS
from vaultcache.policy.expiration import ExpirationTime
from vaultcache.policy.settings import CacheSettings
from vaultcache.saving import to_store
from vaultcache.serializers.builder import build_pipeline, parse_spec
from vaultcache.session_options import DEFAULT_SERIALIZER

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage
    from vaultcache.crypto_keys import KeyRing
    from vaultcache.retention import Retention
    from vaultcache.serializers.pipeline import SerializerPipeline
    from vaultcache.serializers.zstd_dictionary import ZstdDictionary

__all__ = ["DEFAULT_SERIALIZER", "BaseCache", "CacheStats"]

logger = logging.getLogger(__name__)


class BaseCache(CacheQueries):
    """A cache of responses: two byte storages and the pipeline that reads and writes them.

    Subclasses (and backend factories) set ``responses`` and ``redirects`` to
    :class:`~vaultcache.backends.base.BaseStorage` objects, and ``chunks`` to a third one
    where large bodies are stored chunk by chunk (without it, each entry is stored whole, in
    one value); reading ``cache.responses`` gives a mapping of cache keys to CachedResponses,
    whose ``storage`` is the object that was set (its other attributes read through:
    ``cache.responses.data``).

    `serializer` is a SerializerPipeline or a spec string, built with `key_ring` when first
    needed, so keys are looked up only when an entry is read or written; None is
    :data:`DEFAULT_SERIALIZER`. `key_ring` also reads entries (None: the serializer's keys).
    `create_key` gives a request's cache key (None: default settings, with `key_ring`'s
    secret). A session builds its cache with its own three.
    """

    def __init__(
        self,
        cache_name: str = "",
        *,
        responses: BaseStorage | None = None,
        redirects: BaseStorage | None = None,
        chunks: BaseStorage | None = None,
        retention: Retention | None = None,
        serializer: Any = None,
        key_ring: KeyRing | None = None,
        create_key: KeyFunction | None = None,
        **kwargs: Any,
    ) -> None:
        self.cache_name = cache_name
        #: Bounds applied to the response storage after each save (None: keep everything).
        self.retention: Retention | None = retention
        self.storage: BaseStorage = responses if responses is not None else MemoryStorage()
        self.redirect_storage: BaseStorage = redirects if redirects is not None else MemoryStorage()
        #: Where chunked bodies are stored; None stores each entry whole.
        self.chunk_storage: BaseStorage | None = chunks
        self._policy: ReaderPolicy | None = None
        self.configure(serializer=serializer, key_ring=key_ring, create_key=create_key)
        self.stats = CacheStats()
        #: Why entries were kept, each logged once (per cache, so once per process in use).
        self._reported: set[str] = set()
        self._reported_lock = threading.Lock()
        self._dictionaries: DictionaryStore | None = None
        self._train_after: int | None = None
        self._untrained_writes = 0

    def configure(
        self,
        *,
        serializer: Any = None,
        key_ring: KeyRing | None = None,
        create_key: KeyFunction | None = None,
    ) -> None:
        """Use `serializer`, `key_ring` and `create_key` from now on (the arguments of
        :class:`BaseCache`): what a session does with a cache it is given, so both agree."""
        if isinstance(serializer, str):
            parse_spec(serializer)  # a malformed spec fails here, not at the first request
        self._serializer = DEFAULT_SERIALIZER if serializer is None else serializer
        self._key_ring = key_ring
        self._policy = None
        #: The cache key of a request, as the session that built this cache computes it.
        self.create_key = create_key or KeyFunction.for_ring(CacheSettings(), key_ring)

    @property
    def serializer(self) -> Any:
        """The SerializerPipeline new entries are written with."""
        if isinstance(self._serializer, str):
            self._serializer = build_pipeline(self._serializer, keys=self._key_ring)
        return self._serializer

    @serializer.setter
    def serializer(self, pipeline: Any) -> None:
        self._serializer = pipeline
        self._policy = None

    @property
    def key_ring(self) -> Any:
        """The KeyRing entries are read with (by default the serializer's)."""
        return self._key_ring

    @key_ring.setter
    def key_ring(self, ring: Any) -> None:
        self._key_ring = ring
        self._policy = None

    @property
    def reader(self) -> ReaderPolicy:
        """The reader policy: which pipeline and key read an entry, from its header."""
        policy = self._policy
        if policy is None:
            policy = self._policy = ReaderPolicy(
                self.serializer, keys=self._key_ring, dictionaries=self._dictionary
            )
        return policy

    @property
    def dictionaries(self) -> DictionaryStore | None:
        """The zstd dictionaries this cache holds, in its chunk storage (None without one)."""
        storage = self.chunk_storage
        if storage is None:
            return None
        store = self._dictionaries
        if store is None or store.storage is not storage:
            store = self._dictionaries = DictionaryStore(storage, lambda: self.reader)
        return store

    def _dictionary(self, dictionary_id: str) -> ZstdDictionary:
        store = self.dictionaries
        if store is None:
            raise MissingDictionaryError(dictionary_id)
        return store.load(dictionary_id)

    # -- the two mappings, as requests-cache users know them ---------------------------------

    @property
    def responses(self) -> ResponseView:
        """Cache key -> CachedResponse (unreadable entries are discarded, never returned)."""
        return ResponseView(self)

    @responses.setter
    def responses(self, storage: BaseStorage) -> None:
        self.storage = storage

    @property
    def redirects(self) -> RedirectView:
        """Key of a request that was redirected -> key of the final response."""
        return RedirectView(self)

    @redirects.setter
    def redirects(self, storage: BaseStorage) -> None:
        self.redirect_storage = storage

    # -- reading and writing one response -----------------------------------------------------

    def get_response(self, key: str, default: Any = None) -> CachedResponse | Any:
        """The response stored under `key` (or under the key it redirects to), or `default`.

        Its body stays in the store until it is read, unless the entry holds it inline.
        """
        data = self.storage.get(key)
        redirected_from = None
        if data is None:
            target = self.redirect_storage.get(key)
            if target is None:
                return default
            redirected_from, key = key, target.decode("utf-8", "replace")
            data = self.storage.get(key)
            if data is None:
                return default
        try:
            on_error = functools.partial(self._body_failed, key, data)
            response = read_entry(self.reader, key, data, self.chunk_storage, on_error=on_error)
        except ForeignEntryError as exc:
            self._keep(key, exc)
            return default
        except EntryError as exc:
            self._discard(key, describe(exc))
            return default
        if redirected_from is not None and redirected_from not in response.redirect_keys:
            # The record is not authenticated; the entry says which redirects lead to it.
            self.stats.count("discarded")
            logger.warning("discarded redirect record %s: not one of its entry's", redirected_from)
            self.redirect_storage.pop(redirected_from, None)
            return default
        return response

    def read_entry(self, key: str, data: bytes) -> CachedResponse:
        """The response in `data`, the stored head of `key`, for inspection: raises EntryError
        (ForeignEntryError for one another reader could read) and deletes nothing.

        A chunked body is read, and its chunks checked, only when it is asked for.
        """
        return read_entry(self.reader, key, data, self.chunk_storage)

    def load_body(self, response: CachedResponse, *, stream: bool = False) -> bool:
        """Get a response's stored body ready to serve: read it whole, or for a stream check
        its first chunk. False when it is damaged (the entry has then been deleted)."""
        if response.body_loaded:
            return True
        try:
            if stream:
                response.stored_body.prefetch()
            else:
                response.load_body()
        except EntryError:
            return False
        return True

    def save_response(
        self,
        response: CachedResponse | requests.Response,
        cache_key: str | None = None,
        expires: datetime | None = None,
        *,
        redirect_keys: Iterable[str] = (),
    ) -> None:
        """Store `response` under `cache_key` (default: its own); map each of `redirect_keys`
        to it. A live ``requests.Response`` is copied first (:func:`vaultcache.saving.to_store`).
        """
        response, redirect_keys = to_store(
            response,
            cache_key,
            expires,
            redirect_keys,
            create_key=self.create_key,
            ignored_parameters=self.create_key.settings.redacted_parameters,
        )
        if not response.cache_key:
            raise ValueError("a response needs its cache_key set before it is saved")
        writer = self.entry_writer(response, redirect_keys)
        stored = response.stored_body if not response.body_loaded else None
        try:
            if isinstance(stored, ChunkedBody) and writer.reuses(stored):
                writer.adopt(stored)
                stored = None
            elif isinstance(stored, ChunkedBody):
                writer.write_all(stored.clone().stream(CHUNK_SIZE))
            else:
                body = memoryview(response.content or b"")
                writer.write_all(body[i : i + CHUNK_SIZE] for i in range(0, len(body), CHUNK_SIZE))
            self.commit(writer)
        except BaseException:
            writer.abort()
            raise
        if stored is not None:
            # Sealed again (another key or spec), and the old chunks are gone: whoever still
            # reads the body reads it from the new entry, which has the same plaintext chunks.
            stored.moved(*writer.stored_source())

    def entry_writer(
        self,
        response: CachedResponse,
        redirect_keys: Iterable[str] = (),
        *,
        pipeline: SerializerPipeline | None = None,
    ) -> EntryWriter:
        """A writer for `response`, whose body is then given piece by piece (a stream), with
        `pipeline` (default: the cache's serializer)."""
        redirect_keys = [key for key in redirect_keys if key != response.cache_key]
        # Newest first; the oldest fall off, and their records then read as misses.
        known = dict.fromkeys([*redirect_keys, *response.redirect_keys])
        response.redirect_keys = list(known)[:MAX_REDIRECT_KEYS]
        if pipeline is None:
            store = self.dictionaries
            pipeline = self.serializer
            pipeline = store.writing_pipeline(pipeline) if store is not None else pipeline
        return EntryWriter(
            pipeline,
            response,
            self.chunk_storage,
            redirect_keys=redirect_keys,
            store_chunk=functools.partial(self.store_chunk, response),
        )

    def store_chunk(self, response: CachedResponse, key: str, record: bytes) -> None:
        """Store one chunk record of `response`'s body (a backend may add a TTL)."""
        assert self.chunk_storage is not None
        self.chunk_storage[key] = record

    @property
    def train_after(self) -> int | None:
        """Train a zstd dictionary once this many entries were written without one (None, the
        default: only ``vaultcache train`` does; see docs/stages.md). Set it to at least 8,
        with a serializer that has a ``zstd`` stage; a ConfigError says what is wrong."""
        return self._train_after

    @train_after.setter
    def train_after(self, writes: int | None) -> None:
        self._train_after = check_train_after(writes, self.serializer)
        self._untrained_writes = 0

    def commit(self, writer: EntryWriter) -> None:
        """Store what `writer` wrote; the previous entry under its key is replaced whole."""
        key = writer.response.cache_key
        head = writer.head()
        previous = self.storage.get(key)
        self.storage[key] = head
        self._delete_chunks(key, previous, keep=set(chunk_keys(key, head)))
        for redirect_key in writer.redirect_keys:
            self.redirect_storage[redirect_key] = key.encode("utf-8")
        if self.retention is not None and self.retention.after_write(self.storage):
            self.collect_orphan_chunks()
        if self._train_after is not None and "(dict=" not in writer.header.spec:
            self._train_when_due()

    def _train_when_due(self) -> None:
        """Count a write without a dictionary; train one when `train_after` are due."""
        self._untrained_writes += 1
        if self._train_after is None or self._untrained_writes < self._train_after:
            return
        self._untrained_writes = 0
        try:
            report = train(self)
        except VaultCacheError as exc:
            logger.warning("could not train a zstd dictionary: %s", exc)
            return
        logger.info("trained zstd dictionary %s", report.dictionary_id)

    def collect_orphan_chunks(self, *, min_age: float = ORPHAN_GRACE) -> int:
        """Delete body chunks that no stored entry names, once older than `min_age` seconds.

        Such chunks are left by an entry that retention evicted (it removes entries, not their
        bodies) or by a process that stopped while it wrote one. The grace keeps the chunks of
        a body another process is still writing (its entry is stored last). Chunks whose
        storage does not know when they were written are left alone. Returns how many went.
        """
        if self.chunk_storage is None:
            return 0
        return collect_orphan_chunks(self.storage, self.chunk_storage, min_age)

    def _keep(self, key: str, exc: ForeignEntryError) -> None:
        self.stats.count("kept")
        reason = f"{type(exc).__name__}: {exc}"
        with self._reported_lock:
            if reason in self._reported:
                return
            self._reported.add(reason)
        logger.warning("kept cache entry %s, which this reader cannot read: %s", key, exc)

    def _body_failed(self, key: str, head: bytes, exc: EntryError) -> None:
        """A chunk of `key`'s body could not be read: delete the entry if it is damaged and
        still the one that was read (a rewrite replaces chunks under a reader's feet); keep
        it when another reader could read it (a chunk over this reader's size bound)."""
        if isinstance(exc, ForeignEntryError):
            self._keep(key, exc)
            return
        if self.storage.get(key) == head:
            self._discard(key, describe(exc))

    def _discard(self, key: str, reason: str) -> None:
        self.stats.count("discarded")
        logger.warning("discarded damaged cache entry %s: %s", key, reason)
        self._delete_chunks(key, self.storage.pop(key, None))

    def _delete_chunks(self, key: str, head: bytes | None, keep: set[str] | None = None) -> None:
        if self.chunk_storage is not None:
            delete_chunks(self.chunk_storage, key, head, keep)

    # -- maintenance ----------------------------------------------------------------------------

    def reset_expiration(self, expire_after: ExpirationTime = None) -> int:
        """Give every readable response a new expiry, `expire_after` from now (see
        :func:`vaultcache.maintenance.reset_expiration`); returns how many."""
        return maintenance.reset_expiration(self, expire_after)

    def recreate_keys(self) -> maintenance.KeyRecreation:
        """Move entries to the keys the current key function gives them (see
        :func:`vaultcache.maintenance.recreate_keys`)."""
        return maintenance.recreate_keys(self, self.create_key)

    def clear(self) -> None:
        """Delete every response and redirect."""
        self.clear_responses()
        self.redirect_storage.clear()

    def clear_responses(self) -> None:
        """Delete every response and its body, keeping redirects (``cache.responses.clear()``)."""
        self.storage.clear()
        if self.chunk_storage is not None:
            self.chunk_storage.clear()
        self._dictionaries = None  # they went with the chunks

    def close(self) -> None:
        """Release connections and files held by the storages."""
        self.storage.close()
        self.redirect_storage.close()
        if self.chunk_storage is not None:
            self.chunk_storage.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.cache_name!r})>"
