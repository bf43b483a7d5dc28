"""The brotli stage: vaultcache's stage contract, plus what is particular to brotli."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import brotli
import pytest

from vaultcache import (
    CachedSession,
    ConfigError,
    DecodeError,
    SizeLimitError,
    build_pipeline,
    generate_key,
)
from vaultcache.plugin import get_registry
from vaultcache.testing import StageContract
from vaultcache_brotli import BrotliStage, brotli_stage

TEXT = b'{"id": 1, "name": "a record", "tags": ["json", "like", "text"]}\n' * 2000


class TestBrotliStageContract(StageContract):
    """Round trips, untrusted input, bounded decompression, options and specs."""

    stage_name: ClassVar[str] = "brotli"
    stage_options: ClassVar[dict[str, Any]] = {"quality": 5}


def test_the_stage_comes_from_the_installed_distribution() -> None:
    registration = get_registry().stage("brotli")
    assert registration.provider.distribution == "vaultcache-brotli"
    assert registration.kind == "compression"
    plugin = __import__("vaultcache_brotli.plugin", fromlist=["VAULTCACHE_PLUGIN_API"])
    assert plugin.VAULTCACHE_PLUGIN_API == 1


def test_it_writes_plain_brotli() -> None:
    stage = brotli_stage({"quality": 9})
    written = stage.dumps(TEXT)
    assert brotli.decompress(written) == TEXT
    assert len(written) < len(TEXT) // 20


@pytest.mark.parametrize("quality", [0, 5, 11])
def test_every_quality_round_trips(quality: int) -> None:
    stage = brotli_stage({"quality": quality})
    assert stage.loads(stage.dumps(TEXT)) == TEXT


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"quality": 12}, "serializer.brotli.quality"),
        ({"quality": -1}, "serializer.brotli.quality"),
        ({"quality": "best"}, "serializer.brotli.quality"),
        ({"quality": True}, "serializer.brotli.quality"),
        ({"max_size": 0}, "serializer.brotli.max_size"),
        ({"qualty": 5}, "serializer.brotli.qualty"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        brotli_stage(options)
    assert caught.value.key == key


def test_a_bomb_is_refused_at_the_bound() -> None:
    stage = BrotliStage(max_size=100_000)
    bomb = brotli.compress(bytes(50 * 1024 * 1024), quality=5)
    with pytest.raises(SizeLimitError) as caught:
        stage.loads(bomb)
    assert caught.value.limit == 100_000


def test_foreign_and_damaged_streams_are_decode_errors() -> None:
    stage = BrotliStage()
    written = stage.dumps(TEXT)
    for data in (b"", written[:-1], written + b"\x00", b"not brotli at all", written + written):
        with pytest.raises(DecodeError):
            stage.loads(data)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(TEXT)))
        self.end_headers()
        self.wfile.write(TEXT)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_session_with_signed_brotli_fernet(origin: str, tmp_path: Path) -> None:
    keys = [generate_key()]
    with CachedSession(
        str(tmp_path / "cache"),
        serializer="signed+brotli+fernet",
        serializer_options={"brotli": {"quality": 7}},
        keys=keys,
    ) as session:
        assert not getattr(session.get(f"{origin}/data"), "from_cache", True)
        response = session.get(f"{origin}/data")
        assert getattr(response, "from_cache", False)
        assert response.content == TEXT
        (key,) = list(session.cache.storage)
        stored = session.cache.storage[key]
        assert len(stored) < len(TEXT) // 5  # compressed before encryption
    pipeline = build_pipeline("SIGNED+Brotli+fernet", keys=keys)  # names are case-insensitive
    assert "brotli" in pipeline.spec.split("+")


def test_from_config(origin: str, tmp_path: Path) -> None:
    config = tmp_path / "vaultcache.toml"
    config.write_text(
        f"""
name = "{tmp_path / "configured"}"

[serializer]
spec = "signed+brotli+aesgcm"

[serializer.brotli]
quality = 4
max_size = 1000000
""",
        encoding="utf-8",
    )
    with CachedSession.from_config(config, keys=[generate_key()]) as session:
        session.get(f"{origin}/data")
        assert getattr(session.get(f"{origin}/data"), "from_cache", False)


def test_compression_after_encryption_is_refused() -> None:
    with pytest.raises(ConfigError):
        build_pipeline("signed+fernet+brotli", keys=[generate_key()])
