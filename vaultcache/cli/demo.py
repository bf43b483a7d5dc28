"""``vaultcache demo``: the first thing to run. Needs no configuration and no network.

It serves a page from 127.0.0.1 and fetches it twice through a CachedSession on an encrypted
sqlite cache in a temporary folder: a miss, then a hit, with timings. The key is the one
configured, if there is one; else a temporary key that is never saved (the demo leaves no
key file behind, as it leaves no cache). It shows that the stored
bytes are ciphertext carrying a key id and that every entry verifies, then flips one stored
bit and shows the entry is discarded and the page fetched again, never served.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from vaultcache.cli.scan import scan
from vaultcache.crypto_key_sources import load_key_ring
from vaultcache.crypto_keys import KeyRing, generate_key
from vaultcache.entries import peek_key_id
from vaultcache.errors import KeyRingError
from vaultcache.models import AnyResponse
from vaultcache.session import CachedSession

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
    parser = commands.add_parser("demo", help="miss, hit and a tamper check against a local server")
    parser.add_argument("--serializer", default=DEMO_SPEC, help=f"spec (default {DEMO_SPEC})")
    parser.set_defaults(run=_run)


def _timed_get(session: CachedSession, url: str) -> tuple[AnyResponse, float]:
    started = time.perf_counter()
    response = session.request("GET", url, timeout=10)
    return response, (time.perf_counter() - started) * 1000


def _run(args: argparse.Namespace) -> int:
    checks: list[bool] = []
    with local_server() as base_url, tempfile.TemporaryDirectory() as folder:
        url = f"{base_url}/accounts"
        keys, key_note = _demo_keys()
        session = CachedSession(str(Path(folder) / "demo"), serializer=args.serializer, keys=keys)
        print(f"cache     sqlite in a temporary folder, serializer {session.cache.serializer.spec}")
        print(f"key       {key_note}")
        miss, miss_ms = _timed_get(session, url)
        hit, hit_ms = _timed_get(session, url)
        print(
            f"miss      {miss.status_code}, {len(miss.content)} bytes in {miss_ms:.2f} ms "
            f"(from_cache={miss.from_cache})"
        )
        print(
            f"hit       {hit.status_code}, {len(hit.content)} bytes in {hit_ms:.2f} ms "
            f"(from_cache={hit.from_cache})"
        )
        checks += [not miss.from_cache, hit.from_cache, hit.content == miss.content]

        key = hit.cache_key
        stored = session.cache.storage[key]
        visible = _MARKER.encode() in stored or b"accounts" in stored
        print(
            f"stored    {len(stored)} bytes; key id {peek_key_id(stored) or '-'}; "
            f"plaintext visible: {'YES' if visible else 'no'}"
        )
        checks.append(not visible or not _encrypts(session.cache.serializer.spec))

        entries = list(scan(session.cache, "verify"))
        good = sum(entry.readable for entry in entries)
        print(f"verify    {len(entries)} entry checked: {good} authentic and decoded")
        checks.append(good == len(entries) == 1)

        tampered = bytearray(stored)
        tampered[len(tampered) // 2] ^= 0x01
        session.cache.storage[key] = bytes(tampered)
        again, _ = _timed_get(session, url)
        print(
            f"tampered  one flipped bit: entry discarded, served from origin "
            f"(from_cache={again.from_cache}, discarded={session.cache.stats.discarded})"
        )
        checks += [not again.from_cache, session.cache.stats.discarded == 1]
        session.close()
    print("demo      all checks passed" if all(checks) else "demo      A CHECK FAILED")
    return 0 if all(checks) else 1


def _demo_keys() -> tuple[KeyRing, str]:
    """The configured key ring, or a temporary one; and a line that says which."""
    try:
        return load_key_ring(auto_create=False), "the configured key ring"
    except KeyRingError:
        return KeyRing([generate_key()]), "a temporary key (no key is configured; none is saved)"


def _encrypts(spec: str) -> bool:
    return any(name in {"aesgcm", "fernet"} for name in spec.split("+"))
