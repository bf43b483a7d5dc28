"""Cache keys: normalisation, credentials kept out of keys and storage, a pinned format."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import attrs
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from vaultcache.cache_keys import (
    DEFAULT_CREDENTIAL_PARAMETERS,
    KEY_VERSION,
    REDACTED,
    create_key,
    normalize_body,
    normalize_url,
    redact_body,
    redact_headers,
    redact_request,
    redact_url,
)
from vaultcache.models import CachedRequest

SECRET = b"\x01" * 32


def prepare(
    method: str = "GET", url: str = "https://api.example.com/v1/items", **kwargs: Any
) -> requests.PreparedRequest:
    return requests.Request(method, url, **kwargs).prepare()


def key(*args: Any, **kwargs: Any) -> str:
    options = {
        name: kwargs.pop(name)
        for name in (
            "match_headers",
            "credential_parameters",
            "ignored_parameters",
            "secret",
            "share_credentials",
        )
        if name in kwargs
    }
    return create_key(prepare(*args, **kwargs), **options)


@attrs.define
class Stub:
    """A minimal request-like object, fields exactly as given."""

    method: str | None = "GET"
    url: str | None = ""
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: object = None


# -- the format is pinned -------------------------------------------------------------------

GOLDEN_URL = "https://api.example.com/v1/items?b=2&a=1"
GOLDEN_HEADERS = {"Accept": "application/json", "Authorization": "Bearer t0ken"}


def test_golden_key() -> None:
    """A change here changes every stored key: bump KEY_VERSION and say so in the changelog."""
    stub = Stub("GET", GOLDEN_URL, GOLDEN_HEADERS)
    assert create_key(stub) == "288cd76e6f36d69c6bbd105d3071a5fe"
    assert create_key(stub, match_headers=["Accept"], secret=b"k" * 32) == (
        "646bbc80e722beea75a1066717b6727a"
    )
    post = Stub(
        "POST",
        "https://api.example.com/v1/search",
        {"Content-Type": "application/json"},
        b'{"q": "x", "page": 2}',
    )
    assert create_key(post) == "ad6a98499ecfdce4ea10865c17ba21bc"
    assert create_key(prepare("GET", GOLDEN_URL, headers=GOLDEN_HEADERS)) == create_key(stub)


def test_key_format_is_the_documented_encoding() -> None:
    def encode(*fields: bytes) -> bytes:
        return b"".join(len(field).to_bytes(8, "big") + field for field in fields)

    expected = hashlib.sha256(
        encode(KEY_VERSION, b"method", b"GET", b"url", b"http://a.org/", b"body", b"empty", b"")
    ).hexdigest()[:32]
    assert create_key(Stub("get", "HTTP://A.org")) == expected
    assert KEY_VERSION == b"vaultcache-key-v1"


def test_key_is_32_hex_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", key())


def test_key_fn_signature_accepts_and_ignores_request_options() -> None:
    request = prepare()
    assert create_key(request, verify=True, timeout=3, expire_after=60) == create_key(request)
    assert create_key(request, verify="/etc/ssl/ca.pem") == create_key(request)


def test_verify_false_has_a_key_of_its_own() -> None:
    """As in requests-cache: a response fetched without TLS verification answers only
    requests made without it."""
    request = prepare()
    assert create_key(request, verify=False) != create_key(request)


def test_request_prepared_request_and_cached_request_agree() -> None:
    request = requests.Request("POST", "https://x.org/a?b=1", json={"a": 1})
    prepared = request.prepare()
    assert create_key(request) == create_key(prepared)
    assert create_key(CachedRequest.from_request(prepared)) == create_key(prepared)


# -- what makes two requests the same -------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://x.org/a?b=2&a=1", "https://x.org/a?a=1&b=2"),
        ("https://x.org/a?a=1&b=2&a=3", "https://x.org/a?b=2&a=1&a=3"),
        ("HTTPS://X.ORG/a", "https://x.org/a"),
        ("https://x.org:443/a", "https://x.org/a"),
        ("http://x.org:80/a", "http://x.org/a"),
        ("https://x.org/a#fragment", "https://x.org/a"),
        ("https://x.org", "https://x.org/"),
        ("https://x.org/%7euser", "https://x.org/~user"),
        ("https://x.org/a%2fb", "https://x.org/a%2Fb"),
        ("https://x.org/a/./b/../c", "https://x.org/a/c"),
        ("https://x.org/a?", "https://x.org/a"),
        ("https://x.org/a?a=1&&b=2", "https://x.org/a?b=2&a=1"),
        ("https://x.org/a?q=%41", "https://x.org/a?q=A"),
    ],
)
def test_equivalent_urls_share_a_key(first: str, second: str) -> None:
    assert create_key(Stub(url=first)) == create_key(Stub(url=second))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://x.org/a", "http://x.org/a"),
        ("https://x.org/a", "https://x.org/A"),  # paths are case-sensitive
        ("https://x.org/a?a=1&a=2", "https://x.org/a?a=2&a=1"),  # repeated names keep order
        ("https://x.org/a?a=1", "https://x.org/a?a=2"),
        ("https://x.org/a?a", "https://x.org/a?a="),
        ("https://x.org:8443/a", "https://x.org/a"),
        ("https://x.org/a%2Fb", "https://x.org/a/b"),  # an encoded slash is not a slash
        ("https://x.org/a?x=%26", "https://x.org/a?x=&"),
        ("https://x.org/a+b", "https://x.org/a%20b"),
    ],
)
def test_different_urls_have_different_keys(first: str, second: str) -> None:
    assert create_key(Stub(url=first)) != create_key(Stub(url=second))


def test_json_key_order_does_not_matter() -> None:
    first = key("POST", json={"a": 1, "b": {"y": 2, "x": [1, 2]}})
    second = key("POST", data='{ "b": {"x": [1, 2], "y": 2},\n"a": 1 }', headers=JSON)
    assert first == second
    assert first != key("POST", json={"a": 1, "b": {"y": 2, "x": [2, 1]}})


JSON = {"Content-Type": "application/json; charset=utf-8"}


def test_json_like_media_types_are_normalised() -> None:
    problem = {"Content-Type": "application/problem+json"}
    assert key("POST", data=b'{"b":1,"a":2}', headers=problem) == key(
        "POST", data=b'{"a":2,"b":1}', headers=problem
    )


def test_invalid_or_ambiguous_json_is_keyed_as_bytes() -> None:
    assert key("POST", data=b"{not json", headers=JSON) != key(
        "POST", data=b"{not  json", headers=JSON
    )
    duplicated = key("POST", data=b'{"a":1,"a":2}', headers=JSON)
    assert duplicated != key("POST", data=b'{"a":2}', headers=JSON)
    deep = b"[" * 100_000 + b"]" * 100_000
    assert key("POST", data=deep, headers=JSON)  # too deep to parse: no exception


def test_form_body_order_does_not_matter() -> None:
    assert key("POST", data={"a": "1", "b": "2"}) == key("POST", data=[("b", "2"), ("a", "1")])
    assert key("POST", data={"a": "1"}) != key("POST", data={"a": "2"})


def test_other_bodies_are_compared_byte_for_byte() -> None:
    plain = {"Content-Type": "text/plain"}
    assert key("POST", data=b"a=1&b=2", headers=plain) != key(
        "POST", data=b"b=2&a=1", headers=plain
    )
    assert create_key(Stub("POST", "https://x.org", {}, "héllo")) == create_key(
        Stub("POST", "https://x.org", {}, "héllo".encode())
    )
    assert create_key(Stub(body=None)) == create_key(Stub(body=b""))


def test_multipart_uploads_ignore_the_random_boundary() -> None:
    files = {"file": ("a.txt", b"content")}
    first = prepare("POST", files=files)
    second = prepare("POST", files=files)
    assert first.body != second.body  # requests chose two boundaries
    assert create_key(first) == create_key(second)
    assert create_key(first, match_headers=True) == create_key(second, match_headers=True)
    assert create_key(first) != create_key(prepare("POST", files={"file": ("a.txt", b"other")}))


def test_streamed_bodies_never_share_a_key() -> None:
    def stream() -> Iterator[bytes]:
        yield b"data"

    one, two = prepare("POST", data=stream()), prepare("POST", data=stream())
    assert create_key(one) != create_key(two)
    assert create_key(one) != create_key(one)


def test_key_differs_by_method_and_body() -> None:
    assert key("GET") != key("HEAD")
    assert key("GET") == create_key(Stub("get", "https://api.example.com/v1/items"))
    assert key("POST", data=b"a") != key("POST", data=b"b")
    assert key("POST", data=b"") != key("POST", data=b"\x00")


def test_match_headers() -> None:
    json_accept = {"Accept": "application/json"}
    xml_accept = {"Accept": "text/xml"}
    assert key(headers=json_accept) == key(headers=xml_accept)  # not matched by default
    assert key(headers=json_accept, match_headers=["accept"]) != key(
        headers=xml_accept, match_headers=["ACCEPT"]
    )
    assert key(headers=json_accept, match_headers="Accept") != key(
        headers=xml_accept, match_headers="Accept"
    )
    assert key(headers=json_accept, match_headers=["Accept"]) != key(match_headers=["Accept"])
    assert key(headers=json_accept, match_headers=["X-Other"]) == key(
        headers=xml_accept, match_headers=["X-Other"]
    )
    assert key(headers=json_accept, match_headers=False) == key(headers=xml_accept)


def test_match_all_headers_skips_volatile_ones() -> None:
    base = {"Accept": "application/json"}
    revalidating = {**base, "If-None-Match": '"v1"', "Cache-Control": "no-cache", "Date": "x"}
    assert key(headers=base, match_headers=True) == key(headers=revalidating, match_headers=True)
    assert key(headers=base, match_headers=True) != key(
        headers={"Accept": "*/*"}, match_headers=True
    )
    assert create_key(Stub(headers={"Accept": " a "}), match_headers=True) == create_key(
        Stub(headers={"Accept": "a"}), match_headers=True
    )


# -- credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, SECRET])
def test_different_tokens_get_different_keys(secret: bytes | None) -> None:
    alice = prepare(headers={"Authorization": "Bearer alice"})
    bob = prepare(headers={"Authorization": "Bearer bob"})
    assert create_key(alice, secret=secret) != create_key(bob, secret=secret)
    again = prepare(headers={"authorization": "Bearer alice"})
    assert create_key(alice, secret=secret) == create_key(again, secret=secret)
    assert create_key(alice, secret=secret) != create_key(prepare(), secret=secret)


def test_share_credentials_shares_keys() -> None:
    alice = prepare(headers={"Authorization": "Bearer alice"}, params={"api_key": "a"})
    bob = prepare(headers={"Authorization": "Bearer bob"}, params={"API_KEY": "b"})
    anonymous = prepare()
    keys = {create_key(r, share_credentials=True) for r in (alice, bob, anonymous)}
    assert len(keys) == 1


def test_explicitly_matched_credential_headers_count_even_when_shared() -> None:
    alice = prepare(headers={"Cookie": "session=alice"})
    bob = prepare(headers={"Cookie": "session=bob"})
    assert create_key(alice, share_credentials=True) == create_key(bob, share_credentials=True)
    shared_but_varied: dict[str, Any] = {"share_credentials": True, "match_headers": ["Cookie"]}
    assert create_key(alice, **shared_but_varied) != create_key(bob, **shared_but_varied)


def test_the_secret_changes_credential_keys_only() -> None:
    user = prepare(headers={"Authorization": "Bearer alice"})
    assert create_key(user) != create_key(user, secret=SECRET)
    assert create_key(user, secret=SECRET) != create_key(user, secret=b"\x02" * 32)
    assert create_key(prepare(), secret=SECRET) == create_key(prepare())


@pytest.mark.parametrize(
    ("alice", "bob"),
    [
        ({"params": {"token": "alice"}}, {"params": {"token": "bob"}}),
        ({"params": {"Access_Token": "alice"}}, {"params": {"access_token": "bob"}}),
        ({"headers": {"X-API-Key": "alice"}}, {"headers": {"x-api-key": "bob"}}),
        ({"json": {"user": "u", "password": "alice"}}, {"json": {"user": "u", "password": "bob"}}),
        ({"json": {"auth": {"client_secret": "a"}}}, {"json": {"auth": {"client_secret": "b"}}}),
        ({"data": {"password": "alice"}}, {"data": {"password": "bob"}}),
        ({"auth": ("user", "alice")}, {"auth": ("user", "bob")}),
    ],
)
def test_credentials_anywhere_separate_users(alice: dict[str, Any], bob: dict[str, Any]) -> None:
    method = "POST" if {"json", "data"} & alice.keys() else "GET"
    assert key(method, **alice) != key(method, **bob)
    assert key(method, **alice) == key(method, **alice)
    assert key(method, share_credentials=True, **alice) == key(
        method, share_credentials=True, **bob
    )


def test_userinfo_is_a_credential() -> None:
    alice = Stub(url="https://alice:pw1@x.org/a")
    bob = Stub(url="https://bob:pw2@x.org/a")
    assert create_key(alice) != create_key(bob)
    assert create_key(alice, share_credentials=True) == create_key(Stub(url="https://x.org/a"))
    assert normalize_url("https://alice:pw1@x.org/a") == "https://x.org/a"


def test_credential_parameters_none_treats_nothing_as_a_credential() -> None:
    alice = prepare(headers={"Authorization": "Bearer alice"})
    bob = prepare(headers={"Authorization": "Bearer bob"})
    assert create_key(alice, credential_parameters=None) == create_key(
        bob, credential_parameters=None
    )
    with_token = prepare(params={"token": "alice"})
    assert create_key(with_token, credential_parameters=None) != create_key(
        prepare(params={"token": "bob"}), credential_parameters=None
    )


def test_custom_credential_parameters() -> None:
    first = prepare(params={"session": "1", "q": "x"})
    second = prepare(params={"session": "2", "q": "x"})
    assert create_key(first) != create_key(second)
    options: dict[str, Any] = {"credential_parameters": ["session"], "share_credentials": True}
    assert create_key(first, **options) == create_key(second, **options)
    assert create_key(first, credential_parameters="session", share_credentials=True) == (
        create_key(second, credential_parameters="session", share_credentials=True)
    )


def test_ignored_parameters_are_left_out_of_the_key() -> None:
    """As in requests-cache: a cache-buster or request id does not make a new entry."""
    first = prepare(params={"q": "x", "t": "1700000000"}, headers={"X-Request-Id": "a"})
    second = prepare(params={"q": "x", "t": "1700000001"}, headers={"X-Request-Id": "b"})
    other = prepare(params={"q": "y", "t": "1700000000"})
    ignored = {"ignored_parameters": ["T", "x-request-id"], "match_headers": ["X-Request-Id"]}

    assert create_key(first, match_headers=["X-Request-Id"]) != create_key(
        second, match_headers=["X-Request-Id"]
    )
    assert create_key(first, **ignored) == create_key(second, **ignored)
    assert create_key(first, **ignored) != create_key(other, **ignored)
    assert create_key(first, **ignored) == create_key(prepare(params={"q": "x"}), **ignored)


@pytest.mark.parametrize(
    ("content_type", "bodies"),
    [
        ("application/json", (b'{"q": 1, "nonce": "a"}', b'{"nonce": "b", "q": 1}')),
        ("application/x-www-form-urlencoded", (b"q=1&nonce=a", b"nonce=b&q=1")),
    ],
)
def test_ignored_body_fields_are_left_out_of_the_key(
    content_type: str, bodies: tuple[bytes, bytes]
) -> None:
    first, second = (
        prepare("POST", data=body, headers={"Content-Type": content_type}) for body in bodies
    )

    assert create_key(first) != create_key(second)
    assert create_key(first, ignored_parameters=["nonce"]) == create_key(
        second, ignored_parameters=["nonce"]
    )


def test_a_name_in_both_lists_is_a_credential() -> None:
    """Ignoring a secret would serve one user's response to another: it stays a credential."""
    alice = prepare(params={"api_key": "alice", "q": "x"})
    bob = prepare(params={"api_key": "bob", "q": "x"})

    assert create_key(alice, ignored_parameters=["api_key"]) != create_key(
        bob, ignored_parameters=["api_key"]
    )


# -- redaction ------------------------------------------------------------------------------


def test_redact_request_removes_every_secret_and_keeps_the_original() -> None:
    original = prepare(
        "POST",
        "https://user:pw@api.example.com/v1/login?token=tok123&q=1",
        headers={"Authorization": "Bearer abc", "Cookie": "sid=xyz", "Accept": "text/plain"},
        json={"username": "u", "password": "hunter2", "nested": [{"refresh_token": "rt"}]},
    )
    stored = redact_request(original)
    text = f"{stored.url} {dict(stored.headers)} {stored.body!r}"
    basic = original.headers["Authorization"]  # requests made it from the userinfo
    assert basic.startswith("Basic ")
    for secret in (":pw", "tok123", basic, "sid=xyz", "hunter2", 'rt"'):
        assert secret not in text
    assert stored.headers["Accept"] == "text/plain"
    assert stored.headers["Authorization"] == REDACTED
    assert "q=1" in (stored.url or "")
    assert json.loads(stored.body or b"")["username"] == "u"
    assert stored.headers["Content-Length"] == str(len(stored.body or b""))
    assert original.headers["Authorization"] == basic
    assert isinstance(original.body, bytes)
    assert b"hunter2" in original.body
    assert "tok123" in (original.url or "")


def test_two_users_share_nothing_in_storage() -> None:
    alice = prepare(headers={"Authorization": "Bearer alice"})
    bob = prepare(headers={"Authorization": "Bearer bob"})
    assert create_key(alice) != create_key(bob)
    assert redact_request(alice).headers == redact_request(bob).headers
    assert redact_request(alice).headers["Authorization"] == REDACTED


def test_redact_request_of_other_request_types() -> None:
    stored = redact_request(CachedRequest("GET", "https://x.org/?api_key=k", {"Cookie": "c"}))
    assert isinstance(stored, requests.PreparedRequest)
    assert stored.url == f"https://x.org/?api_key={REDACTED}"
    assert stored.headers["Cookie"] == REDACTED
    unprepared = redact_request(requests.Request("GET", "https://x.org/", params={"sig": "s"}))
    assert unprepared.url == f"https://x.org/?sig={REDACTED}"


def test_redact_url() -> None:
    assert (
        redact_url("https://x.org/a?b=1&Token=t&c=3#f")
        == f"https://x.org/a?b=1&Token={REDACTED}&c=3#f"
    )
    assert redact_url("https://u:p@x.org/") == f"https://{REDACTED}@x.org/"
    assert redact_url("https://x.org/a?api%5Fkey=k") == f"https://x.org/a?api%5Fkey={REDACTED}"
    unchanged = "https://x.org/a?b=1&b=2&token"  # a name without a value holds no secret
    assert redact_url(unchanged) is unchanged
    assert redact_url("https://x.org/a?token=t", names=None) == "https://x.org/a?token=t"
    assert (
        redact_url("https://x.org/a?mine=t", names=["MINE"]) == f"https://x.org/a?mine={REDACTED}"
    )
    assert redact_url("http://[::1") == "http://[::1"  # not a URL: nothing to find


def test_redact_headers() -> None:
    headers = CaseInsensitiveDict({"authorization": "a", "X-Api-Key": "k", "Accept": "x"})
    redacted = redact_headers(headers)
    assert isinstance(redacted, CaseInsensitiveDict)
    assert redacted["Authorization"] == REDACTED
    assert redacted["x-api-key"] == REDACTED
    assert redacted["accept"] == "x"
    assert headers["authorization"] == "a"
    assert redact_headers({"Accept": "x"}, names=None) == {"Accept": "x"}


def test_redact_body() -> None:
    body = b'{"a": 1, "list": [{"Password": "p"}], "token": {"nested": true}}'
    redacted = redact_body(body, "application/json")
    assert json.loads(redacted) == {"a": 1, "list": [{"Password": REDACTED}], "token": REDACTED}
    as_text = redact_body(body.decode(), "application/json")
    assert isinstance(as_text, str)
    assert json.loads(as_text) == json.loads(redacted)
    untouched = b'{"a": 1}'
    assert redact_body(untouched, "application/json") is untouched
    assert redact_body(b"{broken password", "application/json") == b"{broken password"
    form = "user=u&password=p%26q&x=1"
    assert (
        redact_body(form, "application/x-www-form-urlencoded") == f"user=u&password={REDACTED}&x=1"
    )
    assert redact_body(b"password=p", "text/plain") == b"password=p"
    assert redact_body(None, "application/json") is None
    assert redact_body(b"password=p", "application/x-www-form-urlencoded", names=None) == (
        b"password=p"
    )


# -- normalisation --------------------------------------------------------------------------


def test_normalize_url() -> None:
    url = "HTTPS://User:Pw@Example.COM:443/a/./b/../%7e%2f?z=1&token=t&a=%4a#frag"
    assert normalize_url(url) == "https://example.com/a/~%2F?a=J&token=t&z=1"
    assert normalize_url(url, ignored_parameters=DEFAULT_CREDENTIAL_PARAMETERS) == (
        "https://example.com/a/~%2F?a=J&z=1"
    )
    assert normalize_url("https://x.org/ü?q=é") == "https://x.org/%C3%BC?q=%C3%A9"
    assert normalize_url("https://x.org/100%") == "https://x.org/100%25"
    assert normalize_url("https://x.org:8080") == "https://x.org:8080/"
    assert normalize_url("http://[::1]:80/") == "http://[::1]/"
    assert normalize_url("http://[::1") == "http://[::1"


def test_normalize_body() -> None:
    assert normalize_body(b'{"b": 1, "a": 2}', "application/json") == b'{"a":2,"b":1}'
    assert (
        normalize_body(b'{"b": 1, "token": 2}', "application/json", ignored_parameters=["TOKEN"])
        == b'{"b":1}'
    )
    assert normalize_body("b=2&a=1", "application/x-www-form-urlencoded") == b"a=1&b=2"
    assert normalize_body(b"raw", None) == b"raw"
    assert normalize_body(None) == b""


# -- properties -----------------------------------------------------------------------------

names = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)
values = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
params = st.lists(st.tuples(names, values), max_size=6)


@given(params, st.randoms())
@settings(deadline=None)
def test_parameter_order_never_matters_across_names(pairs: list[tuple[str, str]], rnd: Any) -> None:
    shuffled = pairs[:]
    rnd.shuffle(shuffled)
    # Reordering is free except among repeats of one name: restore their relative order.
    by_name: dict[str, list[str]] = {}
    for name, value in pairs:
        by_name.setdefault(name, []).append(value)
    reordered = [(name, by_name[name].pop(0)) for name, _ in shuffled]
    base = "https://x.org/search"
    first = create_key(Stub(url=f"{base}?{urlencode(pairs)}"))
    assert first == create_key(Stub(url=f"{base}?{urlencode(reordered)}"))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert create_key(Stub("POST", base, form, urlencode(pairs))) == create_key(
        Stub("POST", base, form, urlencode(reordered))
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(names, children, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(names, json_values, max_size=5), st.randoms())
@settings(deadline=None)
def test_json_key_order_never_matters(document: dict[str, Any], rnd: Any) -> None:
    items = list(document.items())
    rnd.shuffle(items)
    headers = {"Content-Type": "application/json"}
    first = Stub("POST", "https://x.org/", headers, json.dumps(document))
    second = Stub("POST", "https://x.org/", headers, json.dumps(dict(items), indent=1))
    assert create_key(first) == create_key(second)


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=20)
)
@settings(deadline=None)
def test_generated_secrets_never_survive_redaction(secret: str) -> None:
    marker = "S3CR3T" + secret
    request = CachedRequest(
        "POST",
        "https://x.org/a?" + urlencode({"access_token": marker, "q": "1"}),
        {"Authorization": marker, "Content-Type": "application/json"},
        json.dumps({"data": {"client_secret": marker}, "x": 1}).encode(),
    )
    stored = redact_request(request)
    stored_text = f"{stored.url}{dict(stored.headers)}{stored.body!r}"
    assert marker not in stored_text
    assert urlencode({"t": marker})[2:] not in stored_text
    other = attrs.evolve(request, headers={"Authorization": marker + "x"})
    assert create_key(request) != create_key(other)


@given(st.text(), st.text(), st.binary() | st.text() | st.none(), st.text())
@settings(deadline=None)
def test_create_key_never_raises(method: str, url: str, body: Any, content_type: str) -> None:
    headers = {"Content-Type": content_type, "Authorization": method}
    stub = Stub(method, url, headers, body)
    assert re.fullmatch(r"[0-9a-f]{32}", create_key(stub, match_headers=True, secret=SECRET))
    redact_request(stub)


@given(st.text())
def test_normalize_url_is_idempotent(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once


url_parts = st.builds(
    lambda scheme, host, path, query: f"{scheme}://{host}/{path}?{query}",
    st.sampled_from(["http", "HTTPS", "https"]),
    st.from_regex(r"[a-zA-Z0-9-]{1,10}(\.[a-z]{2,5})(:[0-9]{1,5})?", fullmatch=True),
    st.text(alphabet="abc/.%~-_é25Ff", max_size=15),
    st.text(alphabet="ab=&%+é2F", max_size=15),
)


@given(url_parts)
def test_normalize_url_is_idempotent_on_urls(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once
    assert once.isascii()
