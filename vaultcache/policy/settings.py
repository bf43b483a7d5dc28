"""CacheSettings: the session-wide options that decide what is cached and for how long."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Final, Literal, TypeAlias

import attrs

from vaultcache.cache_keys import DEFAULT_CREDENTIAL_PARAMETERS
from vaultcache.errors import ConfigError
from vaultcache.policy.expiration import validate_expiration

__all__ = ["RFC9111_MODES", "CacheSettings", "RequestOptions", "Rfc9111Mode"]

DEFAULT_CODES = (200,)
DEFAULT_METHODS = ("GET", "HEAD")

Rfc9111Mode: TypeAlias = Literal["private", "shared"]
#: The values of ``rfc9111``: which kind of cache RFC 9111 describes (§1, "private cache"
#: and "shared cache").
RFC9111_MODES: Final = ("private", "shared")


def _upper(methods: Iterable[str]) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = [methods]
    return tuple(method.upper() for method in methods)


def _codes(codes: Iterable[int] | None) -> tuple[int, ...] | None:
    if codes is None:
        return None
    codes = tuple(codes)
    if not all(isinstance(code, int) and not isinstance(code, bool) for code in codes):
        raise ConfigError("allowable_codes must be integers", key="allowable_codes")
    return codes


def _mode(value: object) -> Rfc9111Mode | None:
    if value is None or value in RFC9111_MODES:
        return value
    raise ConfigError(
        f"rfc9111 must be 'private', 'shared' or None, got a {type(value).__name__}",
        key="rfc9111",
    )


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

    ``allowable_codes=None`` means the mode's own: 200 only, or with ``rfc9111`` every status
    code RFC 9111 §3 lets a cache store. ``cdn_cache_control`` applies in shared mode only.
    `read_only` reads the cache but never writes it; `autoclose` closes the cache with the
    session (False: the cache outlives it, for a cache shared by sessions).
    """

    expire_after: Any = attrs.field(default=-1, validator=_expiration)
    urls_expire_after: Mapping[str | re.Pattern[str], Any] | None = None
    cache_control: bool = False
    rfc9111: Rfc9111Mode | None = attrs.field(default=None, converter=_mode)
    cdn_cache_control: bool = False
    allowable_codes: tuple[int, ...] | None = attrs.field(default=None, converter=_codes)
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
    read_only: bool = False
    autoclose: bool = True
    only_if_cached: bool = False

    @property
    def http_semantics(self) -> bool:
        """True when the origin's caching headers decide (cache_control or an rfc9111 mode)."""
        return self.cache_control or self.rfc9111 is not None

    @property
    def shared(self) -> bool:
        """True in the shared-cache mode (RFC 9111 §1: a cache used by more than one user)."""
        return self.rfc9111 == "shared"

    @property
    def targeted_field(self) -> str | None:
        """The RFC 9213 targeted field this cache obeys (CDN-Cache-Control), if any."""
        return "CDN-Cache-Control" if self.shared and self.cdn_cache_control else None

    @property
    def shared_credential_headers(self) -> tuple[str, ...]:
        """Credential headers left out of cache keys: Authorization in shared mode, where
        RFC 9111 §3.5 stores a response to it only when any user may be served it."""
        return ("authorization",) if self.shared else ()

    def code_allowed(self, status: int) -> bool:
        """True when `status` is in allowable_codes (200 alone when it is left unset)."""
        if self.allowable_codes is None:
            return self.rfc9111 is not None or status in DEFAULT_CODES
        return status in self.allowable_codes

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

    def given_to_send(
        self, *, expire_after: Any, only_if_cached: bool, refresh: bool, force_refresh: bool
    ) -> RequestOptions:
        """These options with those passed to ``send()`` on top (an option given there wins)."""
        if expire_after is None and not (only_if_cached or refresh or force_refresh):
            return self
        return RequestOptions(
            expire_after=self.expire_after if expire_after is None else expire_after,
            only_if_cached=self.only_if_cached or only_if_cached,
            refresh=self.refresh or refresh,
            force_refresh=self.force_refresh or force_refresh,
        )
