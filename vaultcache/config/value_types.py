"""The value types of the schema: each ``Annotated`` marker selects one value check."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, TypeAlias

from vaultcache.policy.expiration import ExpirationTime

__all__ = [
    "BackendOptions",
    "ByteSize",
    "CacheName",
    "Count",
    "Distribution",
    "Duration",
    "Expiry",
    "Headers",
    "Method",
    "Name",
    "Options",
    "Rfc9111",
    "Seconds",
    "Spec",
    "StatusCode",
    "Text",
]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


Name = Annotated[str, _Marker("name")]  # a registered name: backend, stage, key source
Distribution = Annotated[str, _Marker("distribution")]  # a package name
Text = Annotated[str, _Marker("text")]  # any non-empty string (a header, a parameter)
CacheName = Annotated[str, _Marker("cache name")]  # CachedSession cache_name: a name or a path
Method = Annotated[str, _Marker("method")]
StatusCode = Annotated[int, _Marker("status code")]
Count = Annotated[int, _Marker("count")]
ByteSize = Annotated[int, _Marker("size")]
Duration = Annotated[timedelta, _Marker("duration")]
Spec = Annotated[str, _Marker("spec")]
Expiry = Annotated[ExpirationTime, _Marker("expiry")]
Rfc9111 = Annotated[str, _Marker("rfc9111 mode")]  # "private" or "shared"
Seconds = Annotated[bool | float, _Marker("seconds")]
Headers = Annotated[tuple[str, ...] | bool, _Marker("headers")]
Options: TypeAlias = Mapping[str, Any]
BackendOptions = Annotated[Mapping[str, Any], _Marker("backend options")]
