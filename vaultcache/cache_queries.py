"""Listing, selecting and deleting a cache's responses: the whole-cache operations.

:class:`CacheQueries` is a part of :class:`~vaultcache.cache.BaseCache`, kept apart from
reading and writing one entry; it works through the cache's storages, ``get_response`` and
``create_key``.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from vaultcache import clock
from vaultcache.cache_chunks import delete_chunks
from vaultcache.cache_key_function import KeyFunction
from vaultcache.errors import ConfigError
from vaultcache.models import CachedResponse
from vaultcache.policy.expiration import ExpirationTime, validate_expiration

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage

__all__ = ["CacheQueries", "URLList", "as_cutoff", "get_request"]


class CacheQueries:
    """The whole-cache operations of :class:`~vaultcache.cache.BaseCache`: keys, values,
    URLs, filtering, lookup by request or URL, and deletion."""

    storage: BaseStorage
    redirect_storage: BaseStorage
    chunk_storage: BaseStorage | None
    create_key: KeyFunction

    if TYPE_CHECKING:

        def get_response(self, key: str, default: Any = None) -> CachedResponse | Any:
            """The response stored under `key` (or the key it redirects to), or `default`."""

        def reset_expiration(self, expire_after: ExpirationTime = None) -> int:
            """Set a new expiration on every stored response; returns how many."""

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
        return URLList(self.filter)

    def filter(
        self,
        valid: bool = True,
        expired: bool = True,
        invalid: bool = False,
        older_than: datetime | ExpirationTime = None,
        *,
        url: str | None = None,
    ) -> Iterator[CachedResponse]:
        """Readable responses, selected by expiry, age and URL glob, in requests-cache's
        argument order.

        `older_than` is a datetime, or (as in requests-cache) a duration before now. With
        `invalid`, each entry that cannot be read (another key's, a stage not installed,
        damaged) is also given, as an empty 504 response carrying its ``cache_key``.
        """
        now = clock.now()
        older_than = as_cutoff(older_than, now)
        for key in list(self.storage):
            response = self.get_response(key)
            if response is None:
                if invalid:
                    yield CachedResponse(status_code=504, reason="", cache_key=key)
                continue
            is_expired = response.expires is not None and response.expires <= now
            if (is_expired and not expired) or (not is_expired and not valid):
                continue
            if older_than is not None and response.created_at >= older_than:
                continue
            if url is not None and not fnmatch.fnmatchcase(response.url, url):
                continue
            yield response

    def remove_expired_responses(self, expire_after: ExpirationTime = None) -> int:
        """requests-cache's deprecated name: :meth:`reset_expiration` (when `expire_after` is
        given), then ``delete(expired=True)``. Unlike requests-cache it leaves the entries it
        cannot read (they may be another key's); ``delete(invalid=True)`` removes those."""
        warnings.warn(
            "remove_expired_responses() is deprecated: use cache.delete(expired=True), "
            "and cache.delete(invalid=True) for entries that cannot be read",
            DeprecationWarning,
            stacklevel=2,
        )
        if expire_after is not None:
            self.reset_expiration(expire_after)
        return self.delete(expired=True)

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
        chunks = self.chunk_storage
        heads = {key: self.storage.get(key) for key in present} if chunks is not None else {}
        deleted += self.storage.bulk_delete(present)
        if chunks is not None:
            for key, head in heads.items():
                delete_chunks(chunks, key, head)
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
            found.extend(create_key(get_request(url), **options) for url in urls)
        return found


def get_request(url: str) -> requests.PreparedRequest:
    """A prepared GET request of `url`, to compute its cache key."""
    return requests.Request("GET", url).prepare()


def as_cutoff(older_than: datetime | ExpirationTime, now: datetime) -> datetime | None:
    """`older_than` as a datetime: given as one, or a duration (requests-cache's form) before
    `now`."""
    if older_than is None or isinstance(older_than, datetime):
        return older_than
    age = validate_expiration(older_than, name="older_than")
    if not isinstance(age, timedelta):
        raise ConfigError("older_than must be a datetime or a positive duration", key="older_than")
    return now - age


class URLList(list[str]):
    """``cache.urls``: a sorted list of URLs that can also be called with filter arguments."""

    def __init__(self, select: Callable[..., Iterator[CachedResponse]]) -> None:
        self._select = select
        super().__init__(self(expired=True))

    def __call__(self, **filters: Any) -> list[str]:
        """The sorted URLs of the responses that :meth:`CacheQueries.filter` selects with
        `filters`."""
        if not filters and len(self):  # already listed, when the property was read
            return list(self)
        return sorted({response.url for response in self._select(**filters)})
