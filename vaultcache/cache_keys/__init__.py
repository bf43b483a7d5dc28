"""Cache keys: which requests share a stored response, and what of a request is stored.

:func:`create_key` turns a request into a 32-hex-digit key: a SHA-256 (truncated to 128 bits)
over a length-prefixed encoding of the method, the normalised URL, the normalised body, the
headers the caller asked to match, and one digest per credential. The encoding starts with
:data:`KEY_VERSION`, so keys stay the same across releases until that version changes.

Credentials (:data:`DEFAULT_CREDENTIAL_PARAMETERS`, matched case-insensitively as header names,
query parameters and form or JSON body fields, plus any userinfo in the URL) never enter the
key as plain text. Each one is mixed in as an HMAC-SHA256 of its location, name and value
under the caller's `secret`, so two users with different tokens get different keys without
their tokens being recoverable from a key by guessing. ``share_credentials=True`` leaves them
out entirely, so responses are shared across users: an explicit, documented opt-in.

Ignored parameters (``ignored_parameters``, none by default: a cache-buster ``t=``, a request
id) are left out of the key altogether, as in requests-cache, so requests that differ only in
them share a response. A name that is in both lists is a credential: a secret must never be
merely ignored, or users would be served each other's responses.

The redact_* functions give what is stored with a response: the same request with each
credential value replaced by :data:`REDACTED`.

The package's modules: :mod:`~.fields` (what a key reads of a request), :mod:`~.urls` and
:mod:`~.bodies` (normalisation), :mod:`~.matching` (which headers count), :mod:`~.hashing`
(the key itself) and :mod:`~.redaction` (what is stored).
"""

from __future__ import annotations

from vaultcache.cache_keys.bodies import normalize_body
from vaultcache.cache_keys.fields import DEFAULT_CREDENTIAL_PARAMETERS, RequestLike
from vaultcache.cache_keys.hashing import KEY_VERSION, create_key
from vaultcache.cache_keys.matching import VOLATILE_HEADERS
from vaultcache.cache_keys.redaction import (
    REDACTED,
    redact_body,
    redact_headers,
    redact_request,
    redact_url,
)
from vaultcache.cache_keys.urls import normalize_url

__all__ = [
    "DEFAULT_CREDENTIAL_PARAMETERS",
    "KEY_VERSION",
    "REDACTED",
    "VOLATILE_HEADERS",
    "RequestLike",
    "create_key",
    "normalize_body",
    "normalize_url",
    "redact_body",
    "redact_headers",
    "redact_request",
    "redact_url",
]
