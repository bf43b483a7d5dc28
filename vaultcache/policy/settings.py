"""CacheSettings: the session-wide options that decide what is cached and for how long."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from vaultcache.cache_keys import DEFAULT_CREDENTIAL_PARAMETERS
from vaultcache.errors import ConfigError

__all__ = ["CacheSettings", "RequestOptions"]

DEFAULT_CODES = (200,)
DEFAULT_METHODS = ("GET", "HEAD")


def _upper(methods: Iterable[str]) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = [methods]
    return tuple(method.upper() for method in methods)


def _codes(codes: Iterable[int]) -> tuple[int, ...]:
    codes = tuple(codes)
    if not all(isinstance(code, int) and not isinstance(code, bool) for code in codes):
        raise ConfigError("allowable_codes must be integers", key="allowable_codes")
    return codes


def _names(names: Iterable[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """`names` as a tuple (one string is one name); None gives `default`."""
    if names is None:
        return default
    return (names,) if isinstance(names, str) else tuple(names)


def _credential_names(names: Iterable[str] | None) -> tuple[str, ...]:
    return _names(names, DEFAULT_CREDENTIAL_PARAMETERS)


def _ignored_names(names: Iterable[str] | None) -> tuple[str, ...]:
    return _names(names, ())


def _bool_or_seconds(value: Any) -> bool | float:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value >= 0:
        return float(value)
    raise ConfigError(
        f"expected True, False or seconds >= 0, got {type(value).__name__}",
        key="stale_if_error / stale_while_revalidate",
    )


@attrs.define(kw_only=True)
class CacheSettings:
    """Session-wide cache behaviour; each field is a CachedSession keyword of the same name."""

    expire_after: Any = -1
    urls_expire_after: Mapping[str, Any] | None = None
    cache_control: bool = False
    allowable_codes: tuple[int, ...] = attrs.field(default=DEFAULT_CODES, converter=_codes)
    allowable_methods: tuple[str, ...] = attrs.field(default=DEFAULT_METHODS, converter=_upper)
    always_revalidate: bool = False
    #: Names whose values are secrets: redacted, and mixed into the key as a keyed digest.
    credential_parameters: tuple[str, ...] = attrs.field(
        default=DEFAULT_CREDENTIAL_PARAMETERS, converter=_credential_names
    )
    #: Names left out of the key (a cache-buster, a request id), and redacted.
    ignored_parameters: tuple[str, ...] = attrs.field(default=(), converter=_ignored_names)
    match_headers: tuple[str, ...] | bool = False
    share_credentials: bool = False
    filter_fn: Callable[[Any], bool] | None = None
    key_fn: Callable[..., str] | None = None
    stale_if_error: bool | float = attrs.field(default=False, converter=_bool_or_seconds)
    stale_while_revalidate: bool | float = attrs.field(default=False, converter=_bool_or_seconds)
    disabled: bool = False

    @property
    def redacted_parameters(self) -> tuple[str, ...]:
        """Every name whose value is never stored: credentials and ignored parameters."""
        return self.credential_parameters + self.ignored_parameters


@attrs.define(kw_only=True)
class RequestOptions:
    """Per-request options; they never reach the origin as headers."""

    expire_after: Any = None
    only_if_cached: bool = False
    refresh: bool = False
    force_refresh: bool = False
