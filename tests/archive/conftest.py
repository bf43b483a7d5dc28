"""Fixtures for the archive tests: a counting origin on 127.0.0.1, keys, and sessions.

Routes of the origin:

``/page/<name>``
    A JSON body naming the page, padded with ``size`` bytes (query parameter, default 300);
    ``gzip=1`` sends it gzip-encoded.
``/bin/<name>``
    ``size`` bytes of binary data derived from the name.
``/redirect/<name>``
    A 302 to ``/page/<name>``.
``/hop/<name>``
    A 302 to ``/redirect/<name>``: two hops, so the cache stores a redirect entry.

:class:`Site` is a second origin that answers fixed responses with exactly the header fields
given, repeated fields included (see :data:`SITE`), for the archive-fidelity tests.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from vaultcache import generate_key
from vaultcache.session import CachedSession

SPEC = "zstd+aesgcm"


class Origin:
    """A local HTTP server that counts every request it answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                origin._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def total_hits(self) -> int:
        with self._lock:
            return sum(self._hits.values())

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        with self._lock:
            self._hits[parts.path] += 1
        kind, _, name = parts.path.strip("/").partition("/")
        size = int(query.get("size", "300"))
        headers = {"X-Origin": "archive-tests"}
        if kind in {"redirect", "hop"}:
            handler.send_response(302)
            headers["Location"] = f"/{'page' if kind == 'redirect' else 'redirect'}/{name}"
            body = b""
        elif kind == "bin":
            handler.send_response(200)
            headers["Content-Type"] = "application/octet-stream"
            body = _binary(name, size)
        else:
            handler.send_response(200)
            headers["Content-Type"] = "application/json"
            body = json.dumps({"page": name, "filler": "x" * size}).encode()
            if query.get("gzip") == "1":
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
        headers["Content-Length"] = str(len(body))
        for header, value in headers.items():
            handler.send_header(header, value)
        handler.end_headers()
        handler.wfile.write(body)


def _binary(name: str, size: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{name}/{counter}".encode()).digest()
        counter += 1
    return out[:size]


Fields = list[tuple[str, str]]

_PAGE = (
    b"<!doctype html><html><head><title>Archive</title>"
    b'<link rel="stylesheet" href="/style.css"><script src="/app.js"></script></head>'
    b'<body><img src="/logo.png" alt="logo"><p>Hello, archive.</p></body></html>'
)
_COOKIES: Fields = [
    ("Set-Cookie", "session=abc123; Path=/; HttpOnly"),
    ("set-cookie", "theme=dark; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
]
#: What :class:`Site` answers: path (with query) -> status, header fields in order, body.
#: ``/revalidate`` answers a request with ``If-None-Match: "v1"`` with :data:`NOT_MODIFIED`.
SITE: dict[str, tuple[int, Fields, bytes]] = {
    "/": (200, [("Content-Type", "text/html; charset=utf-8")], _PAGE),
    "/style.css": (200, [("Content-Type", "text/css")], b"body { color: #333; }\n"),
    "/app.js": (200, [("Content-Type", "text/javascript")], b"console.log('archived');\n"),
    "/logo.png": (200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
    "/api/items?page=1": (
        200,
        [("Content-Type", "application/json"), ("Vary", "Accept")],
        b'{"items": [1, 2, 3], "page": 1}',
    ),
    "/account": (200, [("Content-Type", "application/json")], b'{"plan": "basic"}'),
    "/moved": (302, [("Location", "/landing")], b""),
    "/landing": (200, [("Content-Type", "text/html")], b"<p>You have landed.</p>"),
    "/zipped": (
        200,
        [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
        gzip.compress(b"compressible " * 200, mtime=0),
    ),
    # Interleaved, the second cookie's name in lower case: both kept as sent.
    "/login": (
        200,
        [("Content-Type", "text/plain"), _COOKIES[0], ("X-Mode", "a"), _COOKIES[1]],
        b"ok",
    ),
    "/hop-by-hop": (
        200,
        [
            ("Content-Type", "text/plain"),
            ("Connection", "X-Private"),
            ("X-Private", "1"),
            ("Keep-Alive", "timeout=5"),
            ("X-Kept", "1"),
            ("X-Kept", "2"),
        ],
        b"hop",
    ),
    "/to-secret?api_key=s3cret": (
        302,
        [("Location", "/landing?api_key=s3cret"), ("Content-Location", "/c?api_key=s3cret")],
        b"",
    ),
    "/landing?api_key=s3cret": (200, [("Content-Type", "text/html")], b"<p>secret</p>"),
    "/revalidate": (
        200,
        [
            ("ETag", '"v1"'),
            ("Cache-Control", "max-age=0"),
            ("X-Tag", "one"),
            *_COOKIES,
            ("Content-Type", "text/plain"),
        ],
        b"v1",
    ),
}
NOT_MODIFIED: Fields = [("ETag", '"v1"'), ("X-Tag", "two"), ("X-Tag", "three")]


class Site:
    """A local HTTP server answering :data:`SITE`, header fields exactly as listed."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, fields, body = SITE.get(self.path, (404, [], b""))
                if self.path == "/revalidate" and self.headers.get("If-None-Match") == '"v1"':
                    status, fields, body = 304, NOT_MODIFIED, b""
                self.send_response(status)
                for name, value in fields:
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    server = Origin()
    yield server
    server.close()


@pytest.fixture
def old_key() -> str:
    return generate_key()


@pytest.fixture
def new_key() -> str:
    return generate_key()


SessionFactory = Callable[..., CachedSession]


@pytest.fixture
def make_session(tmp_path: Path) -> Iterator[SessionFactory]:
    """Build sessions on caches under tmp_path; every one is closed after the test."""
    sessions: list[CachedSession] = []

    def make(
        name: str, keys: list[str], *, backend: Any = "sqlite", serializer: str = SPEC, **kw: Any
    ) -> CachedSession:
        session = CachedSession(
            str(tmp_path / name), backend=backend, serializer=serializer, keys=keys, **kw
        )
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()
