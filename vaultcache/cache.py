"""BaseCache: responses and redirects over byte storages, through the serializer pipeline.

This is the only layer that turns stored bytes into responses. A backend's storages hold
bytes under string keys; the cache runs the pipeline. An entry that cannot be read (fails
to authenticate, decrypt, decompress or decode, or decodes to another cache key than the
one it is stored under) is a miss: it is deleted, counted in :attr:`BaseCache.stats`, and
logged by key and error type only.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import requests

from vaultcache import clock
from vaultcache.backends.memory import MemoryStorage
from vaultcache.errors import EntryError
from vaultcache.models import CachedResponse
from vaultcache.models.response import MAX_REDIRECT_KEYS

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage
    from vaultcache.retention import Retention

__all__ = ["BaseCache", "CacheStats"]

logger = logging.getLogger(__name__)

KeyFunction = Callable[..., str]


@attrs.define
class CacheStats:
    """Counters since the cache was opened: hits, misses, and unreadable entries discarded."""

    hits: int = 0
    misses: int = 0
    discarded: int = 0
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
        del self._cache.storage[key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._cache.storage

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._cache.storage))

    def __len__(self) -> int:
        return len(self._cache.storage)

    def clear(self) -> None:
        """Delete every stored response."""
        self._cache.storage.clear()

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
    :class:`~vaultcache.backends.base.BaseStorage` objects; reading ``cache.responses``
    gives a mapping of cache keys to CachedResponses, whose ``storage`` is the object that
    was set (its other attributes read through: ``cache.responses.data``). The session
    sets ``serializer`` and ``create_key`` when the cache is attached to it.
    """

    def __init__(
        self,
        cache_name: str = "",
        *,
        responses: BaseStorage | None = None,
        redirects: BaseStorage | None = None,
        retention: Retention | None = None,
        **kwargs: Any,
    ) -> None:
        self.cache_name = cache_name
        #: Bounds applied to the response storage after each save (None: keep everything).
        self.retention: Retention | None = retention
        self.storage: BaseStorage = responses if responses is not None else MemoryStorage()
        self.redirect_storage: BaseStorage = redirects if redirects is not None else MemoryStorage()
        self.serializer: Any = None
        self.create_key: KeyFunction | None = None
        self.stats = CacheStats()

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
        """The response stored under `key` (or under the key it redirects to), or `default`."""
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
            response = self._serializer().loads(data)
        except EntryError as exc:
            self._discard(key, f"{type(exc).__name__} at stage {exc.stage!r}")
            return default
        if not isinstance(response, CachedResponse) or response.cache_key != key:
            self._discard(key, "entry belongs to another key")
            return default
        if redirected_from is not None and redirected_from not in response.redirect_keys:
            # The record is not authenticated; the entry says which redirects lead to it.
            self.stats.count("discarded")
            logger.warning("discarded redirect record %s: not one of its entry's", redirected_from)
            self.redirect_storage.pop(redirected_from, None)
            return default
        return response

    def save_response(self, response: CachedResponse, redirect_keys: Iterable[str] = ()) -> None:
        """Store `response` under its ``cache_key``; map each of `redirect_keys` to it."""
        if not response.cache_key:
            raise ValueError("a response needs its cache_key set before it is saved")
        redirect_keys = [key for key in redirect_keys if key != response.cache_key]
        # Newest first; the oldest fall off, and their records then read as misses.
        known = dict.fromkeys([*redirect_keys, *response.redirect_keys])
        response.redirect_keys = list(known)[:MAX_REDIRECT_KEYS]
        self.storage[response.cache_key] = self._serializer().dumps(response)
        for redirect_key in redirect_keys:
            self.redirect_storage[redirect_key] = response.cache_key.encode("utf-8")
        if self.retention is not None:
            self.retention.after_write(self.storage)

    def _serializer(self) -> Any:
        if self.serializer is None:
            raise RuntimeError("this cache is not attached to a session (no serializer set)")
        return self.serializer

    def _discard(self, key: str, reason: str) -> None:
        self.stats.count("discarded")
        logger.warning("discarded unreadable cache entry %s: %s", key, reason)
        self.storage.pop(key, None)

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
    def urls(self) -> list[str]:
        """Sorted, de-duplicated URLs of every readable response."""
        return sorted({response.url for response in self.filter()})

    def filter(
        self,
        *,
        valid: bool = True,
        expired: bool = True,
        older_than: datetime | None = None,
        url: str | None = None,
    ) -> Iterator[CachedResponse]:
        """Readable responses, selected by expiry, age (`older_than`) and URL glob."""
        now = clock.now()
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
    ) -> bool:
        """True if a response is stored for this key, request or GET url."""
        keys = self._keys_for(
            key=key, requests_=[request] if request else [], urls=[url] if url else []
        )
        return any(k in self.storage or k in self.redirect_storage for k in keys)

    def delete(
        self,
        *keys: str,
        expired: bool = False,
        urls: Iterable[str] = (),
        requests: Iterable[requests.PreparedRequest] = (),
        older_than: datetime | None = None,
    ) -> int:
        """Delete responses by key, by URL or request, expired ones, or older ones.

        Returns how many responses were deleted. Redirects that pointed at them go too.
        """
        doomed = set(self._keys_for(keys=keys, requests_=requests, urls=urls))
        for key in list(doomed):
            target = self.redirect_storage.get(key)
            if target is not None:
                doomed.add(target.decode("utf-8", "replace"))
        if expired:
            doomed.update(response.cache_key for response in self.filter(valid=False))
        if older_than is not None:
            doomed.update(response.cache_key for response in self.filter(older_than=older_than))
        deleted = self.storage.bulk_delete(key for key in doomed if key in self.storage)
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
    ) -> list[str]:
        found = [*keys, *([key] if key else [])]
        requests_ = list(requests_)
        urls = list(urls)
        if requests_ or urls:
            create_key = self._key_function()
            found.extend(create_key(request) for request in requests_)
            found.extend(create_key(_get_request(url)) for url in urls)
        return found

    def _key_function(self) -> KeyFunction:
        if self.create_key is None:
            raise RuntimeError("this cache is not attached to a session (no key function set)")
        return self.create_key

    def clear(self) -> None:
        """Delete every response and redirect."""
        self.storage.clear()
        self.redirect_storage.clear()

    def close(self) -> None:
        """Release connections and files held by the storages."""
        self.storage.close()
        self.redirect_storage.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.cache_name!r})>"


def _get_request(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url).prepare()
