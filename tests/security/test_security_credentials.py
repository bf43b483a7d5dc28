"""Credentials in requests are redacted before storage; the key still separates users.

"Stored" here means the decrypted entry: every stage but the format is undone and the
plaintext bytes are searched, so a secret anywhere in the entry (URL, request headers or
body, redirect history, response headers) is found.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests_mock
from security_support import body_for

from vaultcache.cache_keys import DEFAULT_CREDENTIAL_PARAMETERS, REDACTED
from vaultcache.entries import parse_header
from vaultcache.entries.records import meta_context
from vaultcache.entries.stored import unframe

SECRETS = {
    "header": ({"Authorization": "Bearer s3cret-header-token"}, "s3cret-header-token"),
    "cookie": ({"Cookie": "session=s3cret-cookie"}, "s3cret-cookie"),
    "api-key": ({"X-API-Key": "s3cret-api-key"}, "s3cret-api-key"),
}


def _plaintext(session: Any, key: str) -> bytes:
    """The metadata record of the entry under `key`, decrypted and decompressed, before
    decoding (the bodies of these small responses are inside it)."""
    head = session.cache.storage[key]
    header, offset = parse_header(head)
    codec = session.cache.reader.codec_for(header)
    (record,) = unframe(head, offset, 1)
    return codec.open_chunk(record, meta_context(head[:offset]))


@pytest.mark.parametrize("where", sorted(SECRETS))
def test_credential_headers_are_not_stored(make_session: Any, origin: Any, where: str) -> None:
    """Attack: read the store (with the key: the decrypted entry) to find a user's token."""
    headers, secret = SECRETS[where]
    session = make_session()
    response = session.get(origin.url("/cred/header"), headers=headers)

    plain = _plaintext(session, response.cache_key)

    assert secret.encode() not in plain
    assert REDACTED.encode() in plain


def test_credentials_in_query_userinfo_and_bodies_are_not_stored(
    make_session: Any, origin: Any
) -> None:
    """Attack: find tokens sent in the query, URL userinfo, JSON and form bodies."""
    session = make_session(allowable_methods=("GET", "POST"))
    userinfo = origin.url("/cred/userinfo").replace("http://", "http://alice:s3cret-pass@")
    responses = [
        session.get(origin.url("/cred/query?api_key=s3cret-q1&Token=s3cret-q2&page=2")),
        session.get(userinfo),
        session.post(
            origin.url("/cred/json"),
            json={"user": "a", "password": "s3cret-b1", "deep": [{"client_secret": "s3cret-b2"}]},
        ),
        session.post(origin.url("/cred/form"), data={"client_secret": "s3cret-f1", "x": "1"}),
    ]
    basic = base64.b64encode(b"alice:s3cret-pass")

    for response in responses:
        assert response.status_code == 200
        plain = _plaintext(session, response.cache_key)
        assert b"s3cret" not in plain
        assert basic not in plain
        assert REDACTED.encode() in plain
    assert b"page=2" in _plaintext(session, responses[0].cache_key)  # the rest is kept


def test_redirect_history_and_location_are_redacted(make_session: Any, origin: Any) -> None:
    """Attack: find a token that travelled through a redirect (history and Location)."""
    session = make_session()
    response = session.get(
        origin.url("/redirect/cred/after?access_token=s3cret-r1"),
        headers={"Authorization": "Bearer s3cret-r2"},
    )

    assert response.history
    assert response.content == body_for("/cred/after?access_token=s3cret-r1")
    assert b"s3cret" not in _plaintext(session, response.cache_key)


@pytest.mark.parametrize("where", sorted(SECRETS))
def test_the_key_separates_users_by_credential(make_session: Any, origin: Any, where: str) -> None:
    """Attack: a second user asks for the same URL, hoping for the first user's response."""
    headers, secret = SECRETS[where]
    other = {name: value.replace(secret, "other-user-token") for name, value in headers.items()}
    session = make_session()
    url = origin.url("/cred/separate")
    first = session.get(url, headers=headers)

    second = session.get(url, headers=other)

    assert second.from_cache is False
    assert second.cache_key != first.cache_key
    assert session.get(url, headers=headers).from_cache
    assert session.get(url).cache_key not in {first.cache_key, second.cache_key}


def test_share_credentials_is_an_explicit_opt_in_to_sharing(make_session: Any, origin: Any) -> None:
    """With share_credentials=True users share responses; the token is still not stored."""
    session = make_session(share_credentials=True)
    url = origin.url("/cred/shared")
    first = session.get(url, headers={"Authorization": "Bearer s3cret-one"})

    second = session.get(url, headers={"Authorization": "Bearer s3cret-two"})

    assert second.from_cache
    assert second.content == body_for("/cred/shared")
    assert b"s3cret" not in _plaintext(session, first.cache_key)


def test_the_list_can_be_extended_keeping_the_defaults(make_session: Any, origin: Any) -> None:
    """The documented way: credential_parameters=(*DEFAULT_CREDENTIAL_PARAMETERS, "X-My-Token")."""
    session = make_session(
        credential_parameters=(*DEFAULT_CREDENTIAL_PARAMETERS, "X-My-Token"),
        allowable_methods=("GET", "POST"),
    )
    url = origin.url("/cred/extended?x-my-token=s3cret-q&api_key=s3cret-k")
    headers = {"X-My-Token": "s3cret-own", "Authorization": "Bearer s3cret-default"}
    first = session.get(url, headers=headers)
    posted = session.post(url, json={"x-my-token": "s3cret-json"}, headers=headers)

    for response in (first, posted):
        assert b"s3cret" not in _plaintext(session, response.cache_key)
    other_user = session.get(url, headers={**headers, "X-My-Token": "someone-else"})
    assert other_user.from_cache is False
    assert session.get(url, headers=headers).from_cache


@pytest.mark.parametrize("header", ["Authorization", "Cookie"])
@pytest.mark.parametrize("share", [True, False])
def test_vary_on_a_credential_header_compares_the_real_values(
    make_session: Any, header: str, share: bool
) -> None:
    """Attack: the origin varies on Authorization or Cookie; Bob asks with his own value and
    hopes the comparison of two redacted values lets him read Alice's response."""
    adapter = requests_mock.Adapter()
    adapter.register_uri(
        "GET",
        "http://example.com/vary",
        headers={"Vary": header},
        content=lambda request, context: request.headers[header].encode(),
    )
    session = make_session(share_credentials=share)
    session.mount("http://", adapter)

    alice = session.get("http://example.com/vary", headers={header: "alice-value"})
    bob = session.get("http://example.com/vary", headers={header: "bob-value"})
    alice_again = session.get("http://example.com/vary", headers={header: "alice-value"})

    assert alice.content == b"alice-value"
    assert bob.content == b"bob-value"
    assert alice_again.content == b"alice-value"
    assert alice_again.from_cache is True


@pytest.mark.parametrize("header", ["Location", "Content-Location"])
def test_headers_merged_from_a_304_are_redacted(make_session: Any, header: str) -> None:
    """Attack: read the decrypted entry after a revalidation whose 304 carried a URL with a
    token; every header written to the store passes the same redaction, whatever path."""
    session = make_session()
    adapter = requests_mock.Adapter()
    session.mount("http://example.com/", adapter)
    adapter.register_uri(
        "GET", "http://example.com/doc", content=b"document", headers={"ETag": '"v1"'}
    )
    key = session.get("http://example.com/doc").cache_key
    adapter.register_uri(
        "GET",
        "http://example.com/doc",
        status_code=304,
        headers={"ETag": '"v1"', header: "/doc?access_token=s3cret-304-token&page=2"},
    )

    assert session.get("http://example.com/doc", refresh=True).revalidated

    plain = _plaintext(session, key)
    assert b"s3cret-304-token" not in plain
    assert b"access_token=REDACTED&page=2" in plain
