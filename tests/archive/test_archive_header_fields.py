"""Header fields as the origin sent them: kept apart and in order, while ``headers`` behaves as
in requests; redacted and revalidated together with ``headers``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
import requests_mock
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict

from vaultcache import CachedResponse
from vaultcache.models.response import joined_fields, received_fields
from vaultcache.session import CachedSession

SessionFactory = Callable[..., CachedSession]
COOKIES = [
    ("Set-Cookie", "session=abc123; Path=/; HttpOnly"),
    ("set-cookie", "theme=dark; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
]


def _stored(session: CachedSession, response: Any) -> CachedResponse:
    stored = session.cache.get_response(response.cache_key)
    assert isinstance(stored, CachedResponse)
    return stored


def _named(fields: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    wanted = {name.lower() for name in names}
    return [(name, value) for name, value in fields if name.lower() in wanted]


def test_repeated_fields_are_stored_apart_and_headers_join_them(
    make_session: SessionFactory, site: Any, old_key: str
) -> None:
    session = make_session("fields", [old_key])
    fresh = session.get(site.url("/login"), timeout=10)
    session.cookies.clear()  # a Cookie is a credential: it would key another entry
    hit = session.get(site.url("/login"), timeout=10)

    assert hit.from_cache
    stored = _stored(session, fresh)
    # Order and names as sent: Server and Date (http.server's), the route's, Content-Length.
    assert [name for name, _ in stored.header_fields] == [
        "Server", "Date", "Content-Type", "Set-Cookie", "X-Mode", "set-cookie", "Content-Length",
    ]  # fmt: skip
    assert _named(stored.header_fields, "set-cookie", "x-mode") == [
        COOKIES[0], ("X-Mode", "a"), COOKIES[1],
    ]  # fmt: skip
    for response in (fresh, hit):
        assert response.headers["set-cookie"] == ", ".join(value for _, value in COOKIES)
        assert isinstance(response.headers, CaseInsensitiveDict)
    assert dict(hit.headers) == {**dict(fresh.headers), "Age": hit.headers["Age"]}
    assert joined_fields(stored.header_fields) == {k.lower(): v for k, v in stored.headers.items()}


def test_hop_by_hop_fields_are_dropped_from_both(
    make_session: SessionFactory, site: Any, old_key: str
) -> None:
    session = make_session("hop", [old_key])
    stored = _stored(session, session.get(site.url("/hop-by-hop"), timeout=10))

    names = {name.lower() for name, _ in stored.header_fields}
    assert not names & {"connection", "x-private", "keep-alive"}
    assert not {name.lower() for name in stored.headers} & {"connection", "x-private"}
    assert _named(stored.header_fields, "x-kept") == [("X-Kept", "1"), ("X-Kept", "2")]
    assert stored.headers["X-Kept"] == "1, 2"


def test_location_fields_are_redacted_in_both(
    make_session: SessionFactory, site: Any, old_key: str
) -> None:
    session = make_session("redact", [old_key])
    stored = _stored(session, session.get(site.url("/to-secret?api_key=s3cret"), timeout=10))

    (hop,) = stored.history
    fields = dict(_named(hop.header_fields, "location", "content-location"))
    assert fields == {
        "Location": "/landing?api_key=REDACTED",
        "Content-Location": "/c?api_key=REDACTED",
    }
    assert hop.headers["Location"] == fields["Location"]
    assert "s3cret" not in repr(stored.header_fields) + repr(hop.header_fields)


def test_a_304_updates_headers_and_fields_alike(
    make_session: SessionFactory, site: Any, old_key: str
) -> None:
    session = make_session("revalidate", [old_key])
    session.get(site.url("/revalidate"), timeout=10)
    session.cookies.clear()

    revalidated = session.get(site.url("/revalidate"), timeout=10, refresh=True)

    assert revalidated.revalidated
    stored = _stored(session, revalidated)
    # X-Tag's two new fields stand where the old one stood; the cookies are untouched.
    assert _named(stored.header_fields, "x-tag", "set-cookie", "etag") == [
        ("ETag", '"v1"'), ("X-Tag", "two"), ("X-Tag", "three"), *COOKIES,
    ]  # fmt: skip
    assert stored.headers["X-Tag"] == "two, three"
    assert joined_fields(stored.header_fields) == {k.lower(): v for k, v in stored.headers.items()}


def test_responses_not_from_the_network_use_their_headers(
    make_session: SessionFactory, old_key: str
) -> None:
    session = make_session("mocked", [old_key])
    with requests_mock.Mocker() as mock:
        mock.get("http://mocked.test/a", text="a", headers={"X-One": "1", "Content-Type": "t/p"})
        stored = _stored(session, session.get("http://mocked.test/a"))

    assert _named(stored.header_fields, "x-one", "content-type") == [
        ("X-One", "1"), ("Content-Type", "t/p"),
    ]  # fmt: skip

    built = requests.Response()
    built.status_code, built.headers = 200, CaseInsensitiveDict({"A": "1", "B": "2"})
    assert received_fields(built) == [("A", "1"), ("B", "2")]


def test_headers_changed_after_receipt_win_over_the_raw_fields(
    make_session: SessionFactory, site: Any, old_key: str
) -> None:
    response = requests.get(site.url("/login"), timeout=10)
    assert _named(received_fields(response), "set-cookie") == COOKIES

    response.headers["X-Mode"] = "changed by a hook"

    assert ("X-Mode", "changed by a hook") in received_fields(response)
    assert ("Set-Cookie", COOKIES[0][1]) not in received_fields(response)


def test_a_hand_built_response_derives_its_fields() -> None:
    response = CachedResponse(status_code=200, headers={"A": "1", "b": "2"})
    assert response.header_fields == [("A", "1"), ("b", "2")]
    given = CachedResponse(headers={"A": "1, 2"}, header_fields=[("A", "1"), ("A", "2")])
    assert CachedResponse.from_response(given).header_fields == [("A", "1"), ("A", "2")]


def test_without_http_clients_message_urllib3s_fields_are_used() -> None:
    raw = urllib3.HTTPResponse(
        body=b"",
        headers=HTTPHeaderDict([("A", "1"), ("B", "2"), ("a", "3")]),
        preload_content=False,
    )
    response = requests.Response()
    response.raw, response.headers = raw, CaseInsensitiveDict(raw.headers)

    # urllib3 keeps repeated fields apart, grouped under the first of their name.
    assert received_fields(response) == [("A", "1"), ("A", "3"), ("B", "2")]
    assert response.headers["a"] == "1, 3"


def test_a_streamed_response_is_stored_with_its_fields(
    make_session: SessionFactory, site: Any, old_key: str
) -> None:
    session = make_session("streamed", [old_key])
    response = session.get(site.url("/login"), timeout=10, stream=True)
    assert b"".join(response.iter_content(1)) == b"ok"

    stored = _stored(session, response)
    assert _named(stored.header_fields, "set-cookie") == COOKIES
