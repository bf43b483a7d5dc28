"""RedisCache built the way requests-cache users build theirs (vaultcache issue 18, item 1)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vaultcache import CachedSession, ConfigError, generate_key
from vaultcache_redis import RedisCache


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def local_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/data"
    finally:
        server.shutdown()
        server.server_close()


def test_redis_cache_by_name_with_session_options(
    redis_url: str, tmp_path: Path, local_url: str
) -> None:
    backend = RedisCache(
        namespace=f"names:{tmp_path}", url=redis_url, serializer="json", expire_after=60, ttl=True
    )
    with CachedSession(backend=backend, keys=[generate_key()]) as session:
        session.get(local_url)
        hit = session.get(local_url)

        assert hit.from_cache  # type: ignore[attr-defined]
        assert session.cache.serializer.spec == "json"
        assert session.settings.expire_after == 60
        assert backend.ttl_grace is not None


def test_redis_ttl_false_and_ttl_offset(redis_url: str, tmp_path: Path) -> None:
    no_ttl = RedisCache(f"names:{tmp_path}", url=redis_url, ttl=False)
    offset = RedisCache(f"names:{tmp_path}", url=redis_url, ttl_offset=30)
    try:
        assert no_ttl.ttl_grace is None
        assert offset.ttl_grace == 30
    finally:
        no_ttl.close()
        offset.close()


def test_a_connection_object_names_the_vaultcache_way() -> None:
    with pytest.raises(ConfigError, match="pass url="):
        RedisCache("x", connection=object())
