"""``vaultcache demo``: the first thing to run. Needs no configuration and no network.

It serves a page from 127.0.0.1, fetches it with requests, stores the response through an
encrypted pipeline, shows that the stored bytes are ciphertext carrying a key id, reads it
back, and shows that a single flipped bit is refused.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from vaultcache.errors import IntegrityError
from vaultcache.models import CachedResponse
from vaultcache.serializers import build_pipeline

__all__ = ["add_parser", "local_server"]

DEMO_SPEC = "zstd+aesgcm"
_MARKER = "account-number-4111"


class _DemoHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(
            {"path": self.path, "private": _MARKER, "items": list(range(200))}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=60")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the demo's output readable."""


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """Serve demo pages on a free port of 127.0.0.1; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DemoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def add_parser(commands: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser = commands.add_parser("demo", help="an encrypted round trip against a local server")
    parser.add_argument("--serializer", default=DEMO_SPEC, help=f"spec (default {DEMO_SPEC})")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    pipeline = build_pipeline(args.serializer)
    with local_server() as base_url:
        started = time.perf_counter()
        response = requests.get(f"{base_url}/accounts", timeout=10)
        fetch_ms = (time.perf_counter() - started) * 1000
    cached = CachedResponse.from_response(response)
    print(
        f"fetched   {response.url}: {response.status_code}, {len(response.content)} bytes "
        f"in {fetch_ms:.1f} ms"
    )

    started = time.perf_counter()
    stored = pipeline.dumps(cached)
    dumps_ms = (time.perf_counter() - started) * 1000
    print(f"stored    {len(stored)} bytes through {pipeline.spec} in {dumps_ms:.2f} ms")
    print(f"          header: format v{stored[2]}, key id {stored[4:12].hex()}")
    visible = _MARKER.encode() in stored or b"accounts" in stored
    print(f"          plaintext visible in stored bytes: {'YES' if visible else 'no'}")

    started = time.perf_counter()
    restored = pipeline.loads(stored)
    loads_ms = (time.perf_counter() - started) * 1000
    intact = restored == cached
    print(
        f"read back {len(restored.content)} bytes in {loads_ms:.2f} ms; "
        f"identical: {'yes' if intact else 'NO'}"
    )

    tampered = bytearray(stored)
    tampered[len(tampered) // 2] ^= 0x01
    try:
        pipeline.loads(bytes(tampered))
    except IntegrityError:
        refused = True
        print("tampered  one flipped bit: refused (IntegrityError), would be a cache miss")
    else:
        refused = False
        print("tampered  one flipped bit: ACCEPTED")
    return 0 if intact and refused and (not visible or not _encrypts(pipeline.spec)) else 1


def _encrypts(spec: str) -> bool:
    return any(name in {"aesgcm", "fernet"} for name in spec.split("+"))
