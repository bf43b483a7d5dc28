"""ResponseRules: RFC 9111 §3 (storing) and §4.2 (freshness) as a private or a shared cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from vaultcache.policy.freshness import (
    HEURISTICALLY_CACHEABLE,
    ResponseRules,
    explicit_expires_lifetime,
    heuristic_lifetime,
)
from vaultcache.policy.settings import CacheSettings

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
PRIVATE = CacheSettings(rfc9111="private")
SHARED = CacheSettings(rfc9111="shared")
CDN = CacheSettings(rfc9111="shared", cdn_cache_control=True)


def _date(seconds: float) -> str:
    return format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)


def _rules(cache_control: str, settings: CacheSettings = PRIVATE) -> ResponseRules:
    return ResponseRules.of({"Cache-Control": cache_control}, settings)


@pytest.mark.parametrize(
    ("cache_control", "status", "private", "shared"),
    [
        ("", 200, True, True),  # heuristically cacheable
        ("", 302, False, False),  # no reason to store
        ("max-age=60", 302, True, True),
        ("no-store, max-age=60", 200, False, False),
        ("must-understand, no-store, max-age=60", 200, True, True),
        ("must-understand, max-age=60", 599, False, False),
        ("private, max-age=60", 200, True, False),
        ('private="set-cookie"', 302, True, False),  # a reason to store for a private cache only
        ("public", 302, True, True),
        ("s-maxage=60", 302, False, True),
        ("max-age=60", 206, False, False),
        ("max-age=60", 304, False, False),
        ("max-age=60", 103, False, False),
    ],
)
def test_storable(cache_control: str, status: int, private: bool, shared: bool) -> None:
    headers = {"Cache-Control": cache_control}
    assert _rules(cache_control).storable(status, headers, authorization=False) is private
    assert _rules(cache_control, SHARED).storable(status, headers, authorization=False) is shared


@pytest.mark.parametrize(
    ("cache_control", "shared"),
    [("max-age=60", False), ("public", True), ("s-maxage=1", True), ("must-revalidate", True)],
)
def test_authorization_in_a_shared_cache(cache_control: str, shared: bool) -> None:
    """§3.5; a private cache is not bound by it."""
    headers = {"Cache-Control": cache_control}
    assert _rules(cache_control, SHARED).storable(200, headers, authorization=True) is shared
    assert _rules(cache_control).storable(200, headers, authorization=True)


def test_lifetime_order() -> None:
    headers = {"Date": _date(0), "Expires": _date(30), "Cache-Control": "max-age=20, s-maxage=10"}
    shared = ResponseRules.of(headers, SHARED).lifetime(headers, 200, response_time=NOW)
    private = ResponseRules.of(headers, PRIVATE).lifetime(headers, 200, response_time=NOW)
    headers.pop("Cache-Control")
    expires = ResponseRules.of(headers, PRIVATE).lifetime(headers, 200, response_time=NOW)
    assert (shared, private, expires) == (
        timedelta(seconds=10),
        timedelta(seconds=20),
        timedelta(seconds=30),
    )


def test_a_targeted_field_replaces_cache_control_and_expires() -> None:
    headers = {"CDN-Cache-Control": "max-age=5", "Cache-Control": "no-store", "Expires": "0"}
    rules = ResponseRules.of(headers, CDN)
    assert rules.targeted
    assert rules.storable(200, headers, authorization=False)
    assert rules.lifetime(headers, 200, response_time=NOW) == timedelta(seconds=5)
    assert not ResponseRules.of(headers, SHARED).storable(200, headers, authorization=False)


def test_the_heuristic_needs_a_listed_code_or_public() -> None:
    headers = {"Date": _date(0), "Last-Modified": _date(-1000)}
    assert ResponseRules.of(headers, PRIVATE).lifetime(headers, 500, response_time=NOW) == (
        timedelta(0)
    )
    public = {**headers, "Cache-Control": "public"}
    assert ResponseRules.of(public, PRIVATE).lifetime(public, 500, response_time=NOW) == (
        timedelta(seconds=100)
    )
    assert 404 in HEURISTICALLY_CACHEABLE
    assert 500 not in HEURISTICALLY_CACHEABLE


@pytest.mark.parametrize(
    ("cache_control", "private", "shared"),
    [
        ("max-age=5", False, False),
        ("must-revalidate", True, True),
        ("no-cache", True, True),
        ("proxy-revalidate", False, True),
        ("s-maxage=5", False, True),
    ],
)
def test_never_stale(cache_control: str, private: bool, shared: bool) -> None:
    assert _rules(cache_control).never_stale is private
    assert _rules(cache_control, SHARED).never_stale is shared


def test_omitted_fields_only_in_a_shared_cache() -> None:
    assert _rules('private="Set-Cookie, X-A"', SHARED).omitted_fields == ("set-cookie", "x-a")
    assert _rules('private="Set-Cookie"').omitted_fields == ()


def test_expires_lifetime_counts_from_date() -> None:
    headers = {"Date": _date(-100), "Expires": _date(50)}
    assert explicit_expires_lifetime(headers, response_time=NOW) == timedelta(seconds=150)
    invalid_date = {"Date": "yesterday", "Expires": _date(50)}
    assert explicit_expires_lifetime(invalid_date, response_time=NOW) == timedelta(seconds=50)
    assert explicit_expires_lifetime({"Expires": "0"}, response_time=NOW) == timedelta(0)
    assert explicit_expires_lifetime({}, response_time=NOW) is None


def test_heuristic_lifetime() -> None:
    assert heuristic_lifetime({"Last-Modified": _date(-1000)}, response_time=NOW) == timedelta(
        seconds=100
    )
    assert heuristic_lifetime({"Last-Modified": _date(10)}, response_time=NOW) is None
    assert heuristic_lifetime({}, response_time=NOW) is None


def test_an_unknown_mode_is_a_config_error() -> None:
    from vaultcache.errors import ConfigError

    with pytest.raises(ConfigError, match="rfc9111"):
        CacheSettings(rfc9111="public")  # type: ignore[arg-type]
