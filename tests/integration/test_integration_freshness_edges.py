"""Parsing and freshness edges of RFC 9111, with ``cache_control=True`` and in the rfc9111 modes.

Each behaviour has its own test here, beside the conformance suite: Age lists (§5.1), the
Expires lifetime counted from Date and the age (§4.2.1, §4.2.3), strict Expires dates (§5.3),
invalidation by extension methods (§4.4) and heuristics only for the codes RFC 9110 lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests_mock

URL = "http://origin.test/resource"
MODES = [{"cache_control": True}, {"rfc9111": "private"}, {"rfc9111": "shared"}]


def _session(
    make_session: Any, mode: Mapping[str, Any], headers: Mapping[str, str], status: int = 200
) -> tuple[Any, requests_mock.Adapter]:
    session = make_session(backend="memory", **mode)
    adapter = requests_mock.Adapter()
    session.mount("http://origin.test/", adapter)
    adapter.register_uri("GET", URL, status_code=status, headers=dict(headers), text="body")
    return session, adapter


def _served(session: Any, adapter: requests_mock.Adapter) -> bool:
    before = adapter.call_count
    response = session.get(URL)
    return bool(response.from_cache) and adapter.call_count == before


def _date(clock: Any, seconds: float = 0) -> str:
    return format_datetime(clock.current + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("age", "fresh"), [("0, 7200", True), ("7200, 0", False)])
def test_an_age_list_counts_by_its_first_member(
    make_session: Any, clock: Any, mode: Any, age: str, fresh: bool
) -> None:
    """§5.1: ``Age: 0, old`` (or two Age lines, which arrive joined) is read as its first."""
    headers = {"Date": _date(clock), "Cache-Control": "max-age=3600", "Age": age}
    session, adapter = _session(make_session, mode, headers)
    session.get(URL)

    assert _served(session, adapter) is fresh


@pytest.mark.parametrize("mode", MODES)
def test_the_expires_lifetime_counts_from_date_not_from_now(
    make_session: Any, clock: Any, mode: Any
) -> None:
    """§4.2.1: lifetime = Expires - Date; an origin clock a day fast gives one hour, not 25."""
    headers = {"Date": _date(clock, 86400), "Expires": _date(clock, 86400 + 3600)}
    session, adapter = _session(make_session, mode, headers)
    session.get(URL)
    assert _served(session, adapter)

    clock.advance(2 * 3600)

    assert not _served(session, adapter)


@pytest.mark.parametrize("mode", MODES)
def test_an_age_larger_than_the_expires_lifetime_is_stale(
    make_session: Any, clock: Any, mode: Any
) -> None:
    """§4.2.3: the current age (Age, or the apparent age from Date) counts against Expires."""
    headers = {"Date": _date(clock), "Expires": _date(clock, 3600), "Age": "7200"}
    session, adapter = _session(make_session, mode, headers)
    session.get(URL)

    assert not _served(session, adapter)


@pytest.mark.parametrize("mode", MODES)
def test_an_old_date_with_a_far_expires_is_stale(make_session: Any, clock: Any, mode: Any) -> None:
    """An origin clock a day slow: Expires one hour after its Date is already past."""
    headers = {"Date": _date(clock, -86400), "Expires": _date(clock, -86400 + 3600)}
    session, adapter = _session(make_session, mode, headers)
    session.get(URL)

    assert not _served(session, adapter)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "expires",
    [
        lambda clock: _date(clock, 3600).replace("GMT", "UTC"),
        lambda clock: _date(clock, 3600).replace(" ", "  "),
    ],
    ids=["UTC", "extra-spaces"],
)
def test_an_expires_not_in_the_exact_format_is_already_expired(
    make_session: Any, clock: Any, mode: Any, expires: Any
) -> None:
    headers = {"Date": _date(clock), "Expires": expires(clock)}
    session, adapter = _session(make_session, mode, headers)
    session.get(URL)

    assert not _served(session, adapter)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "invalidated"), [(200, True), (500, False)])
def test_an_extension_method_invalidates_like_other_unsafe_methods(
    make_session: Any, clock: Any, mode: Any, status: int, invalidated: bool
) -> None:
    """§4.4: any unsafe method, M-SEARCH included, with a non-error status."""
    session, adapter = _session(make_session, mode, {"Cache-Control": "max-age=3600"})
    adapter.register_uri("M-SEARCH", URL, status_code=status)
    session.get(URL)

    session.request("M-SEARCH", URL)

    assert _served(session, adapter) is not invalidated


@pytest.mark.parametrize(("status", "heuristic"), [(404, True), (410, True), (500, False)])
def test_the_heuristic_applies_only_to_heuristically_cacheable_codes(
    make_session: Any, clock: Any, status: int, heuristic: bool
) -> None:
    """RFC 9110 §15.1 lists the codes. With cache_control=True, another code keeps the
    lifetime of responses that give none, expire_after's (never, by default)."""
    headers = {"Date": _date(clock), "Last-Modified": _date(clock, -10 * 86400)}
    mode = {"cache_control": True, "allowable_codes": [status]}
    session, adapter = _session(make_session, mode, headers, status=status)
    session.get(URL)
    clock.advance(2 * 86400)  # past the heuristic lifetime: a tenth of ten days

    assert _served(session, adapter) is not heuristic
