"""The cache policy: expiry values and rules, Cache-Control parsing, per-request actions.

Everything here is pure: no I/O, and the current time is always a ``now=`` parameter.

- :mod:`vaultcache.policy.expiration`: ``expire_after`` values and per-URL rules
- :mod:`vaultcache.policy.directives`: Cache-Control, Pragma, Expires, Age, validators, Vary
"""
