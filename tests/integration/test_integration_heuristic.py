"""RFC 9111 §4.2.2: heuristic freshness from Last-Modified when no lifetime is given."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import requests_mock

from vaultcache.policy.actions import HEURISTIC_FRACTION


def _session(make_session: Any, clock: Any, headers: dict[str, str], **options: Any) -> Any:
    session = make_session(backend="memory", **options)
    adapter = requests_mock.Adapter()
    session.mount("http://origin.test/", adapter)
    base = {
        "Date": format_datetime(clock.current, usegmt=True),
        "Last-Modified": format_datetime(clock.current - timedelta(days=10), usegmt=True),
    }
    adapter.register_uri("GET", "http://origin.test/a", text="a", headers={**base, **headers})
    session.get("http://origin.test/a")
    return session.get("http://origin.test/a")


def test_a_tenth_of_the_time_since_last_modified(make_session: Any, clock: Any) -> None:
    cached = _session(make_session, clock, {}, cache_control=True)

    assert HEURISTIC_FRACTION == 0.1
    assert cached.from_cache
    assert cached.expires == clock.current + timedelta(days=1)


def test_an_explicit_lifetime_wins(make_session: Any, clock: Any) -> None:
    cached = _session(make_session, clock, {"Cache-Control": "max-age=60"}, cache_control=True)

    assert cached.expires - clock.current <= timedelta(seconds=60)


def test_the_sessions_own_expire_after_wins(make_session: Any, clock: Any) -> None:
    cached = _session(make_session, clock, {}, cache_control=True, expire_after=30)

    assert cached.expires == clock.current + timedelta(seconds=30)


def test_no_heuristic_in_archival_mode(make_session: Any, clock: Any) -> None:
    assert _session(make_session, clock, {}).expires is None
