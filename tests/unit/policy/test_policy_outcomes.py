"""The outcomes CacheActions hands the session: the answer to a hit, a 304 merged into the
stored response, the Vary variant to read, and what an unsafe request invalidates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.policy.actions import CacheActions
from vaultcache.policy.answers import gateway_timeout, hit_answer, not_modified, partial_content
from vaultcache.policy.invalidation import invalidated_lookups, invalidated_urls
from vaultcache.policy.revalidation import merge_not_modified, updated_fields
from vaultcache.policy.settings import CacheSettings, RequestOptions
from vaultcache.policy.variants import variant_key, varied_fields

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://example.org/page"


def _stored(headers: dict[str, str] | None = None, **fields: Any) -> CachedResponse:
    headers = {"Content-Type": "text/plain", "Content-Length": "10", **(headers or {})}
    fields.setdefault("request", CachedRequest("GET", URL, {"Accept": "text/plain"}))
    fields.setdefault("cache_key", "primary")
    return CachedResponse(
        url=URL,
        status_code=200,
        reason="OK",
        headers=headers,
        content=b"0123456789",
        created_at=NOW - timedelta(hours=1),
        **fields,
    )


def _response(status: int, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = b""
    response.url = URL
    return response


def _request(method: str = "GET", url: str = URL, **headers: str) -> requests.PreparedRequest:
    return requests.Request(method, url, headers=headers).prepare()


def _actions(request: requests.PreparedRequest | None = None, **settings: Any) -> CacheActions:
    return CacheActions.from_request(
        "primary",
        request or _request(),
        settings=CacheSettings(**settings),
        options=RequestOptions(),
        now=NOW,
        variant_key=lambda fields: "variant:" + ",".join(fields),
    )


# -- answers to a hit ---------------------------------------------------------------------------


def test_a_hit_is_the_stored_response_by_default() -> None:
    cached = _stored({"ETag": '"v1"'})
    assert hit_answer(cached, {"If-None-Match": '"v1"'}, CacheSettings()) is cached


def test_a_matching_validator_gets_a_304_when_headers_decide() -> None:
    cached = _stored({"ETag": '"v1"'})
    answer = _actions(_request(**{"If-None-Match": 'W/"v1"'}), cache_control=True).answer(cached)
    assert answer.status_code == 304
    assert answer.content == b""
    assert "Content-Length" not in answer.headers
    assert "Content-Type" not in answer.headers
    assert answer.headers["ETag"] == '"v1"'
    assert cached.status_code == 200  # the stored response is left as it is


def test_not_modified_drops_the_body_fields_from_both_header_views() -> None:
    answer = not_modified(_stored({"ETag": '"v1"', "Content-Encoding": "gzip"}))
    names = {name.lower() for name, _ in answer.header_fields}
    assert names == {"etag"}


def test_a_range_is_served_only_in_an_rfc9111_mode() -> None:
    cached = _stored()
    headers = {"Range": "bytes=2-4"}
    assert hit_answer(cached, headers, CacheSettings(cache_control=True)) is cached
    part = hit_answer(cached, headers, CacheSettings(rfc9111="private"))
    assert part.status_code == 206
    assert part.content == b"234"
    assert part.headers["Content-Range"] == "bytes 2-4/10"
    assert part.headers["Content-Length"] == "3"


def test_partial_content_of_the_last_byte() -> None:
    part = partial_content(_stored(), 9, 9)
    assert part.content == b"9"
    assert part.headers["Content-Range"] == "bytes 9-9/10"


def test_gateway_timeout_is_an_empty_504_for_the_request() -> None:
    request = _request()
    response = gateway_timeout(request, "primary")
    assert response.status_code == 504
    assert response.content == b""
    assert response.request is request
    assert response.cache_key == "primary"
    assert not response.from_cache


# -- a 304 merged into the stored response ------------------------------------------------------


def test_a_304_updates_headers_but_not_those_of_the_stored_body() -> None:
    cached = _stored({"ETag": '"v1"', "Cache-Control": "max-age=10"})
    merge_not_modified(
        cached,
        _response(
            304,
            {
                "ETag": '"v2"',
                "Cache-Control": "max-age=60",
                "Content-Length": "0",
                "Connection": "close",
                "X-New": "yes",
            },
        ),
    )
    assert cached.headers["ETag"] == '"v2"'
    assert cached.headers["Cache-Control"] == "max-age=60"
    assert cached.headers["Content-Length"] == "10"
    assert cached.headers["X-New"] == "yes"
    assert "Connection" not in cached.headers
    assert ("Content-Length", "10") in cached.header_fields
    assert ("X-New", "yes") in cached.header_fields


def test_updated_fields_replace_each_name_where_it_first_stood() -> None:
    stored = [("A", "1"), ("Set", "x"), ("B", "2"), ("set", "y")]
    updates = [("SET", "new1"), ("set", "new2"), ("C", "3")]
    assert updated_fields(stored, updates) == [
        ("A", "1"),
        ("SET", "new1"),
        ("set", "new2"),
        ("B", "2"),
        ("C", "3"),
    ]


def test_on_not_modified_renews_a_storable_entry() -> None:
    cached = _stored({"ETag": '"v1"'}, cache_key="old-key")
    actions = _actions(expire_after=60)
    assert actions.on_not_modified(cached, _response(304, {"ETag": '"v1"'}))
    assert cached.created_at == NOW
    assert cached.expires == NOW + timedelta(seconds=60)
    assert cached.cache_key == "primary"


def test_on_not_modified_keeps_a_redirected_entry_at_its_final_url() -> None:
    cached = _stored({"ETag": '"v1"'}, cache_key="final", redirect_keys=["primary"])
    assert _actions().on_not_modified(cached, _response(304))
    assert cached.cache_key == "final"


def test_on_not_modified_deletes_what_may_no_longer_be_stored() -> None:
    cached = _stored({"ETag": '"v1"'})
    assert not _actions(cache_control=True).on_not_modified(
        cached, _response(304, {"Cache-Control": "no-store"})
    )


# -- Vary variants ------------------------------------------------------------------------------


def test_varied_fields_ignore_vary_star() -> None:
    assert varied_fields(_response(200, {"Vary": "Accept, Accept-Language"})) == (
        "accept",
        "accept-language",
    )
    assert varied_fields(_response(200, {"Vary": "*"})) == ()
    assert varied_fields(_response(200)) == ()


def test_variant_key_is_none_when_it_adds_nothing() -> None:
    def key_for(fields: tuple[str, ...]) -> str:
        return "k" + "".join(fields)

    assert variant_key(_response(200, {"Vary": "Accept"}), "k", key_for) == "kaccept"
    assert variant_key(_response(200), "k", key_for) is None
    assert variant_key(_response(200, {"Vary": "Accept"}), "k", lambda fields: "k") is None


def test_variant_to_read_follows_a_primary_that_varies_otherwise() -> None:
    primary = _stored({"Vary": "Accept"}, variant_group="g")
    actions = _actions(_request(Accept="application/json"))
    assert actions.variant_to_read(primary) == "variant:accept"


def test_variant_to_read_is_none_for_a_matching_or_ungrouped_primary() -> None:
    matching = _stored({"Vary": "Accept"}, variant_group="g")
    assert _actions(_request(Accept="text/plain")).variant_to_read(matching) is None
    ungrouped = _stored({"Vary": "Accept"})
    assert _actions(_request(Accept="application/json")).variant_to_read(ungrouped) is None


# -- invalidation (RFC 9111 §4.4) ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "get"])
def test_safe_methods_invalidate_nothing(method: str) -> None:
    assert invalidated_urls(method, URL, _response(200)) == []


@pytest.mark.parametrize("status", [100, 199, 400, 404, 500])
def test_error_answers_invalidate_nothing(status: int) -> None:
    assert invalidated_urls("POST", URL, _response(status)) == []


def test_unsafe_methods_invalidate_the_target_and_same_origin_locations() -> None:
    response = _response(
        201,
        {"Location": "/new", "Content-Location": "https://other.example/elsewhere"},
    )
    assert invalidated_urls("M-SEARCH", URL, response) == [URL, "https://example.org/new"]


def test_invalidated_lookups_are_get_and_head_without_a_body() -> None:
    request = requests.Request("POST", URL, data=b"x", headers={"Accept": "a"}).prepare()
    lookups = invalidated_lookups(request, ["https://example.org/new"])
    assert [(r.method, r.url, r.body) for r in lookups] == [
        ("GET", "https://example.org/new", None),
        ("HEAD", "https://example.org/new", None),
    ]
    assert all(r.headers["Accept"] == "a" for r in lookups)
    assert request.method == "POST"  # the request itself is not changed


def test_invalidations_only_when_headers_decide() -> None:
    request = _request("DELETE")
    assert _actions(request).invalidations(request, _response(204)) == []
    lookups = _actions(request, cache_control=True).invalidations(request, _response(204))
    assert [r.method for r in lookups] == ["GET", "HEAD"]
