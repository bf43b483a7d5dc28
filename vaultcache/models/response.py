"""CachedResponse: a ``requests.Response`` rebuilt from the cache, with cache metadata."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs
import requests
from requests.structures import CaseInsensitiveDict

from vaultcache import clock
from vaultcache.models.raw import CachedRaw
from vaultcache.models.redirects import redirect_target
from vaultcache.models.request import CachedRequest, _headers

#: How many redirect keys one entry keeps (see ``CachedResponse.redirect_keys``).
MAX_REDIRECT_KEYS: Final = 30
#: How many header fields (``CachedResponse.header_fields``) one stored response may hold.
MAX_HEADER_FIELDS: Final = 1000

#: Header fields as sent: ordered (name, value) pairs, a repeated field once per line.
HeaderFields = list[tuple[str, str]]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _fields_of(headers: Mapping[str, str]) -> HeaderFields:
    return list(headers.items())


def received_fields(response: requests.Response) -> HeaderFields:
    """The header fields of `response` in the order received, repeated fields apart.

    The first of these that agrees with ``response.headers`` (so nothing changed them since):
    the message http.client parsed (every field line in order, names as sent), then urllib3's
    ``raw.headers`` (repeated fields apart, but grouped under the first of their name); else,
    for responses not from the network (requests-mock, hand-built), ``response.headers``.
    """
    if isinstance(response, CachedResponse):
        return list(response.header_fields)
    expected = {name.lower(): value for name, value in response.headers.items()}
    raw = getattr(response, "raw", None)
    message = getattr(getattr(raw, "_original_response", None), "msg", None)
    for source in (message, getattr(raw, "headers", None)):
        fields = _text_pairs(source)
        if fields is not None and joined_fields(fields) == expected:
            return fields
    return _fields_of(response.headers)


def _text_pairs(headers: Any) -> HeaderFields | None:
    """``headers.items()`` if it gives (text, text) pairs, else None."""
    items = getattr(headers, "items", None)
    if not callable(items):
        return None
    fields = list(items())
    if all(
        type(pair) is tuple and len(pair) == 2 and type(pair[0]) is type(pair[1]) is str
        for pair in fields
    ):
        return fields
    return None


def joined_fields(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`fields` as requests shows them: lower-case names, repeated values joined by ", "."""
    joined: dict[str, str] = {}
    for name, value in fields:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


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
    ``redirect_chain`` holds the key of every request of its redirect chain as sent, first to
    last (empty without redirects): see :mod:`vaultcache.redirect_chain`.

    ``headers`` behaves as in requests (repeated fields joined by ", "); ``header_fields``
    keeps the fields as the origin sent them (order, case, and each repeated field apart),
    for archives. Left out, it is derived from ``headers``. The session keeps the two in
    step when it redacts or revalidates an entry; whoever changes ``headers`` of a stored
    response by hand changes ``header_fields`` too.
    """

    url: str = ""
    status_code: int = 0
    reason: str = ""
    headers: CaseInsensitiveDict[str] = attrs.field(factory=CaseInsensitiveDict, converter=_headers)
    #: The body; False while it is still in the store (see ``attach_body``).
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
    redirect_chain: list[str] = attrs.field(factory=list)
    header_fields: HeaderFields = attrs.field(
        default=attrs.Factory(lambda self: _fields_of(self.headers), takes_self=True)
    )
    #: The body as it lies in the store, while it has not been read (see ``attach_body``).
    stored_body: Any = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # What requests.Response.__init__ would have set, beyond the fields above.
        self._content_consumed = True
        self._next = None
        if not isinstance(self._content, bytes) and self.stored_body is not None:
            self.attach_body(self.stored_body.clone())  # a copy: its own reading position
        else:
            self.stored_body = None
            self._content = self._content or b""
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
            header_fields=received_fields(response),
        )

    @property
    def is_expired(self) -> bool:
        """True once ``expires`` has passed."""
        return self.expires is not None and self.expires <= clock.now()

    @property
    def expires_delta(self) -> int | None:
        """Seconds until ``expires`` (negative once passed, rounded), or None for never."""
        if self.expires is None:
            return None
        return round((self.expires - clock.now()).total_seconds())

    @property
    def next(self) -> requests.PreparedRequest | None:
        """The request a redirect that was not followed leads to (None if not a redirect)."""
        return redirect_target(self)

    @property
    def size(self) -> int:
        """Body size in bytes (known without reading a body that is still in the store)."""
        if not self.body_loaded:
            return int(getattr(self.stored_body, "size", 0))
        return len(self._content or b"")

    @property
    def content(self) -> bytes:
        """The body, read from the store on first use when it is still there."""
        if not self.body_loaded:
            if getattr(self.stored_body, "started", False):
                raise RuntimeError("The content for this response was already consumed")
            self.load_body()
        return self._content or b""

    @property
    def body_loaded(self) -> bool:
        """False while the body is still in the store, to be read through ``raw``."""
        return isinstance(self._content, bytes)

    def attach_body(self, raw: Any) -> None:
        """Read the body from `raw` (a stored body) when asked for, as requests reads a stream."""
        self._content = False  # type: ignore[assignment] # as requests marks a body not read yet
        self._content_consumed = False
        self.stored_body = raw
        self.raw = raw

    def load_body(self) -> None:
        """Read a body that is still in the store into memory (``content``), as requests
        does for a response that is not streamed."""
        if not self.body_loaded:
            body: bytes = self.stored_body.read_all()
            self._content = body
            self._content_consumed = True
            self.raw = CachedRaw(body, status=self.status_code, reason=self.reason)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CachedResponse):
            return NotImplemented
        return all(
            getattr(self, field.name) == getattr(other, field.name)
            for field in attrs.fields(CachedResponse)
            if field.eq
        )

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> dict[str, Any]:
        self.load_body()
        return {
            field.name: getattr(self, field.name)
            for field in attrs.fields(CachedResponse)
            if field.eq
        }

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

    @property
    def expires_delta(self) -> None:
        """Always None, as for a response that never expires."""
        return None

    @classmethod
    def wrap(cls, response: requests.Response, cache_key: str) -> OriginalResponse:
        """Give `response` the cache attributes, in place, and return it."""
        response.__class__ = cls
        response.cache_key = cache_key  # type: ignore[attr-defined]
        return response  # type: ignore[return-value]


#: What CachedSession returns.
AnyResponse = OriginalResponse | CachedResponse
