"""create_key: the length-prefixed encoding of a request's parts, hashed into a key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Final

import requests

from vaultcache.cache_keys.bodies import body_parts
from vaultcache.cache_keys.fields import (
    DEFAULT_CREDENTIAL_PARAMETERS,
    Credential,
    RequestLike,
    as_prepared,
    header_value,
    lowered_names,
)
from vaultcache.cache_keys.matching import header_parts
from vaultcache.cache_keys.urls import split_url

__all__ = ["KEY_VERSION", "create_key"]


KEY_VERSION: Final = b"vaultcache-key-v1"
"""The first field of every key's encoding; changing it changes every key."""


_CREDENTIAL_PREFIX: Final = b"vaultcache-credential-v1\x00"


def _encode(fields: Iterable[bytes | str]) -> bytes:
    """A length-prefixed concatenation: no two lists of fields encode the same."""
    chunks = []
    for field in fields:
        data = field.encode("utf-8", "surrogatepass") if isinstance(field, str) else field
        chunks.append(len(data).to_bytes(8, "big") + data)
    return b"".join(chunks)


def _credential_digest(credential: Credential, secret: bytes | None) -> bytes:
    message = _encode(credential)
    if secret is None:
        return hashlib.sha256(_CREDENTIAL_PREFIX + message).digest()
    return hmac.new(secret, message, hashlib.sha256).digest()


def create_key(
    request: RequestLike | requests.Request,
    *,
    match_headers: Iterable[str] | bool | None = None,
    credential_parameters: Iterable[str] | None = DEFAULT_CREDENTIAL_PARAMETERS,
    ignored_parameters: Iterable[str] | None = None,
    secret: bytes | None = None,
    share_credentials: bool = False,
    verify: object = True,
    shared_headers: Iterable[str] = (),
    **kwargs: object,
) -> str:
    """The cache key of a request: 32 hex digits, stable across processes and releases.

    The key covers the method, the normalised URL (:func:`normalize_url`), the normalised
    body (:func:`normalize_body`) and the headers in `match_headers`: a list of names
    (case-insensitive; a Vary header's names, for instance), True for every header except
    :data:`VOLATILE_HEADERS`, or None / False for none.

    Credentials named in `credential_parameters` (and URL userinfo) are kept out of the key's
    plain-text fields; each is mixed in as HMAC-SHA256 under `secret` (the session passes
    a key-ring subkey), so different users get different keys. Without a secret a
    domain-separated SHA-256 is used: still per-user, but a key then lets someone who
    knows the rest of the request test guesses of a weak credential offline.
    `share_credentials=True` leaves credentials out of the key altogether so users share
    responses; headers named in `match_headers` still count. `shared_headers` names credential
    headers left out in the same way while other credentials still count (a shared cache's
    ``Authorization``, RFC 9111 §3.5). ``verify=False`` (TLS not verified) gives a key of its
    own, as in requests-cache; any other `verify` (True, a CA bundle path) leaves the key as
    it is. `credential_parameters=None` treats nothing as a credential. Names in
    `ignored_parameters` (query parameters, form and JSON body fields, headers) are left out
    of the key entirely, unless they are also credentials. Other keyword arguments (the
    session's request options)
    are accepted and ignored, so this is a valid ``key_fn(request, **kwargs)``.

    A body that is a stream or file gets a random key: it cannot be read without being
    consumed, and its response must not answer any other request.
    """
    prepared = as_prepared(request)
    names = lowered_names(credential_parameters)
    dropped = lowered_names(ignored_parameters) - names if ignored_parameters else frozenset()
    url, credentials = split_url(prepared.url or "", names, dropped)
    content_type = header_value(prepared.headers, "content-type")
    kind, body, body_credentials = body_parts(prepared.body, content_type, names, dropped)
    headers, header_credentials = header_parts(
        prepared.headers,
        match_headers,
        names,
        share_credentials,
        shared=lowered_names(shared_headers),
        dropped=dropped,
    )
    credentials += body_credentials
    if share_credentials:
        credentials = []
    credentials += header_credentials
    fields: list[bytes | str] = [KEY_VERSION, "method", (prepared.method or "GET").upper()]
    fields += ["url", url, "body", kind, body]
    for name, value in headers:
        fields += ["header", name, value]
    for credential in sorted(credentials):
        fields += ["credential", _credential_digest(credential, secret)]
    if verify is False:
        fields += ["verify", "false"]
    return hashlib.sha256(_encode(fields)).hexdigest()[:32]
