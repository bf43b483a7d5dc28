"""Stores and reads back a body of SIZE bytes through a session, streamed, in this process,
and prints the peak memory growth: ``python huge_body_worker.py CACHE_DIR SIZE``.

Run by test_integration_huge_body.py in a subprocess, so that its peak memory is its own.
The body is generated on the fly by a server thread and hashed as it is read; nothing holds it.
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vaultcache import CachedSession, generate_key

PIECE = 1024 * 1024


def piece(index: int) -> bytes:
    """Piece `index` of the body: compressible, and different from every other piece."""
    return (index.to_bytes(8, "big") + b"vaultcache huge body".ljust(56, b".")) * (PIECE // 64)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    size = 0

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(self.size))
        self.end_headers()
        for index in range(self.size // PIECE):
            self.wfile.write(piece(index))


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(cache_dir: str, size: int) -> None:
    Handler.size = size
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/huge"
    expected = hashlib.sha256()
    for index in range(size // PIECE):
        expected.update(piece(index))
    session = CachedSession(cache_dir, keys=[generate_key()])
    # Warm up every code path once on a small body, so the baseline includes them.
    Handler.size, small = 3 * PIECE, Handler.size
    with session.get(url + "?warm", stream=True) as warm:
        for _ in warm.iter_content(PIECE):
            pass
    for _ in session.get(url + "?warm", stream=True).iter_content(PIECE):
        pass
    Handler.size = small
    baseline = peak_kib()

    stored = hashlib.sha256()
    with session.get(url, stream=True) as miss:
        for chunk in miss.iter_content(PIECE):
            stored.update(chunk)
    after_store = peak_kib()
    read = hashlib.sha256()
    hit = session.get(url, stream=True)
    for chunk in hit.iter_content(PIECE):
        read.update(chunk)
    print(
        json.dumps(
            {
                "from_cache": [miss.from_cache, hit.from_cache],
                "same": stored.digest() == expected.digest() == read.digest(),
                "store_growth_mib": (after_store - baseline) / 1024,
                "hit_growth_mib": (peak_kib() - baseline) / 1024,
            }
        )
    )
    session.close()
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
