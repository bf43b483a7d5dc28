"""CacheSettings: the session-wide options that decide what is cached and for how long."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from vaultcache.errors import ConfigError
from vaultcache.policy.expiration import validate_expiration

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


def _bool_or_seconds(value: Any) -> bool | float:
    if isinstance(value, bool):
        return value
    if isinstance(value, timedelta) and value >= timedelta(0):
        return value.total_seconds()  # the maximum staleness, as requests-cache takes it
    if isinstance(value, int | float) and value >= 0:
        return float(value)
    raise ConfigError(
        f"expected True, False, seconds >= 0 or a timedelta, got {type(value).__name__}",
        key="stale_if_error / stale_while_revalidate",
    )


def _expiration(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    validate_expiration(value, name=attribute.name)


@attrs.define(kw_only=True)
class CacheSettings:
    """Session-wide cache behaviour; each field is a CachedSession keyword of the same name.

    `read_only` reads the cache but never writes it; `autoclose` closes the cache with the
    session (False: the cache outlives it, for a cache shared by sessions).
    """

    expire_after: Any = attrs.field(default=-1, validator=_expiration)
    urls_expire_after: Mapping[str | re.Pattern[str], Any] | None = None
    cache_control: bool = False
    allowable_codes: tuple[int, ...] = attrs.field(default=DEFAULT_CODES, converter=_codes)
    allowable_methods: tuple[str, ...] = attrs.field(default=DEFAULT_METHODS, converter=_upper)
    always_revalidate: bool = False
    ignored_parameters: tuple[str, ...] | None = None
    match_headers: tuple[str, ...] | bool = False
    share_credentials: bool = False
    filter_fn: Callable[[Any], bool] | None = None
    key_fn: Callable[..., str] | None = None
    stale_if_error: bool | float = attrs.field(default=False, converter=_bool_or_seconds)
    stale_while_revalidate: bool | float = attrs.field(default=False, converter=_bool_or_seconds)
    disabled: bool = False
    read_only: bool = False
    autoclose: bool = True
    only_if_cached: bool = False


@attrs.define(kw_only=True)
class RequestOptions:
    """Per-request options; they never reach the origin as headers."""

    expire_after: Any = None
    only_if_cached: bool = False
    refresh: bool = False
    force_refresh: bool = False

    def given_to_send(
        self, *, expire_after: Any, only_if_cached: bool, refresh: bool, force_refresh: bool
    ) -> RequestOptions:
        """These options with those passed to ``send()`` on top (an option given there wins)."""
        return RequestOptions(
            expire_after=self.expire_after if expire_after is None else expire_after,
            only_if_cached=self.only_if_cached or only_if_cached,
            refresh=self.refresh or refresh,
            force_refresh=self.force_refresh or force_refresh,
        )
