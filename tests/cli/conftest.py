"""Fixtures for the command tests: a local origin, caches built in a temp dir, and a runner.

Every test runs ``python -m vaultcache.cli`` in a subprocess, as a user would, with
``VAULTCACHE_KEYS`` and ``VAULTCACHE_DATA_DIR`` set for it and the temp dir as its working
directory (so no config file of the developer's is found). Caches are filled in-process,
through a :class:`~vaultcache.session.CachedSession`, from an HTTP server on 127.0.0.1.

Origin routes: ``/data/<name>`` (JSON naming the path, with an ETag; a matching
If-None-Match gets a 304), ``/binary`` (every byte value), ``/status/<code>`` and
``/redirect/<n>/<name>`` (a 302 to ``/redirect/<n-1>/<name>``, and from ``/redirect/1/<name>``
to ``/data/<name>``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import vaultcache.clock
from vaultcache import generate_key
from vaultcache.session import CachedSession

#: Text in every /data body: it must never show up in what the inspection commands print.
SECRET_MARKER = "account-number-4111"
BINARY_BODY = bytes(range(256)) * 4


class _Handler(BaseHTTPRequestHandler):
    server: _OriginServer

    def do_GET(self) -> None:
        origin = self.server.origin
        path = self.path.split("?", 1)[0]
        origin.record(path, dict(self.headers.items()))
        if path.startswith("/data/"):
            etag = f'"v1-{path}"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", {"ETag": etag})
                return
            body = json.dumps({"path": path, "private": SECRET_MARKER}).encode()
            self._send(200, body, {"Content-Type": "application/json", "ETag": etag})
        elif path == "/binary":
            self._send(200, BINARY_BODY, {"Content-Type": "application/octet-stream"})
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._send(code, f"status {code}".encode(), {"Content-Type": "text/plain"})
        elif path.startswith("/redirect/"):
            _, _, hops, name = path.split("/", 3)
            target = f"/redirect/{int(hops) - 1}/{name}" if int(hops) > 1 else f"/data/{name}"
            self._send(302, b"", {"Location": target})
        else:
            self._send(404, b"no such route", {"Content-Type": "text/plain"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _OriginServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        super().__init__(("127.0.0.1", 0), _Handler)


class Origin:
    """The local HTTP server: its URLs, and what reached it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self.requests: list[dict[str, str]] = []
        self._server = _OriginServer(self)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.binary_body = BINARY_BODY
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        """The absolute URL of `path`."""
        return self.base_url + path

    def hits(self, path: str) -> int:
        """How many requests for `path` reached the server."""
        with self._lock:
            return self._hits[path]

    def record(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self._hits[path] += 1
            self.requests.append(headers)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture(scope="session")
def origin() -> Iterator[Origin]:
    """The local origin server, shared by every test."""
    server = Origin()
    yield server
    server.close()


@dataclass
class Result:
    """What one run of the command did."""

    status: int
    stdout: bytes
    stderr: str

    @property
    def out(self) -> str:
        """stdout as text."""
        return self.stdout.decode("utf-8")

    def json(self) -> Any:
        """stdout parsed as one JSON document."""
        return json.loads(self.stdout)

    def assert_error(self, status: int, *fragments: str) -> None:
        """Exit status `status`, and stderr is one ``vaultcache: error:`` line with `fragments`."""
        assert self.status == status, (self.status, self.stderr)
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("vaultcache: error: "), self.stderr
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])


@dataclass
class Cli:
    """Runs ``python -m vaultcache.cli`` with the test's key and data directory.

    `wrapper` is a command to run it under (such as one that mounts a folder read-only).
    """

    cwd: Path
    key: str
    env: dict[str, str] = field(default_factory=dict)

    def __call__(
        self, *args: str, keys: str | None = None, wrapper: Sequence[str] = (), **env: str
    ) -> Result:
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("VAULTCACHE_") and name != "PYTHONWARNINGS"
        }
        environment.update(self.env)
        environment["VAULTCACHE_DATA_DIR"] = str(self.cwd / "data")
        if keys != "":
            environment["VAULTCACHE_KEYS"] = self.key if keys is None else keys
        environment.update(env)
        completed = subprocess.run(
            [*wrapper, sys.executable, "-m", "vaultcache.cli", *args],
            cwd=self.cwd,
            env=environment,
            capture_output=True,
            timeout=60,
            check=False,
        )
        result = Result(completed.returncode, completed.stdout, completed.stderr.decode())
        if "--debug" not in args:
            assert "Traceback" not in result.stderr, result.stderr
        return result


@pytest.fixture
def key() -> str:
    """The key the test's caches are written with."""
    return generate_key()


@pytest.fixture
def cli(tmp_path: Path, key: str) -> Cli:
    """The command, run in `tmp_path` with `key` in VAULTCACHE_KEYS."""
    return Cli(cwd=tmp_path, key=key)


@dataclass
class BuiltCache:
    """A cache filled from the origin: where it is, its key, and what it holds."""

    name: str  # as --cache takes it
    key: str
    backend: str
    urls: dict[str, str]  # label -> URL of each stored response
    #: How many response entries the cache holds, and text every /data body contains.
    entries: int = 6
    marker: str = SECRET_MARKER

    def session(self, **kwargs: Any) -> CachedSession:
        """A session on this cache, with its key."""
        return CachedSession(self.name, backend=self.backend, keys=[self.key], **kwargs)

    def raw(self) -> dict[str, bytes]:
        """Every stored response entry's bytes, by cache key."""
        session = self.session()
        try:
            storage = session.cache.storage
            return {k: storage[k] for k in storage}
        finally:
            session.close()

    def key_of(self, label: str) -> str:
        """The cache key of the response stored for the URL labelled `label`."""
        session = self.session()
        try:
            (found,) = [r.cache_key for r in session.cache.filter() if r.url == self.urls[label]]
            return found
        finally:
            session.close()

    def corrupt(self, *labels: str) -> list[str]:
        """Flip one byte in the middle of the entries for `labels`; return their keys."""
        keys = [self.key_of(label) for label in labels]
        session = self.session()
        try:
            storage = session.cache.storage
            for cache_key in keys:
                data = bytearray(storage[cache_key])
                data[len(data) // 2] ^= 0xFF
                storage[cache_key] = bytes(data)
            return keys
        finally:
            session.close()


def build_cache(
    origin: Origin,
    directory: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    backend: str = "sqlite",
) -> BuiltCache:
    """Fill a cache in `directory`: 5 fresh responses (one, two, binary, missing: a 404,
    three: behind a redirect), 1 expired one created 40 days ago (old), and 1 redirect."""
    name = str(directory / ("cache" if backend == "sqlite" else "fscache"))
    urls = {
        "one": origin.url("/data/one"),
        "two": origin.url("/data/two"),
        "binary": origin.url("/binary"),
        "missing": origin.url("/status/404"),
        "three": origin.url("/data/three"),
        "old": origin.url("/data/old"),
    }
    built = BuiltCache(name=name, key=key, backend=backend, urls=urls)
    session = built.session(expire_after=timedelta(hours=1), allowable_codes=(200, 404))
    try:
        for label in ("one", "two", "binary", "missing"):
            session.get(urls[label], timeout=10)
        # The response is stored under the final URL's key; both hops get a redirect.
        session.get(origin.url("/redirect/2/three"), timeout=10)
        past = vaultcache.clock.now() - timedelta(days=40)
        with monkeypatch.context() as patch:
            patch.setattr(vaultcache.clock, "now", lambda: past)
            session.get(urls["old"], expire_after=timedelta(days=1), timeout=10)
        assert len(session.cache.storage) == built.entries
        assert len(session.cache.redirect_storage) == 2
    finally:
        session.close()
    return built


@pytest.fixture
def cache(origin: Origin, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> BuiltCache:
    """A sqlite cache in the test's temp dir, filled by :func:`build_cache`."""
    return build_cache(origin, tmp_path, key, monkeypatch)


@pytest.fixture
def fs_cache(
    origin: Origin, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> BuiltCache:
    """As :func:`cache`, on the filesystem backend; ``fs.toml`` in the temp dir configures it."""
    built = build_cache(origin, tmp_path, key, monkeypatch, backend="filesystem")
    (tmp_path / "fs.toml").write_text(f'backend = "filesystem"\nname = {json.dumps(built.name)}\n')
    return built
