"""Credentials that a redirect adds on a later hop separate users as much as the first hop's.

Two users' sessions share one cache. The first request of a chain carries no credential;
requests adds one only on a later hop (a cookie scoped to the target's path, a host-only
cookie of the target host, a Secure cookie behind http -> https, netrc credentials of the
target host). The origin answers each user with their own page.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import requests_mock

LOCATIONS = {
    "path-cookie": ("http://example.com/go", "http://example.com/private/me"),
    "host-only-cookie": ("http://example.com/go", "http://www.example.com/me"),
    "secure-cookie": ("http://example.com/go", "https://example.com/me"),
    "netrc": ("http://example.com/go", "http://other.example.com/me"),
}


def _origin(start: str, target: str) -> requests_mock.Adapter:
    """`start` redirects to `target`, which answers with the credentials it was sent."""
    adapter = requests_mock.Adapter()
    adapter.register_uri("GET", start, status_code=302, headers={"Location": target})

    def page(request: Any, context: Any) -> bytes:
        basic = request.headers.get("Authorization", "").removeprefix("Basic ")
        sent = request.headers.get("Cookie", "") + base64.b64decode(basic).decode()
        return f"page for [{sent}]".encode()

    adapter.register_uri("GET", target, content=page)
    return adapter


def _user(make_session: Any, adapter: requests_mock.Adapter, case: str, name: str) -> Any:
    session = make_session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if case == "path-cookie":
        session.cookies.set("sid", name, domain="example.com", path="/private")
    elif case == "host-only-cookie":
        session.cookies.set("sid", name, domain="www.example.com", path="/")
    elif case == "secure-cookie":
        session.cookies.set("sid", name, domain="example.com", path="/", secure=True)
    return session


def _use_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    netrc = tmp_path / f"netrc-{name}"
    netrc.write_text(f"machine other.example.com login {name} password pw-{name}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


@pytest.mark.parametrize("case", sorted(LOCATIONS))
def test_credentials_added_on_a_redirect_hop_separate_users(
    make_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Attack: Bob asks for Alice's redirecting URL and hopes for the page her hop got."""
    start, target = LOCATIONS[case]
    adapter = _origin(start, target)
    alice = _user(make_session, adapter, case, "alice")
    bob = _user(make_session, adapter, case, "bob")
    if case == "netrc":
        _use_netrc(tmp_path, monkeypatch, "alice")

    first = alice.get(start)
    assert b"alice" in first.content
    again = alice.get(start)
    assert again.from_cache is True, "the chain is still cached for the user who fetched it"
    assert again.content == first.content

    if case == "netrc":
        _use_netrc(tmp_path, monkeypatch, "bob")
    served = bob.get(start)

    assert b"alice" not in served.content
    assert b"bob" in served.content
    if case == "netrc":
        _use_netrc(tmp_path, monkeypatch, "alice")
    assert b"alice" in alice.get(start).content


def test_intermediate_redirect_records_are_per_user(make_session: Any) -> None:
    """Attack: ask for the middle of Alice's chain, where her cookie was first sent."""
    adapter = requests_mock.Adapter()
    adapter.register_uri(
        "GET", "http://example.com/go", status_code=302, headers={"Location": "/p/next"}
    )
    adapter.register_uri(
        "GET", "http://example.com/p/next", status_code=302, headers={"Location": "/p/me"}
    )
    adapter.register_uri(
        "GET",
        "http://example.com/p/me",
        content=lambda request, context: request.headers.get("Cookie", "").encode(),
    )
    sessions = []
    for name in ("alice", "bob"):
        session = make_session()
        session.mount("http://", adapter)
        session.cookies.set("sid", name, domain="example.com", path="/p")
        sessions.append(session)
    alice, bob = sessions

    assert alice.get("http://example.com/go").content == b"sid=alice"

    assert bob.get("http://example.com/p/next").content == b"sid=bob"
    assert bob.get("http://example.com/go").content == b"sid=bob"
    assert alice.get("http://example.com/go").content == b"sid=alice"


def test_share_credentials_still_shares_a_redirected_response(make_session: Any) -> None:
    """The explicit opt-in keeps working: with share_credentials the chain is shared."""
    start, target = LOCATIONS["path-cookie"]
    adapter = _origin(start, target)
    users = []
    for name in ("alice", "bob"):
        session = make_session(share_credentials=True)
        session.mount("http://", adapter)
        session.cookies.set("sid", name, domain="example.com", path="/private")
        users.append(session)

    users[0].get(start)

    assert users[1].get(start).from_cache is True
