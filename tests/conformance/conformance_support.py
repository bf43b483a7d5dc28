"""Running the HTTP caching conformance suite (cache-tests.fyi) against vaultcache.

Not a test module. The suite, vendored unchanged in ``cache-tests/``, is copied to a temporary
directory, its server patched to listen on loopback only, and its npm packages installed
there. Its origin server listens on a port the system picks (port 0); each mode gets a
:class:`Gateway`, an HTTP server on another system-picked port that forwards every request
through one :class:`~vaultcache.CachedSession` to the origin. The suite's CLI runs against
each gateway, and ``classify.mjs`` scores its results with the suite's own ``results.mjs``.

Run as a script to print the scores or to rewrite the baseline::

    .venv/bin/python tests/conformance/conformance_support.py [--write-baseline]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import BaseHTTPResponse

from vaultcache import CachedSession, generate_key

HERE = Path(__file__).resolve().parent
VENDORED = HERE / "cache-tests"
CLASSIFIER = HERE / "classify.mjs"
BASELINE = HERE / "baseline.json"

#: The session arguments of each mode the suite scores.
MODES: dict[str, dict[str, Any]] = {
    "default": {"cache_control": True},
    "private": {"rfc9111": "private"},
    "private+stale_if_error": {"rfc9111": "private", "stale_if_error": True},
    "shared": {"rfc9111": "shared", "cdn_cache_control": True},
    "shared+stale_if_error": {
        "rfc9111": "shared",
        "cdn_cache_control": True,
        "stale_if_error": True,
    },
}

#: Names a node_modules folder holding the suite's packages, installed beforehand.
NODE_MODULES_VARIABLE = "VAULTCACHE_CACHE_TESTS_NODE_MODULES"

#: How long one run of the suite's CLI may take before the run counts as failed.
RUN_SECONDS = 600
#: How long npm may take to install the suite's packages.
INSTALL_SECONDS = 300

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_NO_BODY = frozenset({204, 304})
#: Content codings that requests (urllib3) decodes: the gateway relays the decoded body.
_DECODED = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd"})


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Refuse every cookie: a Set-Cookie from one test must not reach the next one."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class _InterimClosingAdapter(HTTPAdapter):
    """Closes the connection of a response with an interim (1xx) status.

    http.client takes an interim response such as 103 Early Hints for the final one and
    leaves the real final response unread on the connection; back in the pool, that
    connection would answer some later request with it.
    """

    def build_response(self, req: requests.PreparedRequest, resp: BaseHTTPResponse) -> Any:
        if resp.status < 200:
            resp.close()
        return super().build_response(req, resp)


def gateway_session(**kwargs: Any) -> CachedSession:
    """A CachedSession for a gateway: in memory, no default headers, no cookie jar."""
    session = CachedSession("conformance", backend="memory", keys=[generate_key()], **kwargs)
    session.mount("http://", _InterimClosingAdapter())
    session.headers.clear()
    session.cookies.set_policy(_NoCookies())
    session.trust_env = False
    return session


class Gateway:
    """An HTTP gateway on 127.0.0.1 that forwards to `origin` through `session`."""

    def __init__(self, session: CachedSession, origin: str) -> None:
        self.session = session
        self.origin = origin.rstrip("/")
        handler = type("Handler", (_Handler,), {"gateway": self})
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        self.session.close()

    def forward(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> requests.Response:
        """Send one request through the cache to the origin (redirects are the client's)."""
        return self.session.request(
            method,
            self.origin + path,
            headers=dict(headers),
            data=body,
            allow_redirects=False,
            timeout=30,
        )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a request (the suite aborts slow ones) is no error."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    gateway: Gateway

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        incoming: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for name, value in self.headers.items():
            if name.lower() not in _HOP_BY_HOP:
                joined = incoming.get(name)
                incoming[name] = value if joined is None else f"{joined}, {value}"
        try:
            response = self.gateway.forward(self.command, self.path, incoming, body)
        except requests.RequestException as exc:
            self._answer(502, "Bad Gateway", {}, type(exc).__name__.encode())
            return
        if response.status_code < 200:
            # requests cannot pass interim responses on, and this one hid the final response.
            self._answer(502, "Bad Gateway", {}, b"interim response")
            return
        self._answer(
            response.status_code, response.reason or "", response.headers, response.content
        )

    def _answer(self, status: int, reason: str, headers: Mapping[str, str], content: bytes) -> None:
        self.send_response_only(status, reason)
        for name, value in headers.items():
            lowered = name.lower()
            if lowered in _HOP_BY_HOP or (lowered == "content-encoding" and value in _DECODED):
                continue  # requests decoded the body; the length is the relayed body's
            self.send_header(name, value)
        has_body = self.command != "HEAD" and status not in _NO_BODY
        if has_body:
            self.send_header("Content-Length", str(len(content)))
        elif "Content-Length" in headers:
            self.send_header("Content-Length", headers["Content-Length"])
        self.end_headers()
        if has_body:
            self.wfile.write(content)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _relay

    def handle_one_request(self) -> None:
        """Relay any method, extension methods included (M-SEARCH, FOO)."""
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        self._relay()
        self.wfile.flush()


def prepare_suite(directory: Path) -> Path:
    """A runnable copy of the vendored suite in `directory`: loopback server, packages.

    The packages are those installed where :data:`NODE_MODULES_VARIABLE` points (``.ci/run``
    installs them once), else npm installs them into the copy.
    """
    suite = directory / "cache-tests"
    shutil.copytree(VENDORED, suite)
    server = suite / "test-engine" / "server" / "server.mjs"
    source = server.read_text()
    patched = source.replace("server.listen(port)", "server.listen(port, '127.0.0.1')")
    if patched == source:
        raise RuntimeError("cache-tests server.mjs changed: cannot bind it to 127.0.0.1")
    server.write_text(patched)
    shutil.copy(CLASSIFIER, suite / CLASSIFIER.name)
    installed = os.environ.get(NODE_MODULES_VARIABLE)
    if installed:
        (suite / "node_modules").symlink_to(Path(installed).resolve(), target_is_directory=True)
        return suite
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    subprocess.run(
        [npm, "install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=suite,
        check=True,
        capture_output=True,
        timeout=INSTALL_SECONDS,
    )
    return suite


@contextmanager
def origin_server(suite: Path) -> Iterator[str]:
    """The suite's origin server on a port the system picks; yields its base URL."""
    environment = {
        **os.environ,
        "npm_config_protocol": "http",
        "npm_config_port": "0",
        "npm_config_pidfile": str(suite / "server.pid"),
    }
    process = subprocess.Popen(
        [_node(), "test-engine/server/server.mjs"],
        cwd=suite,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    drain = threading.Thread(target=process.stdout.read, daemon=True)
    try:
        # The server prints its address once it listens; readline blocks until then.
        first = process.stdout.readline()
        match = re.search(r"Listening on http://127\.0\.0\.1:([0-9]+)/", first)
        if match is None:
            raise RuntimeError(f"cache-tests server did not start: {first!r}")
        drain.start()  # keep reading its log, so a full pipe never blocks the server
        yield f"http://127.0.0.1:{match[1]}"
    finally:
        process.terminate()
        process.wait(30)
        if drain.is_alive():
            drain.join(30)
        process.stdout.close()


def run_suite(suite: Path, base_url: str) -> dict[str, Any]:
    """The suite's raw results (test id -> result) for the cache at `base_url`."""
    environment = {**os.environ, "npm_config_base": base_url, "npm_package_config_id": ""}
    done = subprocess.run(
        [_node(), "--no-warnings", "test-engine/cli.mjs"],
        check=False,
        cwd=suite,
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
    )
    if done.returncode != 0:
        raise RuntimeError(f"cache-tests CLI failed ({done.returncode}): {done.stderr[-2000:]}")
    results: dict[str, Any] = json.loads(done.stdout)
    return results


def classify(suite: Path, results: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Each test's kind and result under the website's rules (dependencies honoured)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=suite, delete=False) as file:
        json.dump(results, file)
    done = subprocess.run(
        [_node(), CLASSIFIER.name, file.name],
        cwd=suite,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    classified: dict[str, dict[str, str]] = json.loads(done.stdout)
    return classified


def score_all(
    suite: Path, modes: list[str], expected: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, dict[str, dict[str, str]]]:
    """Every mode in `modes`, run side by side against one origin server.

    The suite times its tests with pauses of a few seconds, so a loaded machine can change a
    result that says nothing about the cache (a request of its own timing out). Where
    `expected` (the baseline) has another result for a test, that test's mode is run once
    more, alone, and the test takes the result of that run: a real change shows in both.
    """
    scores = _score(suite, modes)
    expected = expected or {}
    retry = {
        mode: [
            test
            for test, entry in scores[mode].items()
            if test in expected.get(mode, {}) and expected[mode][test] != entry["result"]
        ]
        for mode in modes
    }
    for mode, tests in retry.items():
        if tests:
            again = _score(suite, [mode])[mode]
            for test in tests:
                scores[mode][test] = again[test]
    return scores


def _score(suite: Path, modes: list[str]) -> dict[str, dict[str, dict[str, str]]]:
    with origin_server(suite) as origin, ExitStack() as stack:
        # Sessions are built one after another: the plugin registry loads on first use.
        gateways = {
            mode: stack.enter_context(Gateway(gateway_session(**MODES[mode]), origin))
            for mode in modes
        }
        with ThreadPoolExecutor(len(modes)) as pool:
            runs = {mode: pool.submit(run_suite, suite, gateways[mode].url) for mode in modes}
            results = {mode: run.result() for mode, run in runs.items()}
    return {mode: classify(suite, results[mode]) for mode in modes}


def summary(classified: Mapping[str, Mapping[str, str]]) -> str:
    """Passes of the required and optimal tests and the checks, of those the CLI runs.

    Browser-only tests are never run against a gateway ("untested") and are not counted.
    """
    run = [entry for entry in classified.values() if entry["result"] != "untested"]
    counts = Counter((entry["kind"], entry["result"]) for entry in run)
    totals = Counter(entry["kind"] for entry in run)
    return (
        f"required {counts['required', 'pass']}/{totals['required']}, "
        f"optimal {counts['optimal', 'pass']}/{totals['optimal']}, "
        f"checks yes {counts['check', 'yes']}/{totals['check']}"
    )


def baseline_entry(classified: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """A mode's results as stored in the baseline: test id -> result."""
    return {test: entry["result"] for test, entry in sorted(classified.items())}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    return node


def main(argv: list[str] | None = None) -> int:
    """Print each mode's score; with --write-baseline, store the results as the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-baseline", action="store_true")
    parser.add_argument("--mode", action="append", choices=sorted(MODES))
    parser.add_argument("--results", help="write the classified results to this JSON file")
    arguments = parser.parse_args(argv)
    modes = arguments.mode or list(MODES)
    with tempfile.TemporaryDirectory() as directory:
        scores = score_all(prepare_suite(Path(directory)), modes)
    for mode, classified in scores.items():
        print(f"{mode}: {summary(classified)}")
    if arguments.results:
        Path(arguments.results).write_text(json.dumps(scores, indent=1, sort_keys=True) + "\n")
    if arguments.write_baseline:
        stored = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
        stored.update({mode: baseline_entry(scores[mode]) for mode in modes})
        BASELINE.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
