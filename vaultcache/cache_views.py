"""The mappings a cache shows its users: ``cache.responses`` and ``cache.redirects``.

They are views over a :class:`~vaultcache.cache.BaseCache`, typed here by the
:class:`ViewedCache` protocol that it satisfies, so that this module need not import it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol

from vaultcache.models import CachedResponse

if TYPE_CHECKING:
    from vaultcache.backends.base import BaseStorage

__all__ = ["RedirectView", "ResponseView", "ViewedCache"]


class ViewedCache(Protocol):
    """What the views read of a cache: its storages and its response operations."""

    storage: BaseStorage
    redirect_storage: BaseStorage

    def get_response(self, key: str, default: Any = None) -> CachedResponse | Any:
        """The response stored under `key`, or `default`."""

    def save_response(self, response: CachedResponse) -> None:
        """Store `response` under its own cache key."""

    def delete(self, *keys: str) -> int:
        """Delete the responses of `keys`; return how many went."""

    def values(self, check_expiry: bool = False) -> Iterator[CachedResponse]:
        """Every readable response."""

    def clear_responses(self) -> None:
        """Delete every stored response (and its body), keeping redirects."""


class _StorageAttributes:
    """Exposes the storage a view reads: as ``view.storage``, and its own attributes.

    A custom backend that sets ``self.responses = MyStorage()`` finds its object again at
    ``cache.responses.storage``, and ``cache.responses.data`` reads ``MyStorage().data``.
    """

    def __init__(self, cache: ViewedCache) -> None:
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


class ResponseView(_StorageAttributes, MutableMapping[str, CachedResponse]):
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
        self._cache.clear_responses()

    def __repr__(self) -> str:
        return f"<responses of {self._cache!r}: {len(self)} entries>"


class RedirectView(_StorageAttributes, MutableMapping[str, str]):
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
