"""CachedRequest: the parts of a sent request that are kept with its response."""

from __future__ import annotations

from typing import Any

import attrs
import requests
from requests.structures import CaseInsensitiveDict


def _headers(value: Any) -> CaseInsensitiveDict[str]:
    return value if isinstance(value, CaseInsensitiveDict) else CaseInsensitiveDict(value or {})


def _text(value: str | bytes) -> str:
    # requests accepts bytes header names and values; HTTP sends them as latin-1.
    return value.decode("latin-1") if isinstance(value, bytes) else value


@attrs.define(slots=False, eq=True)
class CachedRequest:
    """A request as it was sent: method, URL, headers and body (after redaction)."""

    method: str = "GET"
    url: str = ""
    headers: CaseInsensitiveDict[str] = attrs.field(factory=CaseInsensitiveDict, converter=_headers)
    body: bytes | None = None

    @classmethod
    def from_request(cls, request: requests.PreparedRequest) -> CachedRequest:
        """Copy what is needed from a prepared request."""
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes | None):
            body = None  # a stream or generator body cannot be kept
        return cls(
            method=request.method or "GET",
            url=request.url or "",
            headers=CaseInsensitiveDict(
                {_text(name): _text(value) for name, value in request.headers.items()}
            ),
            body=body,
        )

    def prepare(self) -> requests.PreparedRequest:
        """A PreparedRequest equivalent to this one, as ``response.request`` offers it."""
        prepared = requests.PreparedRequest()
        prepared.method = self.method
        prepared.url = self.url
        prepared.headers = CaseInsensitiveDict(self.headers)
        prepared.body = self.body
        return prepared
