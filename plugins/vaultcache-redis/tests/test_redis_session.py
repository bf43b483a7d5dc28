"""CachedSession on the redis backend, end to end: a local origin, a real redis-server."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis

from vaultcache import CachedSession, generate_key
from vaultcache.plugin import clock, get_registry
from vaultcache_redis import RedisCache, RedisStorage

GRACE = 3600
BODY = b'{"message": "a body only the origin and the key holder can read"}'


class _Handler(BaseHTTPRequestHandler):
    """``/moved/<path>``: 302 to ``/<path>``; anything else: BODY, ETag, 304 on a match."""

    protocol_version = "HTTP/1.1"
    server: _Origin

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        if self.path.startswith("/moved/"):
            self._reply(302, b"", {"Location": self.path.removeprefix("/moved")})
        elif self.headers.get("If-None-Match") == '"v1"':
            self._reply(304, b"", {"ETag": '"v1"'})
        else:
            self._reply(200, BODY, {"ETag": '"v1"', "Content-Type": "application/json"})

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is not the place for an access log."""


class _Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def origin() -> Iterator[_Origin]:
    server = _Origin()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def prefix(tmp_path: Path) -> str:
    return f"session:{tmp_path}:"


@pytest.fixture
def keys() -> list[str]:
    return [generate_key()]


def _from_cache(response: object) -> bool:
    """``response.from_cache``: CachedSession returns responses that carry it, untyped."""
    return bool(getattr(response, "from_cache", False))


def _session(redis_url: str, prefix: str, keys: list[str], **kwargs: Any) -> CachedSession:
    return CachedSession(
        "e2e",
        backend="redis",
        serializer="signed+zstd+fernet",
        keys=keys,
        url=redis_url,
        prefix=prefix,
        ttl_grace=GRACE,
        **kwargs,
    )


def test_the_backend_comes_from_the_installed_distribution() -> None:
    registration = get_registry().backend("redis")
    assert registration.provider.distribution == "vaultcache-redis"
    plugin = __import__("vaultcache_redis.plugin", fromlist=["VAULTCACHE_PLUGIN_API"])
    assert plugin.VAULTCACHE_PLUGIN_API == 1


def test_hits_are_shared_between_sessions_and_stored_encrypted(
    origin: _Origin, redis_url: str, prefix: str, keys: list[str]
) -> None:
    url = f"{origin.url}/data/shared"
    with _session(redis_url, prefix, keys, expire_after=60) as first:
        assert isinstance(first.cache, RedisCache)
        assert not _from_cache(first.get(url))
        again = first.get(url)
        assert _from_cache(again)
        assert again.content == BODY
    # Another session (in real use: another process or host) on the same server and keys.
    with _session(redis_url, prefix, keys, expire_after=60) as second:
        response = second.get(url)
        assert _from_cache(response)
        assert response.content == BODY
        storage = second.cache.storage
        assert isinstance(storage, RedisStorage)
        (key,) = list(storage)
        assert b"only the origin" not in storage[key]
    assert origin.hits["/data/shared"] == 1


def test_a_session_without_the_key_gets_a_miss_not_the_data(
    origin: _Origin, redis_url: str, prefix: str, keys: list[str]
) -> None:
    url = f"{origin.url}/data/private"
    with _session(redis_url, prefix, keys, expire_after=60) as owner:
        owner.get(url)
    with _session(redis_url, prefix, [generate_key()], expire_after=60) as stranger:
        assert not _from_cache(stranger.get(url))
    assert origin.hits["/data/private"] == 2


def test_the_ttl_is_the_remaining_freshness_plus_the_grace(
    origin: _Origin, redis_url: str, prefix: str, keys: list[str]
) -> None:
    with _session(redis_url, prefix, keys, expire_after=600) as session:
        # Two hops: the final URL's key holds the response, both hops' keys are redirects.
        session.get(f"{origin.url}/moved/moved/data/ttl")
        storage = session.cache.storage
        redirects = session.cache.redirect_storage
        assert isinstance(storage, RedisStorage)
        assert isinstance(redirects, RedisStorage)
        (key,) = list(storage)
        ttl = storage.ttl(key)
        assert ttl is not None
        assert 600 + GRACE - 5 < ttl <= 600 + GRACE
        assert len(list(redirects)) == 2
        for redirect in redirects:
            redirect_ttl = redirects.ttl(redirect)
            assert redirect_ttl is not None
            assert abs(redirect_ttl - ttl) < 5  # a redirect lives as long as its target
        assert _from_cache(session.get(f"{origin.url}/moved/data/ttl"))


def test_responses_that_never_expire_get_no_ttl(
    origin: _Origin, redis_url: str, prefix: str, keys: list[str]
) -> None:
    with _session(redis_url, prefix, keys, expire_after=-1) as session:
        session.get(f"{origin.url}/data/forever")
        storage = session.cache.storage
        assert isinstance(storage, RedisStorage)
        (key,) = list(storage)
        assert storage.ttl(key) is None


def test_use_ttl_false_sets_none(
    origin: _Origin, redis_url: str, prefix: str, keys: list[str]
) -> None:
    with _session(redis_url, prefix, keys, expire_after=60, use_ttl=False) as session:
        session.get(f"{origin.url}/data/no-ttl")
        storage = session.cache.storage
        assert isinstance(storage, RedisStorage)
        (key,) = list(storage)
        assert storage.ttl(key) is None


def test_a_stale_entry_is_revalidated_and_its_ttl_renewed(
    origin: _Origin,
    redis_url: str,
    prefix: str,
    keys: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"{origin.url}/data/stale"
    start = datetime.now(UTC)
    monkeypatch.setattr(clock, "now", lambda: start)
    with _session(redis_url, prefix, keys, expire_after=60) as session:
        session.get(url)
        storage = session.cache.storage
        assert isinstance(storage, RedisStorage)
        (key,) = list(storage)
        # Ten minutes later the response is stale, but within the grace period Redis still
        # holds it, so the session revalidates it (a 304) instead of fetching the body.
        monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=10))
        response = session.get(url)
        assert _from_cache(response)
        assert response.content == BODY
        ttl = storage.ttl(key)
        assert ttl is not None
        assert 60 + GRACE - 5 < ttl <= 60 + GRACE  # fresh again for 60 s, plus the grace
    assert origin.hits["/data/stale"] == 2


def test_from_config_with_the_url_in_the_environment(
    origin: _Origin,
    redis_url: str,
    prefix: str,
    keys: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "vaultcache.toml"
    config.write_text(
        f"""
name = "configured"
backend = "redis"

[backend_options]
prefix = "{prefix}"
ttl_grace = 60

[serializer]
spec = "signed+zstd+aesgcm"

[expiry]
expire_after = "1h"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("VAULTCACHE_REDIS_URL", redis_url)
    with CachedSession.from_config(config, keys=keys) as session:
        assert isinstance(session.cache, RedisCache)
        assert session.cache.ttl_grace == 60
        session.get(f"{origin.url}/data/configured")
        assert _from_cache(session.get(f"{origin.url}/data/configured"))
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.exists(*client.keys(prefix.encode() + b"responses:*")) == 1
    finally:
        client.close()


def test_a_server_outage_is_a_miss_not_an_error(
    origin: _Origin, prefix: str, keys: list[str]
) -> None:
    # Nothing listens on port 1: every read fails and the session fetches from the origin.
    with _session("redis://127.0.0.1:1/0", prefix, keys, socket_connect_timeout=1) as session:
        response = session.get(f"{origin.url}/data/outage")
        assert response.status_code == 200
        assert not _from_cache(response)
