"""The options of the ``redis`` backend, checked so that a typo is an error, not a default.

Every problem is a :class:`vaultcache.ConfigError` naming ``backend.redis.<option>``. A
connection URL may hold a password, so no message ever shows a URL; :func:`safe_location`
gives the part that may be shown (scheme, host, port, database).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from vaultcache.plugin import ConfigError, check_options

__all__ = [
    "DEFAULT_TTL_GRACE",
    "DEFAULT_URL",
    "OPTIONS",
    "URL_VARIABLE",
    "RedisOptions",
    "check_prefix",
    "check_url",
    "parse_options",
    "safe_location",
]

BACKEND = "redis"
#: Where the server is when neither the ``url`` option nor ``VAULTCACHE_REDIS_URL`` says.
DEFAULT_URL = "redis://localhost:6379/0"
#: Environment variable read for the URL when the ``url`` option is not given: it keeps a
#: password out of config files.
URL_VARIABLE = "VAULTCACHE_REDIS_URL"
#: Seconds an entry stays in Redis after it expires (see the README's "Expiry and TTLs").
DEFAULT_TTL_GRACE = 7 * 24 * 3600
DEFAULT_SOCKET_TIMEOUT = 5.0
_MAX_TIMEOUT = 3600.0
_MAX_PREFIX = 512
_SCHEMES = ("redis", "rediss", "unix")
OPTIONS = (
    "url",
    "prefix",
    "cluster",
    "use_ttl",
    "ttl_grace",
    "socket_timeout",
    "socket_connect_timeout",
)


@attrs.frozen
class RedisOptions:
    """The checked options of one ``redis`` backend."""

    url: str = attrs.field(repr=False)  # may hold a password
    prefix: str
    cluster: bool = False
    use_ttl: bool = True
    ttl_grace: float = DEFAULT_TTL_GRACE
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT
    socket_connect_timeout: float = DEFAULT_SOCKET_TIMEOUT

    @property
    def location(self) -> str:
        """The server as it may be shown: no user name or password."""
        return safe_location(self.url)


def parse_options(cache_name: str, options: Mapping[str, Any]) -> RedisOptions:
    """Check the backend options; `cache_name` gives the default key prefix."""
    check_options(BACKEND, options, OPTIONS)
    url = options.get("url")
    if url is None:
        url = os.environ.get(URL_VARIABLE) or DEFAULT_URL
        where = f"environment variable {URL_VARIABLE}" if os.environ.get(URL_VARIABLE) else None
    else:
        where = None
    prefix = options.get("prefix", f"vaultcache:{cache_name}:")
    return RedisOptions(
        url=check_url(url, where),
        prefix=check_prefix(prefix),
        cluster=_boolean("cluster", options.get("cluster", False)),
        use_ttl=_boolean("use_ttl", options.get("use_ttl", True)),
        ttl_grace=_seconds("ttl_grace", options.get("ttl_grace", DEFAULT_TTL_GRACE), zero=True),
        socket_timeout=_seconds(
            "socket_timeout", options.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT)
        ),
        socket_connect_timeout=_seconds(
            "socket_connect_timeout",
            options.get("socket_connect_timeout", DEFAULT_SOCKET_TIMEOUT),
        ),
    )


def check_url(url: object, where: str | None = None) -> str:
    """`url` if it is a redis://, rediss:// or unix:// URL; the message never shows it."""
    source = f" (from {where})" if where else ""
    if not isinstance(url, str):
        raise ConfigError(
            f"expected a URL{source}, got {type(url).__name__}",
            key="backend.redis.url",
            expected="redis://, rediss:// or unix:// URL",
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in _SCHEMES or not (parts.netloc or parts.path):
        raise ConfigError(
            f"not a redis://, rediss:// or unix:// URL{source}",
            key="backend.redis.url",
            expected="redis://[[user]:password@]host[:port][/db], rediss://... or unix://path",
        )
    return url


def check_prefix(prefix: object) -> str:
    """`prefix` if it is a usable key prefix.

    Braces decide Redis Cluster slots, so a prefix holds either none, or exactly one hash
    tag ``{...}`` (not empty), which then puts every key of the cache in one slot.
    """
    if not isinstance(prefix, str):
        raise ConfigError(
            f"expected text, got {type(prefix).__name__}",
            key="backend.redis.prefix",
            expected="string",
        )
    if not 0 < len(prefix) <= _MAX_PREFIX:
        raise ConfigError(
            f"a key prefix has 1 to {_MAX_PREFIX} characters", key="backend.redis.prefix"
        )
    opening, closing = prefix.count("{"), prefix.count("}")
    if opening or closing:
        start, end = prefix.find("{"), prefix.find("}")
        if opening != 1 or closing != 1 or end < start + 2:
            raise ConfigError(
                "braces in a key prefix must form one non-empty hash tag such as "
                "'{myapp}:' (it puts the whole cache in one Redis Cluster slot)",
                key="backend.redis.prefix",
            )
    return prefix


def safe_location(url: str) -> str:
    """The scheme, host, port and database of `url`, without credentials or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "redis server (unparsable URL)"
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"expected true or false, got {type(value).__name__}",
            key=f"backend.redis.{name}",
            expected="boolean",
        )
    return value


def _seconds(name: str, value: object, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"expected a number of seconds, got {type(value).__name__}",
            key=f"backend.redis.{name}",
            expected="number",
        )
    low_ok = value >= 0 if zero else value > 0
    if not (low_ok and math.isfinite(value) and value <= _limit(name)):
        bound = "at least 0" if zero else "more than 0"
        raise ConfigError(
            f"{value} is out of range: {bound} and at most {_limit(name):g} seconds",
            key=f"backend.redis.{name}",
            expected="number of seconds",
        )
    return float(value)


def _limit(name: str) -> float:
    # A grace period may be long (a year); a socket timeout longer than an hour is a mistake.
    return 366 * 24 * 3600.0 if name == "ttl_grace" else _MAX_TIMEOUT
