"""A malicious origin: oversized, non-UTF-8 and malformed response headers.

The origin is a raw socket server on 127.0.0.1 that writes exactly the bytes it is given.
Whatever it sends, the caller gets a response (first from the origin, then the same one from
the cache) or a ``requests`` exception, as with a plain Session; never an exception from
the cache, and never a poisoned entry.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

SPECS = ("zstd+aesgcm", "json+gzip+signed", "yaml+bz2+fernet", "toml+zlib+signed", "bson+aesgcm")
BODY = b"hello"


class RawOrigin:
    """Answers every connection with `reply` (set per test), then closes it."""

    def __init__(self) -> None:
        self.reply = b""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    request += chunk
                connection.sendall(self.reply)

    def close(self) -> None:
        self._listener.close()


@pytest.fixture(scope="module")
def raw_origin() -> Iterator[RawOrigin]:
    server = RawOrigin()
    yield server
    server.close()


def _reply(*headers: bytes, body: bytes = BODY) -> bytes:
    lines = [b"HTTP/1.1 200 OK", *headers, b"Content-Length: %d" % len(body), b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


BAD_REPLIES = {
    "latin-1 value": _reply(b"X-Name: caf\xe9"),
    "invalid utf-8 value": _reply(b"X-Bad: \xff\xfe\xc3\x28"),
    "non-ascii name": _reply(b"X-\xe9t\xe9: 1"),
    "control characters": _reply(b"X-Ctl: a\x01b\x7fc\x1b[31m"),
    "nul byte": _reply(b"X-Nul: a\x00b"),
    "huge value": _reply(b"X-Big: " + b"v" * 60_000),
    "many headers": _reply(*[b"X-H%d: %d" % (n, n) for n in range(97)]),
    "duplicate names": _reply(b"X-Dup: 1", b"x-dup: 2", b"X-Dup: \xff"),
    "set-cookie": _reply(b"Set-Cookie: a=1", b"Set-Cookie: b=\xff"),
    "empty name": _reply(b": value"),
    "no colon": _reply(b"garbage line without colon"),
    "folded value": _reply(b"X-Fold: first", b" continued"),
    "huge content-type": _reply(b"Content-Type: text/html; charset=" + b"\xff" * 5000),
    "bad date": _reply(b"Date: \xff\xff", b"Expires: yesterday", b"Last-Modified: 99"),
    "bad cache-control": _reply(b"Cache-Control: max-age=\xff, s-maxage=-1, max-age=1e999"),
    "bad vary": _reply(b"Vary: \xff, *, Authorization"),
    "bad location": _reply(b"Content-Location: http://[::1"),
}
REFUSED_BY_REQUESTS = {
    "too long a line": _reply(b"X-Long: " + b"v" * 70_000),
    "too many headers": _reply(*[b"X-H%d: %d" % (n, n) for n in range(150)]),
    "not http": b"\xff\xfe garbage \r\n\r\n",
}


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("name", sorted(BAD_REPLIES))
def test_bad_response_headers_are_cached_and_served_back_as_received(
    raw_origin: RawOrigin, make_session: Any, spec: str, name: str
) -> None:
    """Attack: an origin sends oversized, non-UTF-8 or malformed header bytes."""
    raw_origin.reply = BAD_REPLIES[name]
    session = make_session(serializer=spec, cache_control=name.startswith("bad"))
    plain = requests.get(raw_origin.url + "/bad", timeout=5)

    first = session.get(raw_origin.url + "/bad", timeout=5)
    again = session.get(raw_origin.url + "/bad", timeout=5)

    assert first.content == again.content == plain.content == BODY
    assert dict(first.headers) == dict(plain.headers)
    served = {name: value for name, value in again.headers.items() if name != "Age"}
    assert all(plain.headers.get(name) == value for name, value in served.items())
    # After a Set-Cookie the session sends the cookie, a credential, so the key changes;
    # responses with bad caching headers may be uncacheable.
    assert again.from_cache or name.startswith("bad") or name == "set-cookie"
    assert session.cache.stats.discarded == 0


@pytest.mark.parametrize("name", sorted(REFUSED_BY_REQUESTS))
def test_replies_requests_refuses_raise_its_own_error_and_store_nothing(
    raw_origin: RawOrigin, make_session: Any, name: str
) -> None:
    """Attack: an origin sends a header line or header count that http.client refuses."""
    raw_origin.reply = REFUSED_BY_REQUESTS[name]
    session = make_session()
    with pytest.raises(requests.RequestException):
        requests.get(raw_origin.url + "/refused", timeout=5)
    with pytest.raises(requests.RequestException):
        session.get(raw_origin.url + "/refused", timeout=5)
    assert session.cache.response_count() == 0
