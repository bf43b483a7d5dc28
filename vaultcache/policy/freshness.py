"""Whether a response may be stored, and for how long it is fresh: RFC 9111 §3 and §4.2.

:class:`ResponseRules` reads one response's caching headers as a private or a shared cache
(``rfc9111="private"`` / ``"shared"``) must, optionally obeying ``CDN-Cache-Control``
(RFC 9213). :class:`~vaultcache.policy.actions.CacheActions` turns its answers into the
session's decisions; this module does no I/O and reads no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

import attrs

from vaultcache.policy import directives as cc
from vaultcache.policy.settings import CacheSettings
from vaultcache.policy.targeted import targeted_directives

__all__ = [
    "HEURISTICALLY_CACHEABLE",
    "HEURISTIC_FRACTION",
    "UNDERSTOOD_CODES",
    "ResponseRules",
    "explicit_expires_lifetime",
    "heuristic_lifetime",
]

#: Share of the time since Last-Modified that a response without an explicit lifetime stays
#: fresh for (RFC 9111 §4.2.2 suggests 10%).
HEURISTIC_FRACTION: Final = 0.1

#: Status codes that are heuristically cacheable (RFC 9110 §15.1).
HEURISTICALLY_CACHEABLE: Final = frozenset(
    {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}
)

#: The status codes RFC 9110 defines, which this cache understands (for must-understand).
UNDERSTOOD_CODES: Final = frozenset(
    {*range(200, 207), *range(300, 309), *range(400, 418), *range(421, 427), *range(500, 506)}
    - {306}
)

#: Codes a cache stores only if it implements them: a partial response (206) would have to be
#: assembled with others, a 304 only updates what is stored (RFC 9111 §3, §3.3, §4.3.4).
_NEVER_STORED: Final = frozenset({206, 304})

_ZERO: Final = timedelta(0)


def explicit_expires_lifetime(
    headers: Mapping[str, str], *, response_time: datetime
) -> timedelta | None:
    """The freshness lifetime an Expires header gives: Expires minus Date (RFC 9111 §4.2.1).

    Without a valid Date, the time the response was received stands in for it (RFC 9110
    §6.6.1). None when there is no Expires; an invalid one gives zero (§5.3).
    """
    value = cc.header_value(headers, "Expires")
    if value is None:
        return None
    expires = cc.parse_expires(value, now=response_time)
    date = cc.parse_http_date(cc.header_value(headers, "Date")) or response_time
    return max(_ZERO, expires - date)


def heuristic_lifetime(headers: Mapping[str, str], *, response_time: datetime) -> timedelta | None:
    """A tenth of the time between Last-Modified and Date (RFC 9111 §4.2.2); None without one.

    The caller decides whether a heuristic is allowed at all (status code, explicit
    lifetime, ``public``).
    """
    modified = cc.parse_http_date(cc.header_value(headers, "Last-Modified"))
    date = cc.parse_http_date(cc.header_value(headers, "Date")) or response_time
    if modified is None or modified >= date:
        return None
    return (date - modified) * HEURISTIC_FRACTION


@attrs.frozen
class ResponseRules:
    """What RFC 9111 lets a private or shared cache do with one response.

    `directives` are the ones in force: those of the targeted field (``CDN-Cache-Control``)
    when the cache obeys it and it is valid, else Cache-Control's. `targeted` says which.
    """

    directives: cc.CacheDirectives
    shared: bool
    targeted: bool = False

    @classmethod
    def of(cls, headers: Mapping[str, str] | None, settings: CacheSettings) -> ResponseRules:
        """The rules for a response with `headers` under `settings`."""
        field = settings.targeted_field
        targeted = targeted_directives(headers, field) if field else None
        if targeted is not None:
            return cls(targeted, shared=settings.shared, targeted=True)
        return cls(cc.response_directives(headers), shared=settings.shared)

    def storable(self, status: int, headers: Mapping[str, str], *, authorization: bool) -> bool:
        """RFC 9111 §3: may a response with this status be stored at all?

        Not a non-final, partial (206) or 304 response; with must-understand, only a status
        code this cache understands (§5.2.2.3, which then overrides no-store); not no-store
        (§5.2.2.5); in a shared cache not ``private`` (§5.2.2.7), and for a request with
        Authorization only with ``public``, ``s-maxage`` or ``must-revalidate`` (§3.5).
        Then it needs a reason to be stored: public, private (private cache), an explicit
        lifetime, or a heuristically cacheable status code (RFC 9110 §15.1).
        """
        directives = self.directives
        if status < 200 or status in _NEVER_STORED:
            return False
        if directives.must_understand:
            if status not in UNDERSTOOD_CODES:
                return False
        elif directives.no_store:
            return False
        if self.shared and directives.private and not directives.private_fields:
            return False
        if self.shared and authorization and not self._shareable_with_authorization():
            return False
        return self._has_a_reason_to_store(status, headers)

    def _shareable_with_authorization(self) -> bool:
        directives = self.directives
        return directives.public or directives.must_revalidate or directives.s_maxage is not None

    def _has_a_reason_to_store(self, status: int, headers: Mapping[str, str]) -> bool:
        directives = self.directives
        return (
            directives.public
            or (directives.private and not self.shared)
            or directives.max_age is not None
            or (self.shared and directives.s_maxage is not None)
            or (not self.targeted and cc.header_value(headers, "Expires") is not None)
            or status in HEURISTICALLY_CACHEABLE
        )

    def lifetime(
        self, headers: Mapping[str, str], status: int, *, response_time: datetime
    ) -> timedelta:
        """The freshness lifetime (RFC 9111 §4.2.1), zero when none is given or allowed.

        In order: ``s-maxage`` (shared caches only), ``max-age``, Expires minus Date (not
        when a targeted field is in force, RFC 9213 §2.1), then a heuristic (§4.2.2) for a
        heuristically cacheable status code or a ``public`` response.
        """
        directives = self.directives
        if self.shared and directives.s_maxage is not None:
            return timedelta(seconds=directives.s_maxage)
        if directives.max_age is not None:
            return timedelta(seconds=directives.max_age)
        if not self.targeted:
            explicit = explicit_expires_lifetime(headers, response_time=response_time)
            if explicit is not None:
                return explicit
        if status in HEURISTICALLY_CACHEABLE or directives.public:
            return heuristic_lifetime(headers, response_time=response_time) or _ZERO
        return _ZERO

    @property
    def revalidate_always(self) -> bool:
        """``no-cache`` (§5.2.2.4): stored, but validated before every use."""
        return self.directives.revalidate_always

    @property
    def never_stale(self) -> bool:
        """Never served stale: must-revalidate (§5.2.2.2), and in a shared cache also
        proxy-revalidate (§5.2.2.8) and s-maxage, which implies it (§5.2.2.10)."""
        directives = self.directives
        if directives.must_revalidate or directives.revalidate_always:
            return True
        return self.shared and (directives.proxy_revalidate or directives.s_maxage is not None)

    @property
    def omitted_fields(self) -> tuple[str, ...]:
        """Header fields a shared cache must not store: those ``private="..."`` names
        (§5.2.2.7); the rest of the response may be stored."""
        return self.directives.private_fields if self.shared else ()
