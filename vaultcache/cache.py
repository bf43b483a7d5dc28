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

import fnmatch
import functools
import logging
import threading
import time
from abc import abstractmethod
from collections.abc import Iterable, Iterator, MutableMapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import requests

from vaultcache import clock, maintenance
from vaultcache.backends.memory import MemoryStorage
from vaultcache.cache_key_function import KeyFunction
from vaultcache.dictionaries.store import DictionaryStore
from vaultcache.dictionaries.training import train
from vaultcache.entries import (
    CHUNK_SIZE,
    ChunkedBody,
    EntryWriter,
    ReaderPolicy,
    chunk_keys,
    peek_header,
    read_entry,
    split_chunk_key,
)
from vaultcache.errors import (
    ConfigError,
    EntryError,
    ForeignEntryError,
    MissingDictionaryError,
    VaultCacheError,
    describe,
)
from vaultcache.models import CachedResponse
from vaultcache.models.response import MAX_REDIRECT_KEYS
from vaultcache.policy.expiration import ExpirationTime, validate_expiration
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

#: Seconds an unclaimed body chunk is left alone (another process may be writing its entry).
ORPHAN_GRACE = 3600.0


@attrs.define
class CacheStats:
    """Counters since the cache was opened: hits, misses, damaged entries discarded, and
    entries kept that this reader cannot read."""

    hits: int = 0
    misses: int = 0
    discarded: int = 0
    #: Entries read as misses and kept: another reader (key, plugin, release) could read them.
    kept: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False, eq=False)

    def count(self, name: str) -> None:
        """Add one to a counter."""
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class _StorageAttributes:
    """Exposes the storage a view reads: as ``view.storage``, and its own attributes.

    A custom backend that sets ``self.responses = MyStorage()`` finds its object again at
    ``cache.responses.storage``, and ``cache.responses.data`` reads ``MyStorage().data``.
    """

    def __init__(self, cache: BaseCache) -> None:
        self._cache = cache

    @property
    @abstractmethod
    def storage(self) -> BaseStorage:
        """The byte storage behind this view: the object the backend assigned."""

    def __getattr__(self, name: str) -> Any:
        # Only for names the view does not have itself; private names are never forwarded
        # (nor is "storage", whose own failure must not come back here).
        if name.startswith("_") or name == "storage":
            raise AttributeError(name)
        return getattr(self.storage, name)


class _ResponseView(_StorageAttributes, MutableMapping[str, CachedResponse]):
    """``cache.responses``: the response storage seen through the pipeline."""

    @property
    def storage(self) -> BaseStorage:
        """The byte storage behind this view: the object the backend assigned."""
        return self._cache.storage

    def values(self, check_expiry: bool = False) -> Iterator[CachedResponse]:  # type: ignore[override]
        """Every readable response; with `check_expiry`, only unexpired ones."""
        return self._cache.values(check_expiry=check_expiry)

    def __getitem__(self, key: str) -> CachedResponse:
        response = self._cache.get_response(key)
        if response is None:
            raise KeyError(key)
        return response

    def __setitem__(self, key: str, response: CachedResponse) -> None:
        response.cache_key = key
        self._cache.save_response(response)

    def __delitem__(self, key: str) -> None:
        if not self._cache.delete(key):
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._cache.storage

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._cache.storage))

    def __len__(self) -> int:
        return len(self._cache.storage)

    def clear(self) -> None:
        """Delete every stored response."""
        self._cache.storage.clear()
        if self._cache.chunk_storage is not None:
            self._cache.chunk_storage.clear()
        self._cache._dictionaries = None  # they went with the chunks

    def __repr__(self) -> str:
        return f"<responses of {self._cache!r}: {len(self)} entries>"


class _RedirectView(_StorageAttributes, MutableMapping[str, str]):
    """``cache.redirects``: the key of a redirecting request -> the key of its response."""

    @property
    def storage(self) -> BaseStorage:
        """The byte storage behind this view: the object the backend assigned."""
        return self._cache.redirect_storage

    def __getitem__(self, key: str) -> str:
        return self._cache.redirect_storage[key].decode("utf-8", "replace")

    def __setitem__(self, key: str, target: str) -> None:
        self._cache.redirect_storage[key] = target.encode("utf-8")

    def __delitem__(self, key: str) -> None:
        del self._cache.redirect_storage[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._cache.redirect_storage))

    def __len__(self) -> int:
        return len(self._cache.redirect_storage)

    def clear(self) -> None:
        """Delete every redirect."""
        self._cache.redirect_storage.clear()


class BaseCache:
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
        #: Train a zstd dictionary once this many entries were written without one (None:
        #: only ``vaultcache train`` does; see docs/stages.md).
        self.train_after: int | None = None
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
    def responses(self) -> _ResponseView:
        """Cache key -> CachedResponse (unreadable entries are discarded, never returned)."""
        return _ResponseView(self)

    @responses.setter
    def responses(self, storage: BaseStorage) -> None:
        self.storage = storage

    @property
    def redirects(self) -> _RedirectView:
        """Key of a request that was redirected -> key of the final response."""
        return _RedirectView(self)

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
        if self.train_after is not None and "(dict=" not in writer.header.spec:
            self._train_when_due()

    def _train_when_due(self) -> None:
        """Count a write without a dictionary; train one when `train_after` are due."""
        self._untrained_writes += 1
        if self.train_after is None or self._untrained_writes < self.train_after:
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
        storage = self.chunk_storage
        if storage is None:
            return 0
        now = time.time()
        owners: dict[str, str | None] = {}
        doomed = []
        for stats in storage.entry_stats():
            parts = split_chunk_key(stats.key)
            if parts is None or stats.created is None or now - stats.created < min_age:
                continue
            key, entry_id, _ = parts
            if key not in owners:
                header = peek_header(self.storage.get(key))
                owners[key] = None if header is None else header.entry_id
            if owners[key] != entry_id:
                doomed.append(stats.key)
        return storage.bulk_delete(doomed) if doomed else 0

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
        still the one that was read (a rewrite replaces chunks under a reader's feet)."""
        if isinstance(exc, ForeignEntryError):
            return
        if self.storage.get(key) == head:
            self._discard(key, describe(exc))

    def _discard(self, key: str, reason: str) -> None:
        self.stats.count("discarded")
        logger.warning("discarded damaged cache entry %s: %s", key, reason)
        self._delete_chunks(key, self.storage.pop(key, None))

    def _delete_chunks(self, key: str, head: bytes | None, keep: set[str] | None = None) -> None:
        if self.chunk_storage is None or head is None:
            return
        doomed = [k for k in chunk_keys(key, head) if keep is None or k not in keep]
        if doomed:
            self.chunk_storage.bulk_delete(doomed)

    # -- whole-cache operations ---------------------------------------------------------------

    def keys(self, check_expiry: bool = False) -> Iterator[str]:
        """Keys of stored responses, and redirect keys; with `check_expiry`, fresh ones only."""
        if not check_expiry:
            yield from list(self.storage)
            yield from list(self.redirect_storage)
            return
        for response in self.filter(expired=False):
            yield response.cache_key

    def values(self, check_expiry: bool = False) -> Iterator[CachedResponse]:
        """Every readable response; with `check_expiry`, only unexpired ones."""
        return self.filter(expired=not check_expiry)

    def response_count(self, check_expiry: bool = False) -> int:
        """How many responses are stored (readable and, with `check_expiry`, unexpired)."""
        if not check_expiry:
            return len(self.storage)
        return sum(1 for _ in self.filter(expired=False))

    @property
    def urls(self) -> URLList:
        """Sorted, de-duplicated URLs of every readable response.

        Also callable, as requests-cache 1.x's method: ``cache.urls(expired=False)`` takes
        the arguments of :meth:`filter`.
        """
        return URLList(self)

    def filter(
        self,
        *,
        valid: bool = True,
        expired: bool = True,
        older_than: datetime | ExpirationTime = None,
        url: str | None = None,
    ) -> Iterator[CachedResponse]:
        """Readable responses, selected by expiry, age and URL glob.

        `older_than` is a datetime, or (as in requests-cache) a duration before now.
        """
        now = clock.now()
        older_than = as_cutoff(older_than, now)
        for key in list(self.storage):
            response = self.get_response(key)
            if response is None:
                continue
            is_expired = response.expires is not None and response.expires <= now
            if (is_expired and not expired) or (not is_expired and not valid):
                continue
            if older_than is not None and response.created_at >= older_than:
                continue
            if url is not None and not fnmatch.fnmatchcase(response.url, url):
                continue
            yield response

    def contains(
        self,
        key: str | None = None,
        request: requests.PreparedRequest | None = None,
        url: str | None = None,
        verify: bool = True,
    ) -> bool:
        """True if a response is stored for this key, request or GET url (`verify`: for
        requests made with TLS verification, or without)."""
        keys = self._keys_for(
            key=key,
            requests_=[request] if request else [],
            urls=[url] if url else [],
            verify=verify,
        )
        return any(k in self.storage or k in self.redirect_storage for k in keys)

    def delete(
        self,
        *keys: str,
        expired: bool = False,
        urls: Iterable[str] = (),
        requests: Iterable[requests.PreparedRequest] = (),
        older_than: datetime | ExpirationTime = None,
        invalid: bool = False,
        verify: bool = True,
    ) -> int:
        """Delete responses by key, by URL or request, expired ones, older ones, or (with
        `invalid`) those that cannot be read with the current serializer and keys.

        Returns how many responses were deleted. Redirects that pointed at them go too.
        """
        doomed = set(self._keys_for(keys=keys, requests_=requests, urls=urls, verify=verify))
        for key in list(doomed):
            target = self.redirect_storage.get(key)
            if target is not None:
                doomed.add(target.decode("utf-8", "replace"))
        if expired:
            doomed.update(response.cache_key for response in self.filter(valid=False))
        if older_than is not None:
            doomed.update(response.cache_key for response in self.filter(older_than=older_than))
        unreadable = [
            key for key in list(self.storage) if invalid and self.get_response(key) is None
        ]
        doomed.update(unreadable)
        # Reading an unreadable entry may already have discarded it: it counts as deleted.
        deleted = sum(1 for key in unreadable if key not in self.storage)
        present = [key for key in doomed if key in self.storage]
        chunked = self.chunk_storage is not None
        heads = {key: self.storage.get(key) for key in present} if chunked else {}
        deleted += self.storage.bulk_delete(present)
        for key, head in heads.items():
            self._delete_chunks(key, head)
        redirects = [key for key in doomed if key in self.redirect_storage]
        if deleted:  # redirects that pointed at a deleted response: one pass over them all
            redirects += [
                key
                for key in list(self.redirect_storage)
                if self.redirect_storage.get(key, b"").decode("utf-8", "replace") in doomed
            ]
        self.redirect_storage.bulk_delete(redirects)
        return deleted

    def _keys_for(
        self,
        *,
        key: str | None = None,
        keys: Iterable[str] = (),
        requests_: Iterable[requests.PreparedRequest] = (),
        urls: Iterable[str] = (),
        verify: bool = True,
    ) -> list[str]:
        found = [*keys, *([key] if key else [])]
        requests_ = list(requests_)
        urls = list(urls)
        if requests_ or urls:
            create_key = self.create_key
            options: dict[str, Any] = {} if verify else {"verify": False}
            found.extend(create_key(request, **options) for request in requests_)
            found.extend(create_key(_get_request(url), **options) for url in urls)
        return found

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
        self.storage.clear()
        self.redirect_storage.clear()
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


def _get_request(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url).prepare()


class URLList(list[str]):
    """``cache.urls``: a sorted list of URLs that can also be called with filter arguments."""

    def __init__(self, cache: BaseCache) -> None:
        self._cache = cache
        super().__init__(self(expired=True))

    def __call__(self, **filters: Any) -> list[str]:
        """The sorted URLs of the responses :meth:`BaseCache.filter` selects with `filters`."""
        if not filters and len(self):  # already listed, when the property was read
            return list(self)
        return sorted({response.url for response in self._cache.filter(**filters)})


def as_cutoff(older_than: datetime | ExpirationTime, now: datetime) -> datetime | None:
    """`older_than` as a datetime: given as one, or a duration (requests-cache's form) before
    `now`."""
    if older_than is None or isinstance(older_than, datetime):
        return older_than
    age = validate_expiration(older_than, name="older_than")
    if not isinstance(age, timedelta):
        raise ConfigError("older_than must be a datetime or a positive duration", key="older_than")
    return now - age
