"""What a key reads of a request: its fields, and which of them are credentials."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Final, Protocol

import requests
from requests.structures import CaseInsensitiveDict

__all__ = [
    "DEFAULT_CREDENTIAL_PARAMETERS",
    "Credential",
    "RequestLike",
    "as_prepared",
    "as_text",
    "header_value",
    "lowered_names",
]


DEFAULT_CREDENTIAL_PARAMETERS: Final[tuple[str, ...]] = (
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "X-API-Key",
    "api_key",
    "api-key",
    "apikey",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "password",
    "signature",
    "sig",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Goog-Signature",
)
"""Credential names: headers, query parameters and body fields, matched case-insensitively."""


Credential = tuple[str, str, str]  # (location, lowercase name, value)


class RequestLike(Protocol):
    """What a key needs of a request: a PreparedRequest, a CachedRequest, or the like."""

    @property
    def method(self) -> str | None: ...

    @property
    def url(self) -> str | None: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> object: ...


def lowered_names(names: Iterable[str] | None) -> frozenset[str]:
    """The lowercased names of `names` (one str is one name; None is none)."""
    if names is None:
        return frozenset()
    if isinstance(names, str):  # one name, not its characters
        names = (names,)
    if isinstance(names, tuple):
        return _lowered(names)  # the common case, on every request: computed once
    return frozenset(name.lower() for name in names)


@functools.lru_cache(maxsize=64)
def _lowered(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


def as_text(value: object) -> str:
    """A header name or value as text (bytes are read as latin-1)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else str(value)


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of the lowercase header `name` (repeated ones joined), or None."""
    if isinstance(headers, CaseInsensitiveDict):
        value = headers.get(name)
        return None if value is None else as_text(value)
    found = [as_text(value) for key, value in headers.items() if as_text(key).lower() == name]
    return ", ".join(found) if found else None


def as_prepared(request: RequestLike | requests.Request) -> RequestLike:
    """`request`, prepared if it is a ``requests.Request``."""
    return request.prepare() if isinstance(request, requests.Request) else request
