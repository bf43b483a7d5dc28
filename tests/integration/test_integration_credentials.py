"""Cache keys end to end: normalisation, match_headers, key_fn, and credentials.

Credentials (Authorization, api_key, access_token...) separate users in the key but are never
stored: what is kept with a response has them replaced by REDACTED.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from vaultcache.cache_keys import REDACTED
from vaultcache.session import CachedSession

SECRET_TOKEN = "s3cr3t-bearer-token-7f2a"
SECRET_API_KEY = "s3cr3t-api-key-91bc"
SECRET_ACCESS_TOKEN = "s3cr3t-access-token-44de"
SECRETS = (SECRET_TOKEN, SECRET_API_KEY, SECRET_ACCESS_TOKEN)


def test_query_parameter_order_does_not_matter(session: CachedSession, origin: Any) -> None:
    base = origin.url("/data/query-order")

    session.get(base + "&a=1&b=2&c=3".replace("&", "?", 1))
    hit = session.get(base + "?c=3&a=1&b=2")

    assert hit.from_cache
    assert origin.hits("/data/query-order") == 1


def test_different_query_values_are_different_entries(session: CachedSession, origin: Any) -> None:
    session.get(origin.url("/data/query-values", page=1))
    other = session.get(origin.url("/data/query-values", page=2))

    assert other.from_cache is False
    assert session.cache.response_count() == 2


def test_match_headers_separates_entries_by_header(make_session: Any, origin: Any) -> None:
    session = make_session(match_headers=["Accept-Language"])
    url = origin.url("/echo/match-headers")

    english = session.get(url, headers={"Accept-Language": "en"})
    french = session.get(url, headers={"Accept-Language": "fr"})
    english_again = session.get(url, headers={"Accept-Language": "en"})

    assert french.from_cache is False
    assert french.json()["headers"]["Accept-Language"] == "fr"
    assert english_again.from_cache
    assert english_again.content == english.content
    assert origin.hits("/echo/match-headers") == 2


def test_without_match_headers_headers_share_one_entry(session: CachedSession, origin: Any) -> None:
    url = origin.url("/echo/no-match-headers")

    session.get(url, headers={"Accept-Language": "en"})
    french = session.get(url, headers={"Accept-Language": "fr"})

    assert french.from_cache
    assert french.json()["headers"]["Accept-Language"] == "en"


def test_match_headers_true_ignores_volatile_headers(make_session: Any, origin: Any) -> None:
    session = make_session(match_headers=True)
    url = origin.url("/data/match-all-headers")

    session.get(url, headers={"X-Request-ID": "1", "X-Tenant": "a"})
    volatile_changed = session.get(url, headers={"X-Request-ID": "2", "X-Tenant": "a"})
    tenant_changed = session.get(url, headers={"X-Request-ID": "3", "X-Tenant": "b"})

    assert volatile_changed.from_cache
    assert tenant_changed.from_cache is False


def test_key_fn_overrides_the_key(make_session: Any, origin: Any) -> None:
    calls: list[dict[str, Any]] = []

    def path_only(request: requests.PreparedRequest, **kwargs: Any) -> str:
        calls.append(kwargs)
        return "path:" + (request.path_url.split("?")[0])

    session = make_session(key_fn=path_only)

    first = session.get(origin.url("/data/key-fn", version="a"))
    second = session.get(origin.url("/data/key-fn", version="b"))

    assert second.from_cache
    assert second.cache_key == first.cache_key == "path:/data/key-fn"
    assert list(session.cache.responses) == ["path:/data/key-fn"]
    assert {"credential_parameters", "ignored_parameters", "match_headers"} <= set(calls[0])


def test_ignored_parameters_share_one_entry_and_are_not_stored(
    make_session: Any, origin: Any
) -> None:
    session = make_session(ignored_parameters=["t"])

    first = session.get(origin.url("/data/cache-buster", q="x", t="1700000000"))
    second = session.get(origin.url("/data/cache-buster", q="x", t="1700000001"))

    assert second.from_cache
    assert origin.hits("/data/cache-buster") == 1
    stored = session.cache.responses[first.cache_key]
    assert stored.request.url.endswith(f"t={REDACTED}")
    assert "1700000000" not in stored.url


# -- credentials ---------------------------------------------------------------------------------


def _credential_requests(session: CachedSession, origin: Any) -> None:
    """One request carrying each kind of credential."""
    session.get(
        origin.url("/data/cred-header"), headers={"Authorization": f"Bearer {SECRET_TOKEN}"}
    )
    session.get(origin.url("/data/cred-query", api_key=SECRET_API_KEY, page=2))
    session.post(
        origin.url("/data/cred-body"),
        json={"query": "weather", "access_token": SECRET_ACCESS_TOKEN},
    )


@pytest.fixture
def credential_session(make_session: Any) -> CachedSession:
    return make_session(allowable_methods=("GET", "POST"))  # type: ignore[no-any-return]


def test_stored_requests_have_credentials_redacted(
    credential_session: CachedSession, origin: Any
) -> None:
    _credential_requests(credential_session, origin)

    stored = {
        response.request.url.split("?")[0].rsplit("/", 1)[1]: response
        for response in credential_session.cache.responses.values()
    }

    assert set(stored) == {"cred-header", "cred-query", "cred-body"}
    assert stored["cred-header"].request.headers["Authorization"] == REDACTED
    assert f"api_key={REDACTED}" in stored["cred-query"].request.url
    assert f"api_key={REDACTED}" in stored["cred-query"].url
    body = json.loads(stored["cred-body"].request.body)
    assert body == {"query": "weather", "access_token": REDACTED}
    for response in stored.values():
        assert not any(secret in _stored_text(response) for secret in SECRETS)


def _stored_text(response: Any) -> str:
    """Every text field of a stored response, its request and its redirect history."""
    return repr(
        [
            response.url,
            response.request.url,
            dict(response.request.headers),
            response.request.body,
            dict(response.headers),
            [
                (h.url, h.request.url, dict(h.request.headers), dict(h.headers))
                for h in response.history
            ],
        ]
    )


def test_redirect_history_urls_have_credentials_redacted(
    session: CachedSession, origin: Any
) -> None:
    session.get(origin.url("/redirect/2/data/cred-redirect", api_key=SECRET_API_KEY))

    (stored,) = session.cache.responses.values()

    assert len(stored.history) == 2
    assert f"api_key={REDACTED}" in stored.url
    for item in stored.history:
        assert f"api_key={REDACTED}" in item.url
        assert f"api_key={REDACTED}" in item.request.url


def test_redirect_location_headers_have_credentials_redacted(
    make_session: Any, origin: Any, tmp_path: Path
) -> None:
    session = make_session(serializer="msgpack")
    session.get(origin.url("/redirect/2/data/cred-location", api_key=SECRET_API_KEY))
    (stored,) = session.cache.responses.values()
    session.close()
    raw = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())

    assert all("Location" in item.headers for item in stored.history)
    assert SECRET_API_KEY not in _stored_text(stored)
    assert SECRET_API_KEY.encode() not in raw


def test_raw_cache_files_never_contain_credentials(
    make_session: Any, origin: Any, tmp_path: Path
) -> None:
    session = make_session(serializer="msgpack", allowable_methods=("GET", "POST"))
    _credential_requests(session, origin)
    session.close()

    raw = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())

    assert b"/data/cred-query" in raw  # the control: msgpack stores readable text
    for secret in SECRETS:
        assert secret.encode() not in raw


@pytest.mark.parametrize(
    "credential",
    [
        {"headers": {"Authorization": "Bearer {}"}},
        {"params": {"api_key": "{}"}},
        {"params": {"access_token": "{}"}},
        {"headers": {"X-API-Key": "{}"}},
    ],
    ids=["authorization", "api_key", "access_token", "x-api-key"],
)
def test_users_with_different_credentials_never_share_responses(
    session: CachedSession, origin: Any, credential: dict[str, dict[str, str]]
) -> None:
    url = origin.url("/echo/per-user")

    def as_user(user: str) -> dict[str, Any]:
        return {
            where: {name: value.format(f"token-of-{user}") for name, value in items.items()}
            for where, items in credential.items()
        }

    alice = session.get(url, **as_user("alice"))
    bob = session.get(url, **as_user("bob"))
    alice_again = session.get(url, **as_user("alice"))
    bob_again = session.get(url, **as_user("bob"))

    assert (alice.from_cache, bob.from_cache) == (False, False)
    assert alice_again.from_cache
    assert bob_again.from_cache
    assert "token-of-alice" in alice_again.text
    assert "token-of-bob" not in alice_again.text
    assert "token-of-bob" in bob_again.text
    assert "token-of-alice" not in bob_again.text
    assert origin.hits("/echo/per-user") == 2


def test_anonymous_and_authenticated_requests_do_not_share(
    session: CachedSession, origin: Any
) -> None:
    url = origin.url("/echo/anonymous")

    session.get(url, headers={"Authorization": f"Bearer {SECRET_TOKEN}"})
    anonymous = session.get(url)

    assert anonymous.from_cache is False
    assert SECRET_TOKEN not in anonymous.text


def test_share_credentials_true_shares_responses_across_users(
    make_session: Any, origin: Any
) -> None:
    session = make_session(share_credentials=True)
    url = origin.url("/echo/shared")

    alice = session.get(url, headers={"Authorization": "Bearer token-of-alice"})
    bob = session.get(url, headers={"Authorization": "Bearer token-of-bob"})

    assert bob.from_cache
    assert bob.content == alice.content
    assert origin.hits("/echo/shared") == 1
    (stored,) = session.cache.responses.values()
    assert stored.request.headers["Authorization"] == REDACTED


def test_keys_with_different_key_rings_differ_for_credentials(
    make_session: Any, origin: Any, tmp_path: Path
) -> None:
    """The credential digest is keyed: another key ring gives another cache key."""
    headers = {"Authorization": f"Bearer {SECRET_TOKEN}"}
    url = origin.url("/data/keyed-digest")
    one = make_session(cache_name=str(tmp_path / "one")).get(url, headers=headers)
    two = make_session(
        cache_name=str(tmp_path / "two"), keys=[__import__("vaultcache").generate_key()]
    ).get(url, headers=headers)

    assert one.cache_key != two.cache_key
