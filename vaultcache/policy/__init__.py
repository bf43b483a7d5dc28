"""The cache policy: expiry values and rules, Cache-Control parsing, per-request actions.

Everything here is pure: no I/O, and the current time is always a ``now=`` parameter.

- :mod:`vaultcache.policy.expiration`: ``expire_after`` values and per-URL rules
- :mod:`vaultcache.policy.directives`: Cache-Control, Pragma, Expires, Age, validators, Vary
- :mod:`vaultcache.policy.targeted`: CDN-Cache-Control (RFC 9213)
- :mod:`vaultcache.policy.freshness`: storing and freshness as RFC 9111's private or shared
  cache (the ``rfc9111`` modes)
- :mod:`vaultcache.policy.ranges`: the byte range a Range request gets of a stored response
- :mod:`vaultcache.policy.actions`: the decisions for one request, from all of the above
"""
