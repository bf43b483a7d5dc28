"""The rfc9111 modes: RFC 9111 as a private or a shared cache, and CDN-Cache-Control (RFC 9213).

Each test drives a CachedSession on a requests-mock origin with a frozen clock; "served"
means answered from the cache without reaching the origin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests_mock

URL = "http://origin.test/resource"

Origin = Callable[..., Any]


@pytest.fixture
def origin(make_session: Any, clock: Any) -> Origin:
    """Build a session in the given mode whose origin answers URL with the given headers."""

    def build(
        headers: Mapping[str, str] | None = None, status: int = 200, **session_kwargs: Any
    ) -> tuple[Any, requests_mock.Adapter]:
        session = make_session(backend="memory", **session_kwargs)
        adapter = requests_mock.Adapter()
        session.mount("http://origin.test/", adapter)
        stamped = {"Date": format_datetime(clock.current, usegmt=True), **(headers or {})}
        adapter.register_uri("GET", URL, status_code=status, headers=stamped, text="body")
        return session, adapter

    return build


def _served(session: Any, adapter: requests_mock.Adapter, **kwargs: Any) -> bool:
    """True when a GET of URL was answered from the cache (the origin was not asked)."""
    before = adapter.call_count
    response = session.get(URL, **kwargs)
    return bool(response.from_cache) and adapter.call_count == before


def _http_date(moment: Any) -> str:
    return format_datetime(moment, usegmt=True)


# -- both modes: the origin's headers decide ------------------------------------------------------


@pytest.mark.parametrize("mode", ["private", "shared"])
def test_a_response_without_freshness_is_stale_at_once(origin: Origin, mode: str) -> None:
    session, adapter = origin({"ETag": '"v1"'}, rfc9111=mode)
    session.get(URL)

    assert not _served(session, adapter)
    assert adapter.last_request.headers["If-None-Match"] == '"v1"'  # revalidated


def test_without_a_mode_such_a_response_is_kept_as_before(origin: Origin) -> None:
    session, adapter = origin({"ETag": '"v1"'}, cache_control=True)
    session.get(URL)

    assert _served(session, adapter)


@pytest.mark.parametrize("status", [203, 204, 300, 301, 308, 404, 405, 410, 414, 501])
def test_heuristically_cacheable_codes_are_stored_and_reused(
    origin: Origin, clock: Any, status: int
) -> None:
    """RFC 9111 §4.2.2 with RFC 9110 §15.1: a tenth of the time since Last-Modified."""
    modified = _http_date(clock.current - timedelta(days=10))
    session, adapter = origin({"Last-Modified": modified}, status=status, rfc9111="private")
    session.get(URL)

    assert _served(session, adapter)
    clock.advance(timedelta(days=1, hours=1).total_seconds())
    assert not _served(session, adapter)


@pytest.mark.parametrize("status", [201, 202, 403, 500, 502, 503, 599])
def test_other_codes_get_no_heuristic_lifetime(origin: Origin, clock: Any, status: int) -> None:
    modified = _http_date(clock.current - timedelta(days=10))
    session, adapter = origin({"Last-Modified": modified}, status=status, rfc9111="private")
    session.get(URL)

    assert not _served(session, adapter)


@pytest.mark.parametrize("status", [302, 307, 400, 500, 599])
def test_any_final_code_with_explicit_freshness_is_stored(origin: Origin, status: int) -> None:
    session, adapter = origin({"Cache-Control": "max-age=60"}, status=status, rfc9111="private")
    session.get(URL)

    assert _served(session, adapter)


def test_a_partial_response_is_never_stored(origin: Origin) -> None:
    headers = {"Cache-Control": "max-age=60", "Content-Range": "bytes 0-3/10"}
    session, adapter = origin(headers, status=206, rfc9111="private")
    session.get(URL)

    assert not _served(session, adapter)


def test_must_understand_stores_only_known_codes(origin: Origin) -> None:
    """§5.2.2.3: must-understand overrides no-store, but only for an understood code."""
    headers = {"Cache-Control": "max-age=60, must-understand, no-store"}
    session, adapter = origin(headers, status=200, rfc9111="private")
    session.get(URL)
    assert _served(session, adapter)

    session, adapter = origin(headers, status=599, rfc9111="private")
    session.get(URL)
    assert not _served(session, adapter)


def test_allowable_codes_still_narrows_what_is_stored(origin: Origin) -> None:
    headers = {"Cache-Control": "max-age=60"}
    session, adapter = origin(headers, status=404, rfc9111="private", allowable_codes=[200])
    session.get(URL)

    assert not _served(session, adapter)


def test_expire_after_only_caps_the_origins_lifetime(origin: Origin, clock: Any) -> None:
    session, adapter = origin({"Cache-Control": "max-age=3600"}, rfc9111="private", expire_after=60)
    session.get(URL)

    assert _served(session, adapter)
    clock.advance(61)
    assert not _served(session, adapter)


def test_the_origins_stale_while_revalidate_is_honoured(origin: Origin, clock: Any) -> None:
    headers = {"Cache-Control": "max-age=10, stale-while-revalidate=60"}
    session, _ = origin(headers, rfc9111="private")
    session.get(URL)
    clock.advance(30)

    response = session.get(URL)

    assert response.from_cache  # stale, served at once; the refresh runs in the background


# -- private mode ---------------------------------------------------------------------------------


def test_private_mode_ignores_s_maxage(origin: Origin, clock: Any) -> None:
    session, adapter = origin({"Cache-Control": "max-age=1, s-maxage=3600"}, rfc9111="private")
    session.get(URL)
    clock.advance(2)

    assert not _served(session, adapter)


def test_private_mode_stores_private_responses(origin: Origin) -> None:
    session, adapter = origin({"Cache-Control": "private, max-age=60"}, rfc9111="private")
    session.get(URL)

    assert _served(session, adapter)


# -- shared mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cache_control", ["max-age=1, s-maxage=3600", "s-maxage=3600, max-age=1", "max-age=7200"]
)
def test_shared_mode_prefers_s_maxage(origin: Origin, clock: Any, cache_control: str) -> None:
    session, adapter = origin(
        {"Cache-Control": cache_control.replace("max-age=7200", "max-age=7200, s-maxage=3600")},
        rfc9111="shared",
    )
    session.get(URL)
    clock.advance(1800)
    assert _served(session, adapter)
    clock.advance(3600)
    assert not _served(session, adapter)


@pytest.mark.parametrize("cache_control", ["max-age=1, proxy-revalidate", "s-maxage=1"])
def test_shared_mode_never_serves_stale_when_proxy_revalidate_applies(
    origin: Origin, clock: Any, cache_control: str
) -> None:
    session, adapter = origin(
        {"Cache-Control": cache_control}, rfc9111="shared", stale_if_error=True
    )
    session.get(URL)
    clock.advance(5)
    adapter.register_uri("GET", URL, status_code=503)

    assert session.get(URL).status_code == 503


def test_private_mode_may_serve_stale_despite_proxy_revalidate(origin: Origin, clock: Any) -> None:
    session, adapter = origin(
        {"Cache-Control": "max-age=1, proxy-revalidate"}, rfc9111="private", stale_if_error=True
    )
    session.get(URL)
    clock.advance(5)
    adapter.register_uri("GET", URL, status_code=503)

    assert session.get(URL).status_code == 200


def test_shared_mode_never_stores_private_responses(origin: Origin) -> None:
    session, adapter = origin({"Cache-Control": "private, max-age=60"}, rfc9111="shared")
    session.get(URL)

    assert not _served(session, adapter)


def test_shared_mode_stores_a_qualified_private_response_without_those_fields(
    origin: Origin,
) -> None:
    headers = {"Cache-Control": 'private="Set-Cookie", max-age=60', "Set-Cookie": "a=b"}
    session, _ = origin(headers, rfc9111="shared")
    first = session.get(URL)

    cached = session.get(URL)

    assert first.headers["Set-Cookie"] == "a=b"  # the requester gets the origin's response
    assert cached.from_cache
    assert "Set-Cookie" not in cached.headers


@pytest.mark.parametrize(
    ("cache_control", "stored"),
    [
        ("max-age=60", False),
        ("max-age=60, public", True),
        ("s-maxage=60", True),
        ("max-age=60, must-revalidate", True),
    ],
)
def test_shared_mode_stores_a_response_to_authorization_only_when_allowed(
    origin: Origin, cache_control: str, stored: bool
) -> None:
    """§3.5: a shared cache reuses such a response only with public, s-maxage, must-revalidate."""
    session, adapter = origin({"Cache-Control": cache_control}, rfc9111="shared")
    session.get(URL, headers={"Authorization": "Bearer alice"})

    assert _served(session, adapter, headers={"Authorization": "Bearer alice"}) is stored


def test_shared_mode_serves_a_public_response_to_every_credential(origin: Origin) -> None:
    session, adapter = origin({"Cache-Control": "max-age=60, public"}, rfc9111="shared")
    session.get(URL, headers={"Authorization": "Bearer alice"})

    assert _served(session, adapter, headers={"Authorization": "Bearer bob"})
    assert _served(session, adapter)


def test_shared_mode_keeps_cookies_apart(origin: Origin) -> None:
    """Only Authorization leaves the key: other credentials still separate users."""
    session, adapter = origin({"Cache-Control": "max-age=60, public"}, rfc9111="shared")
    session.get(URL, headers={"Cookie": "session=alice"})

    assert not _served(session, adapter, headers={"Cookie": "session=bob"})


def test_private_mode_keeps_credentials_apart(origin: Origin) -> None:
    session, adapter = origin({"Cache-Control": "max-age=60, public"}, rfc9111="private")
    session.get(URL, headers={"Authorization": "Bearer alice"})

    assert not _served(session, adapter, headers={"Authorization": "Bearer bob"})
    assert _served(session, adapter, headers={"Authorization": "Bearer alice"})


# -- CDN-Cache-Control (RFC 9213) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "stored"),
    [
        ({"CDN-Cache-Control": "max-age=60", "Cache-Control": "no-store"}, True),
        ({"CDN-Cache-Control": "no-store", "Cache-Control": "max-age=60"}, False),
        ({"CDN-Cache-Control": "private", "Cache-Control": "max-age=60"}, False),
        ({"CDN-Cache-Control": "max-age=0", "Cache-Control": "max-age=60"}, False),
        ({"CDN-Cache-Control": "max-age=60, &&&", "Cache-Control": "no-store"}, False),
        ({"CDN-Cache-Control": 'max-age="60"', "Cache-Control": "max-age=60"}, True),
    ],
)
def test_cdn_cache_control_takes_precedence_when_valid(
    origin: Origin, headers: dict[str, str], stored: bool
) -> None:
    session, adapter = origin(headers, rfc9111="shared", cdn_cache_control=True)
    session.get(URL)

    assert _served(session, adapter) is stored


def test_cdn_cache_control_ignores_expires(origin: Origin, clock: Any) -> None:
    headers = {"CDN-Cache-Control": "max-age=60", "Expires": "0"}
    session, adapter = origin(headers, rfc9111="shared", cdn_cache_control=True)
    session.get(URL)

    assert _served(session, adapter)


@pytest.mark.parametrize(
    "kwargs", [{"rfc9111": "shared"}, {"rfc9111": "private", "cdn_cache_control": True}]
)
def test_cdn_cache_control_is_ignored_unless_a_shared_cache_opts_in(
    origin: Origin, kwargs: dict[str, Any]
) -> None:
    session, adapter = origin(
        {"CDN-Cache-Control": "max-age=60", "Cache-Control": "no-store"}, **kwargs
    )
    session.get(URL)

    assert not _served(session, adapter)


# -- ranges of a stored response ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "served_part"),
    [
        ({"rfc9111": "private"}, True),
        ({"rfc9111": "shared"}, True),
        ({"cache_control": True}, False),
    ],
)
def test_a_range_is_answered_from_a_stored_complete_response(
    origin: Origin, mode: dict[str, Any], served_part: bool
) -> None:
    session, _ = origin({"Cache-Control": "max-age=60"}, expire_after=60, **mode)
    session.get(URL)

    part = session.get(URL, headers={"Range": "bytes=1-2"})

    assert part.from_cache
    if served_part:
        assert (part.status_code, part.content) == (206, b"od")
        assert part.headers["Content-Range"] == "bytes 1-2/4"
    else:  # as before the rfc9111 modes: the whole stored response (a server may ignore Range)
        assert (part.status_code, part.content) == (200, b"body")
