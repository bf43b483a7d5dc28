"""Whole-cache upkeep requests-cache users call on ``session.cache``: new expiry, new keys.

Written on BaseCache's public methods (``filter``, ``get_response``, ``save_response``,
``delete``, ``redirects``: :class:`MaintainedCache`) and never on stored bytes, so it works
whatever the entry format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, Protocol

import attrs

from vaultcache import clock
from vaultcache.errors import EntryError, describe
from vaultcache.models import CachedResponse
from vaultcache.policy.expiration import get_expiration_datetime
from vaultcache.saving import has_redactions

logger = logging.getLogger(__name__)

__all__ = ["KeyRecreation", "MaintainedCache", "recreate_keys", "reset_expiration"]


class MaintainedCache(Protocol):
    """The methods of :class:`~vaultcache.cache.BaseCache` this upkeep is written on."""

    @property
    def responses(self) -> Collection[str]:
        """The cache keys of the stored responses."""

    @property
    def redirects(self) -> Mapping[str, str]:
        """Key of a redirected request -> key of the final response."""

    def filter(self) -> Iterator[CachedResponse]:
        """Every readable response."""

    def get_response(self, key: str) -> CachedResponse | Any:
        """The response stored under `key`, or None."""

    def save_response(
        self,
        response: CachedResponse,
        cache_key: str | None = None,
        *,
        redirect_keys: Iterable[str] = (),
    ) -> None:
        """Store `response` under `cache_key`, with `redirect_keys` leading to it."""

    def delete(self, *keys: str) -> int:
        """Delete the entries of `keys`; returns how many there were."""


def reset_expiration(cache: MaintainedCache, expire_after: Any = None) -> int:
    """Give every readable response a new expiry, `expire_after` from now; returns how many.

    None (or -1) means never; 0 means expired now (revalidated on next use). A response
    whose stored body turns out damaged or missing while it is rewritten is left as it is.
    """
    expires = get_expiration_datetime(expire_after, now=clock.now())
    count = 0
    for response in cache.filter():
        response.expires = expires
        try:
            cache.save_response(response)
        except EntryError as exc:
            logger.warning("expiry of %s not reset: %s", response.cache_key, describe(exc))
            continue
        count += 1
    return count


@attrs.define
class KeyRecreation:
    """What :func:`recreate_keys` did: entries moved, and entries left where they were."""

    moved: int = 0
    unchanged: int = 0
    skipped: int = 0


def recreate_keys(cache: MaintainedCache, create_key: Callable[..., str]) -> KeyRecreation:
    """Move each entry to the key `create_key` (the session's) gives its stored request.

    For after a change of ``ignored_parameters``, ``match_headers`` or ``key_fn``. Left in
    place (``skipped``): entries whose request had credentials (they were redacted when
    stored, so the key they need cannot be computed; recomputing it would give the key of
    a request whose credential is the placeholder), Vary variants, and entries whose new
    key is already taken, or whose stored body turns out damaged or missing while it is
    copied. Redirects that led to a moved entry lead to it at its new key, and so do the new
    keys of the redirects in its history.
    """
    report = KeyRecreation()
    for old_key in list(cache.responses):
        response = cache.get_response(old_key)
        if response is None:
            continue
        if response.variant_group is not None or has_redactions(response.request):
            report.skipped += 1
            continue
        new_key = create_key(response.request)
        if new_key == old_key:
            report.unchanged += 1
        elif new_key in cache.responses:
            report.skipped += 1
        else:
            redirects = cache.redirects
            leading = [key for key in response.redirect_keys if redirects.get(key) == old_key]
            leading += [
                create_key(item.request)
                for item in response.history
                if not has_redactions(item.request)
            ]
            if response.history:  # the chain's keys come from the key function too
                response.redirect_chain = [
                    *(create_key(item.request) for item in response.history),
                    new_key,
                ]
            try:
                cache.save_response(response, new_key, redirect_keys=leading)
            except EntryError as exc:
                logger.warning("entry %s not moved: %s", old_key, describe(exc))
                report.skipped += 1
                continue
            cache.delete(old_key)
            report.moved += 1
    return report
