"""RFC 9111 §4.3.2: a client's own conditional request answered from a fresh stored response."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock

HEADERS = {
    "Cache-Control": "max-age=600",
    "ETag": 'W/"v1"',
    "Last-Modified": "Wed, 21 Oct 2026 07:28:00 GMT",
    "Content-Type": "text/plain",
}


@pytest.fixture
def session(make_session: Any) -> Any:
    made = make_session(backend="memory", cache_control=True)
    adapter = requests_mock.Adapter()
    made.mount("http://origin.test/", adapter)
    adapter.register_uri("GET", "http://origin.test/a", text="body", headers=HEADERS)
    made.get("http://origin.test/a")
    made.adapter = adapter
    return made


@pytest.mark.parametrize(
    "validators",
    [
        {"If-None-Match": '"v1"'},  # weak comparison: W/"v1" matches "v1"
        {"If-None-Match": '"v0", W/"v1"'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": "Wed, 21 Oct 2026 07:28:00 GMT"},
        {"If-Modified-Since": "Thu, 22 Oct 2026 00:00:00 GMT"},
    ],
)
def test_a_matching_validator_gets_a_304_from_the_cache(session: Any, validators: Any) -> None:
    response = session.get("http://origin.test/a", headers=validators)

    assert response.status_code == 304
    assert response.from_cache
    assert response.content == b""
    assert response.headers["ETag"] == 'W/"v1"'
    assert "Content-Type" not in response.headers
    assert session.adapter.call_count == 1


@pytest.mark.parametrize(
    "validators",
    [
        {"If-None-Match": '"v2"'},
        # If-None-Match decides alone, even when If-Modified-Since would match
        {"If-None-Match": '"v2"', "If-Modified-Since": "Thu, 22 Oct 2026 00:00:00 GMT"},
        {"If-Modified-Since": "Tue, 20 Oct 2026 00:00:00 GMT"},
        {"If-Modified-Since": "not a date"},
    ],
)
def test_other_validators_get_the_stored_response(session: Any, validators: Any) -> None:
    response = session.get("http://origin.test/a", headers=validators)

    assert response.status_code == 200
    assert response.from_cache
    assert response.text == "body"
