"""RFC 9111 §3.1: connection-specific header fields are never stored or replayed."""

from __future__ import annotations

from typing import Any

import requests_mock

from vaultcache.policy.storable import storable_headers


def test_hop_by_hop_and_connection_named_fields_are_not_stored(make_session: Any) -> None:
    session = make_session(backend="memory")
    adapter = requests_mock.Adapter()
    session.mount("http://origin.test/", adapter)
    adapter.register_uri(
        "GET",
        "http://origin.test/a",
        text="a",
        headers={
            "Connection": "keep-alive, X-Per-Hop",
            "Keep-Alive": "timeout=5",
            "X-Per-Hop": "1",
            "Transfer-Encoding": "chunked",
            "ETag": '"v1"',
        },
    )
    session.get("http://origin.test/a")

    cached = session.get("http://origin.test/a")

    assert cached.from_cache
    assert cached.headers["ETag"] == '"v1"'
    for name in ("Connection", "Keep-Alive", "X-Per-Hop", "Transfer-Encoding"):
        assert name not in cached.headers
    stored = next(iter(session.cache.responses.values()))
    assert "Connection" not in stored.headers


def test_storable_headers_reads_every_connection_value() -> None:
    headers = {"connection": "Close, x-a", "X-A": "1", "X-B": "2", "Upgrade": "h2c", "TE": "x"}
    assert dict(storable_headers(headers)) == {"X-B": "2"}
