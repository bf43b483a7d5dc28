"""RFC 9111 §3.2: a 304 updates the stored header fields, except those it must not."""

from __future__ import annotations

from typing import Any

import requests_mock


def test_a_304_replaces_stored_fields_but_not_length_encoding_or_hop_by_hop(
    make_session: Any,
) -> None:
    session = make_session(backend="memory")
    adapter = requests_mock.Adapter()
    session.mount("http://origin.test/", adapter)
    adapter.register_uri(
        "GET",
        "http://origin.test/a",
        content=b"0123456789",
        headers={"ETag": '"v1"', "X-Version": "1", "Content-Length": "10", "Content-Type": "a/b"},
    )
    session.get("http://origin.test/a")
    adapter.register_uri(
        "GET",
        "http://origin.test/a",
        status_code=304,
        headers={
            "ETag": '"v1"',
            "X-Version": "2",
            "Content-Length": "0",
            "Connection": "X-Per-Hop",
            "X-Per-Hop": "1",
        },
    )

    refreshed = session.get("http://origin.test/a", refresh=True)
    stored = session.get("http://origin.test/a")

    assert refreshed.revalidated
    for response in (refreshed, stored):
        assert response.status_code == 200
        assert response.content == b"0123456789"
        assert response.headers["X-Version"] == "2"
        assert response.headers["Content-Length"] == "10"
        assert response.headers["Content-Type"] == "a/b"
        assert "X-Per-Hop" not in response.headers
        assert "Connection" not in response.headers
