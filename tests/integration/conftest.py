"""Fixtures for the integration tests: a real HTTP origin on 127.0.0.1 and cached sessions.

The origin (:class:`Origin`) is a ``ThreadingHTTPServer`` in a background thread. Every
request is counted per path and its headers are recorded, so tests can assert exactly how
many requests reached the origin and what they carried. Routes:

``/data/<anything>``
    A JSON body of exactly ``size`` bytes (query parameter, default 256) that names the path
    and its current version (see :meth:`Origin.bump`). Caching headers come from query
    parameters: ``cc`` (Cache-Control), ``expires`` (Expires, sent even when empty), ``etag=1``
    (an ETag derived from path and version), ``lm=1`` (a Last-Modified), ``vary`` (Vary; the
    body then also reports the values of those request headers). A matching If-None-Match or
    If-Modified-Since gets a 304. ``gzip=1`` sends the body gzip-encoded, ``chunked=1`` with
    chunked transfer coding, ``status=N`` with another status code.
``/echo/<anything>``
    As ``/data``, but the body is the request as received: method, path, query, headers and
    body, as JSON.
``/redirect/<n>/<target path>``
    A redirect (``code``, default 302) to ``/redirect/<n-1>/<target path>``, and from
    ``/redirect/1/...`` to ``/<target path>``; the query string is kept on every hop.

:meth:`Origin.fail` makes one path answer 500, and :meth:`Origin.hold` makes its requests wait
for an Event, until :meth:`Origin.reset`.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import socket
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from vaultcache.session import CachedSession

BACKENDS = ("sqlite", "filesystem", "memory")
#: Fixed Last-Modified of version 1 of every resource; later versions are a day apart.
LAST_MODIFIED = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
#: How long a test waits for something another thread does before failing (never slept).
WAIT_SECONDS = 10.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every open keep-alive connection, so clients must connect anew."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Origin:
    """The test origin server: its address, its per-path hit counts and recorded requests."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._hits: Counter[str] = Counter()
        self._requests: dict[str, list[dict[str, str]]] = defaultdict(list)
        self._versions: dict[str, int] = {}
        self._failing: dict[str, int] = {}
        self._holds: dict[str, threading.Event] = {}
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="integration-origin",
            daemon=True,
        )
        self._thread.start()

    # -- for tests ------------------------------------------------------------------------

    def url(self, path: str, **params: Any) -> str:
        """The absolute URL of `path` with `params` as its query string."""
        query = urlencode({name: str(value) for name, value in params.items()})
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def hits(self, path: str) -> int:
        """How many requests for `path` (query ignored) reached the origin."""
        with self._condition:
            return self._hits[path]

    def total_hits(self) -> int:
        """How many requests reached the origin since the last reset."""
        with self._condition:
            return sum(self._hits.values())

    def request_headers(self, path: str, index: int = -1) -> dict[str, str]:
        """The headers of one recorded request for `path` (the latest by default)."""
        with self._condition:
            return dict(self._requests[path][index])

    def wait_for_hits(self, path: str, count: int, timeout: float = WAIT_SECONDS) -> bool:
        """Block until `path` has had at least `count` hits; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: self._hits[path] >= count, timeout)

    def version(self, path: str) -> int:
        with self._condition:
            return self._versions.get(path, 1)

    def bump(self, path: str) -> int:
        """Change the resource at `path`: new body, ETag and Last-Modified."""
        with self._condition:
            self._versions[path] = self._versions.get(path, 1) + 1
            return self._versions[path]

    def fail(self, path: str, status: int = 500) -> None:
        """Make `path` answer `status` from now on."""
        with self._condition:
            self._failing[path] = status

    def hold(self, path: str) -> threading.Event:
        """Make requests for `path` wait (at most WAIT_SECONDS) until the Event is set."""
        gate = threading.Event()
        with self._condition:
            self._holds[path] = gate
        return gate

    def reset(self) -> None:
        with self._condition:
            self._hits.clear()
            self._requests.clear()
            self._versions.clear()
            self._failing.clear()
            holds, self._holds = list(self._holds.values()), {}
        for gate in holds:
            gate.set()

    def close(self) -> None:
        """Stop serving and cut open connections: later requests are refused."""
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        self._thread.join(WAIT_SECONDS)

    # -- for the handler ------------------------------------------------------------------

    def _record(self, path: str, headers: dict[str, str]) -> tuple[int, int | None]:
        with self._condition:
            self._hits[path] += 1
            self._requests[path].append(headers)
            self._condition.notify_all()
            gate = self._holds.get(path)
            version, failing = self._versions.get(path, 1), self._failing.get(path)
        if gate is not None:
            gate.wait(WAIT_SECONDS)
        return version, failing


def body_of_size(document: dict[str, Any], size: int) -> bytes:
    """`document` as JSON, padded with a ``pad`` field to exactly `size` bytes if it fits."""
    base = json.dumps({**document, "pad": ""}, sort_keys=True).encode()
    padding = max(0, size - len(base))
    return json.dumps({**document, "pad": "x" * padding}, sort_keys=True).encode()


def etag_for(path: str, version: int) -> str:
    return '"' + hashlib.sha256(f"{path}:{version}".encode()).hexdigest()[:16] + '"'


def last_modified_for(version: int) -> str:
    return format_datetime(LAST_MODIFIED + timedelta(days=version - 1), usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def do_GET(self) -> None:
        self._handle(b"")

    def do_HEAD(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length))

    def _handle(self, body: bytes) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = {
            name: values[-1]
            for name, values in parse_qs(parts.query, keep_blank_values=True).items()
        }
        headers = dict(self.headers.items())
        version, failing = self.server.origin._record(path, headers)
        if failing is not None:
            self._send(failing, {"Content-Type": "text/plain"}, b"origin failure")
        elif path.startswith("/redirect/"):
            self._redirect(path, parts.query, query)
        elif path.startswith(("/data/", "/echo/")):
            self._resource(path, query, version, body)
        else:
            self._send(404, {"Content-Type": "text/plain"}, b"no such route")

    def _redirect(self, path: str, raw_query: str, query: dict[str, str]) -> None:
        _, _, hops, target = path.split("/", 3)
        remaining = int(hops) - 1
        location = f"/redirect/{remaining}/{target}" if remaining > 0 else f"/{target}"
        if raw_query:
            location += f"?{raw_query}"
        self._send(int(query.get("code", 302)), {"Location": location}, b"")

    def _resource(self, path: str, query: dict[str, str], version: int, body: bytes) -> None:
        headers: dict[str, str] = {"Content-Type": "application/json"}
        if "cc" in query:
            headers["Cache-Control"] = query["cc"]
        if "expires" in query:
            headers["Expires"] = query["expires"]
        etag = etag_for(path, version) if query.get("etag") == "1" else None
        last_modified = last_modified_for(version) if query.get("lm") == "1" else None
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        if "vary" in query:
            headers["Vary"] = query["vary"]
        if self._not_modified(etag, last_modified):
            self._send(304, headers, b"")
            return
        if path.startswith("/echo/"):
            document: dict[str, Any] = {
                "method": self.command,
                "path": path,
                "query": query,
                "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace"),
            }
            content = json.dumps(document, sort_keys=True).encode()
        else:
            document = {"path": path, "version": version}
            for name in (query.get("vary") or "").split(","):
                if name.strip():
                    document[f"vary:{name.strip().lower()}"] = self.headers.get(name.strip())
            content = body_of_size(document, int(query.get("size", 256)))
        if query.get("gzip") == "1":
            content = gzip.compress(content)
            headers["Content-Encoding"] = "gzip"
        status = int(query.get("status", 200))
        self._send(status, headers, content, chunked=query.get("chunked") == "1")

    def _not_modified(self, etag: str | None, last_modified: str | None) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag is not None and etag in [t.strip() for t in if_none_match.split(",")]
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since is not None and last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            return parsedate_to_datetime(last_modified) <= since
        return False

    def _send(
        self, status: int, headers: dict[str, str], content: bytes, *, chunked: bool = False
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif status != 304:
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command == "HEAD" or status == 304:
            return
        if chunked:
            for start in range(0, len(content), 100):
                piece = content[start : start + 100]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(content)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def origin_server() -> Iterator[Origin]:
    """The origin for the whole run (tests use :func:`origin`, which resets it)."""
    server = Origin()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def origin(origin_server: Origin) -> Origin:
    """The shared origin, with hit counts, recorded requests and versions reset."""
    origin_server.reset()
    return origin_server


@pytest.fixture
def origin_factory() -> Iterator[Callable[[], Origin]]:
    """Start extra origins (a test may close one to get refused connections)."""
    started: list[Origin] = []

    def start() -> Origin:
        server = Origin()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def session(make_session: Callable[..., CachedSession]) -> CachedSession:
    """``CachedSession(<tmp>/cache, keys=[generate_key()])``: sqlite, the default."""
    return make_session()


@pytest.fixture(params=BACKENDS)
def backend_session(
    request: pytest.FixtureRequest, make_session: Callable[..., CachedSession]
) -> CachedSession:
    """The same session on each built-in backend in turn."""
    return make_session(request.param)
