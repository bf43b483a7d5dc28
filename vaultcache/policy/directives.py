"""Parsing the caching headers of requests and responses: lenient, and never raising.

Headers come from the network and are untrusted: every parser here returns a value for any
input (``None`` or an empty result for garbage) and never raises. Where the RFCs let a cache
choose how to read a malformed or contradictory header, the choice is the most restrictive
reading, so a broken header can make the cache revalidate more often but never serve a
response longer than the origin allowed (RFC 9111 §4.2.1).

Covered: Cache-Control (RFC 9111 §5.2), Pragma (§5.4), Expires (§5.3), Age (§5.1),
HTTP-date (RFC 9110 §5.6.7), the validators ETag / Last-Modified and the conditional request
headers built from them (RFC 9111 §4.3.1), and Vary (RFC 9110 §12.5.5, RFC 9111 §4.1): each
in a module of its own (:mod:`.cache_control`, :mod:`.http_dates`, :mod:`.conditional`,
:mod:`.vary`, over :mod:`.header_syntax`), re-exported here.
"""

from __future__ import annotations

from vaultcache.policy.cache_control import (
    CacheDirectives,
    request_directives,
    response_directives,
)
from vaultcache.policy.conditional import Validators, conditional_headers, validators
from vaultcache.policy.header_syntax import MAX_DELTA_SECONDS, header_value
from vaultcache.policy.http_dates import (
    ALREADY_EXPIRED,
    parse_age,
    parse_expires,
    parse_http_date,
)
from vaultcache.policy.vary import VARY_ANY, parse_vary, vary_fields

__all__ = [
    "ALREADY_EXPIRED",
    "MAX_DELTA_SECONDS",
    "VARY_ANY",
    "CacheDirectives",
    "Validators",
    "conditional_headers",
    "header_value",
    "parse_age",
    "parse_expires",
    "parse_http_date",
    "parse_vary",
    "request_directives",
    "response_directives",
    "validators",
    "vary_fields",
]
