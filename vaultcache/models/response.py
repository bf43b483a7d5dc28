"""CachedResponse: a ``requests.Response`` rebuilt from the cache, with cache metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs
import requests
from requests.structures import CaseInsensitiveDict

from vaultcache import clock
from vaultcache.models.raw import CachedRaw
from vaultcache.models.request import CachedRequest, _headers

#: How many redirect keys one entry keeps (see ``CachedResponse.redirect_keys``).
MAX_REDIRECT_KEYS: Final = 30


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# on_setattr NO_OP: requests and the session set attributes on every hit; converters and
# validators run in __init__ only.
@attrs.define(slots=False, eq=False, repr=False, init=True, on_setattr=attrs.setters.NO_OP)
class CachedResponse(requests.Response):
    """A response read from (or ready for) the cache; behaves as a ``requests.Response``.

    ``created_at`` and ``expires`` are timezone-aware UTC; ``expires`` None means never.
    ``variant_group`` ties the variants of one URL (responses with ``Vary``) to the entry
    stored under the URL's own key (docs/http-caching.md, "Vary"). ``redirect_keys`` are the
    keys of the redirects that led to this response: a redirect record in the store is
    followed only to an entry that names it, so a forged record is a miss.
    """

    url: str = ""
    status_code: int = 0
    reason: str = ""
    headers: CaseInsensitiveDict[str] = attrs.field(factory=CaseInsensitiveDict, converter=_headers)
    _content: bytes = b""
    encoding: str | None = None
    elapsed: timedelta = attrs.field(factory=timedelta)
    created_at: datetime = attrs.field(
        factory=lambda: clock.now(),  # noqa: PLW0108 - looked up per call, so tests can patch it
        converter=_aware,
    )
    expires: datetime | None = attrs.field(default=None, converter=_aware)
    request: CachedRequest = attrs.field(factory=CachedRequest)  # type: ignore[assignment]
    history: list[CachedResponse] = attrs.field(factory=list)  # type: ignore[assignment]
    cache_key: str = ""
    variant_group: str | None = None
    redirect_keys: list[str] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        # What requests.Response.__init__ would have set, beyond the fields above.
        self._content_consumed = True
        self._next = None
        self.raw = CachedRaw(self._content, status=self.status_code, reason=self.reason)
        self.cookies = requests.cookies.RequestsCookieJar()
        self.from_cache = True
        self.revalidated = False

    @classmethod
    def from_response(
        cls,
        response: requests.Response,
        *,
        cache_key: str = "",
        expires: datetime | None = None,
        created_at: datetime | None = None,
        content: bytes | None = None,
        with_history: bool = True,
    ) -> CachedResponse:
        """Copy a response; `content` is its body when it was streamed, else it is read.

        `with_history=False` leaves out its redirect history (used for the history items).
        """
        request = response.request
        return cls(
            url=response.url or "",
            status_code=response.status_code,
            reason=response.reason or "",
            headers=CaseInsensitiveDict(dict(response.headers)),
            content=(response.content or b"") if content is None else content,
            encoding=response.encoding,
            elapsed=response.elapsed,
            created_at=created_at or clock.now(),
            expires=expires,
            request=CachedRequest.from_request(request) if request else CachedRequest(),
            # Each redirect's own history only repeats this list: leave it out (and so avoid
            # copying the chain once per hop).
            history=[
                cls.from_response(r, cache_key=cache_key, with_history=False)
                for r in (response.history if with_history else [])
            ],
            cache_key=cache_key,
        )

    @property
    def is_expired(self) -> bool:
        """True once ``expires`` has passed."""
        return self.expires is not None and self.expires <= clock.now()

    @property
    def size(self) -> int:
        """Body size in bytes."""
        return len(self._content)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CachedResponse):
            return NotImplemented
        return all(
            getattr(self, field.name) == getattr(other, field.name)
            for field in attrs.fields(CachedResponse)
        )

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in attrs.fields(CachedResponse)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self.__attrs_post_init__()

    def __str__(self) -> str:
        expires = self.expires.isoformat() if self.expires else "never"
        state = "expired" if self.is_expired else "fresh"
        return (
            f"request: {self.request.method}, response: {self.status_code} "
            f"({self.size} bytes), created: {self.created_at.isoformat()}, "
            f"expires: {expires} ({state})"
        )

    def __repr__(self) -> str:
        return f"<CachedResponse [{self.status_code}] {self.request.method} {self.url}>"


class OriginalResponse(requests.Response):
    """A response that came from the origin, with the cache attributes a CachedResponse has.

    The session turns every fresh ``requests.Response`` into this class (same object), so
    code can read ``response.from_cache`` whichever kind it gets.
    """

    from_cache: bool = False
    created_at: datetime | None = None
    expires: datetime | None = None
    revalidated: bool = False
    cache_key: str = ""

    @property
    def is_expired(self) -> None:
        """Always None, as ``created_at`` and ``expires``: not a question for a response
        that did not come from the cache (requests-cache prints ``False None None None``)."""
        return None

    @classmethod
    def wrap(cls, response: requests.Response, cache_key: str) -> OriginalResponse:
        """Give `response` the cache attributes, in place, and return it."""
        response.__class__ = cls
        response.cache_key = cache_key  # type: ignore[attr-defined]
        return response  # type: ignore[return-value]


#: What CachedSession returns.
AnyResponse = OriginalResponse | CachedResponse
