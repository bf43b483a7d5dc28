"""RFC 9111 §4.4: a successful unsafe request invalidates what is stored for its URLs."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock


@pytest.fixture
def mocked(make_session: Any) -> tuple[Any, requests_mock.Adapter]:
    session = make_session(backend="memory", cache_control=True)
    adapter = requests_mock.Adapter()
    session.mount("http://origin.test/", adapter)
    session.mount("http://elsewhere.test/", adapter)
    for path in ("a", "b", "c"):
        adapter.register_uri("GET", f"http://origin.test/{path}", text=path)
    return session, adapter


def _stored(session: Any, url: str) -> bool:
    return bool(session.get(url, only_if_cached=True).status_code == 200)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_a_successful_unsafe_request_invalidates_its_url(mocked: Any, method: str) -> None:
    session, adapter = mocked
    adapter.register_uri(method, "http://origin.test/a", status_code=204)
    session.get("http://origin.test/a")
    session.get("http://origin.test/b")

    session.request(method, "http://origin.test/a")

    assert not _stored(session, "http://origin.test/a")
    assert _stored(session, "http://origin.test/b")


def test_location_and_content_location_on_the_same_origin_are_invalidated(mocked: Any) -> None:
    session, adapter = mocked
    adapter.register_uri(
        "POST",
        "http://origin.test/c",
        status_code=201,
        headers={"Location": "/a", "Content-Location": "http://elsewhere.test/b"},
    )
    for path in ("a", "b", "c"):
        session.get(f"http://origin.test/{path}")
    adapter.register_uri("GET", "http://elsewhere.test/b", text="other origin")
    session.get("http://elsewhere.test/b")

    session.post("http://origin.test/c", data=b"new")

    assert not _stored(session, "http://origin.test/c")
    assert not _stored(session, "http://origin.test/a")  # same-origin Location
    assert _stored(session, "http://origin.test/b")
    assert _stored(session, "http://elsewhere.test/b")  # another origin: untouched


def test_a_failed_unsafe_request_invalidates_nothing(mocked: Any) -> None:
    session, adapter = mocked
    adapter.register_uri("POST", "http://origin.test/a", status_code=500)
    session.get("http://origin.test/a")

    session.post("http://origin.test/a")

    assert _stored(session, "http://origin.test/a")


def test_archival_mode_keeps_responses_after_unsafe_requests(make_session: Any) -> None:
    session = make_session(backend="memory")
    adapter = requests_mock.Adapter()
    session.mount("http://origin.test/", adapter)
    session.mount("http://elsewhere.test/", adapter)
    adapter.register_uri("GET", "http://origin.test/a", text="a")
    adapter.register_uri("POST", "http://origin.test/a", status_code=204)
    session.get("http://origin.test/a")

    session.post("http://origin.test/a")

    assert _stored(session, "http://origin.test/a")
