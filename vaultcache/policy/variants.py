"""Vary variants (RFC 9111 §4.1): the keys a response with Vary is stored and found under.

The newest response for a request's key is stored under that key, as always. A response
with Vary is also stored under a variant key, which adds the request's values of the
varying fields, so other variants of the URL stay side by side. A lookup whose stored
response varies differently follows to its own variant key. Entries of one primary share a
random variant_group; deleting or invalidating the primary entry ends the group (a new
primary entry starts a new one), so its old variants are never served again.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

from vaultcache.policy import directives as cc

__all__ = ["variant_key", "varied_fields"]

#: The key of one request for a list of Vary fields.
VariantKey = Callable[[tuple[str, ...]], str]


def varied_fields(response: requests.Response) -> tuple[str, ...]:
    """The request fields a response varies on, when it can have sibling variants.

    Empty for no Vary and for ``Vary: *``, which no later request can match (§4.1).
    """
    fields = cc.vary_fields(response.headers)
    return () if fields == cc.VARY_ANY else fields


def variant_key(response: requests.Response, cache_key: str, key_for: VariantKey) -> str | None:
    """The variant key `response`, stored under `cache_key`, is also stored under; None when
    it has none apart from `cache_key` (no Vary, or the Vary fields add nothing to the key).

    `key_for` gives the storing request's key for a list of Vary fields.
    """
    fields = varied_fields(response)
    key = key_for(fields) if fields else cache_key
    return None if key == cache_key else key
