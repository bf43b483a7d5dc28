"""The cache policy: expiry values and rules, Cache-Control parsing, per-request actions.

Everything here is pure: no I/O, and the current time is always a ``now=`` parameter.

- :mod:`vaultcache.policy.expiration`: ``expire_after`` values and per-URL rules
- :mod:`vaultcache.policy.directives`: Cache-Control, Pragma, Expires, Age, validators, Vary
- :mod:`vaultcache.policy.targeted`: CDN-Cache-Control (RFC 9213)
- :mod:`vaultcache.policy.freshness`: storing and freshness as RFC 9111's private or shared
  cache (the ``rfc9111`` modes)
- :mod:`vaultcache.policy.ranges`: the byte range a Range request gets of a stored response
- :mod:`vaultcache.policy.storable`, :mod:`vaultcache.policy.validation`: what of a response
  may be stored, and a client's own conditional request
- :mod:`vaultcache.policy.answers`, :mod:`vaultcache.policy.revalidation`,
  :mod:`vaultcache.policy.variants`, :mod:`vaultcache.policy.invalidation`: the outcomes the
  session carries out: what a hit answers, a 304 merged into the stored response, Vary
  variant keys (RFC 9111 §4.1), what an unsafe request invalidates (§4.4)
- :mod:`vaultcache.policy.actions`: the decisions for one request, from all of the above
"""
