"""The keyring key source, its management functions and command, on a file-based keyring."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import keyring
import pytest
from keyring.backend import KeyringBackend

from vaultcache import (
    CachedSession,
    ConfigError,
    KeyRing,
    KeyRingError,
    generate_key,
    load_key_ring,
)
from vaultcache.plugin import get_registry
from vaultcache.testing import KeySourceContract
from vaultcache_keyring import (
    KeyringKeySource,
    delete_keys,
    generate_keys,
    key_ids,
    retire_key,
    rotate_keys,
    store_keys,
)
from vaultcache_keyring.cli import main

SERVICE = "vaultcache-tests"


class TestKeyringKeySourceContract(KeySourceContract):
    """The key-source contract, on a file-based keyring (the file_keyring fixture)."""

    source_name: ClassVar[str] = "keyring"

    @pytest.fixture
    def options(self, file_keyring: KeyringBackend) -> dict[str, Any]:
        return {"service": SERVICE, "username": "contract"}

    def store(self, options: dict[str, Any], keys: list[str]) -> None:
        keyring.set_password(options["service"], options["username"], "\n".join(keys))


def test_the_source_comes_from_the_installed_distribution() -> None:
    registration = get_registry().key_source("keyring")
    assert registration.provider.distribution == "vaultcache-keyring"
    plugin = __import__("vaultcache_keyring.plugin", fromlist=["VAULTCACHE_PLUGIN_API"])
    assert plugin.VAULTCACHE_PLUGIN_API == 1


def test_an_empty_keyring_holds_no_keys(file_keyring: KeyringBackend) -> None:
    assert KeyringKeySource(SERVICE).load() is None
    assert key_ids(service=SERVICE) == []
    with pytest.raises(KeyRingError, match="no vaultcache key found"):
        load_key_ring(sources=["keyring"], options={"keyring": {"service": SERVICE}})


def test_stored_keys_load_primary_first(file_keyring: KeyringBackend) -> None:
    keys = [generate_key(), generate_key()]
    ids = store_keys(keys, service=SERVICE, username="app")
    assert ids == KeyRing(keys).ids
    assert KeyringKeySource(SERVICE, "app").load() == keys
    ring = load_key_ring(
        sources=["keyring"], options={"keyring": {"service": SERVICE, "username": "app"}}
    )
    assert ring == KeyRing(keys)
    # Stored as text, one key per line, as in a key file.
    stored = file_keyring.get_password(SERVICE, "app")
    assert stored is not None
    assert [line for line in stored.splitlines() if not line.startswith("#")] == keys


def test_generate_rotate_retire(file_keyring: KeyringBackend) -> None:
    (first,) = generate_keys(service=SERVICE)
    with pytest.raises(KeyRingError, match="already holds keys"):
        generate_keys(service=SERVICE)
    rotated = rotate_keys(service=SERVICE)
    assert len(rotated) == 2
    assert rotated[1] == first  # the old key still reads
    assert retire_key(first, service=SERVICE) == rotated[:1]
    with pytest.raises(KeyRingError, match="only key"):
        retire_key(rotated[0], service=SERVICE)
    with pytest.raises(KeyRingError, match="no key with id"):
        retire_key("0" * 16, service=SERVICE)
    assert generate_keys(service=SERVICE, replace=True) != rotated[:1]
    assert delete_keys(service=SERVICE) is True
    assert delete_keys(service=SERVICE) is False
    with pytest.raises(KeyRingError, match="holds no keys"):
        rotate_keys(service=SERVICE)


def test_invalid_keys_are_refused_without_showing_them(file_keyring: KeyringBackend) -> None:
    secret = "not-a-key-but-maybe-a-password"
    with pytest.raises(KeyRingError) as caught:
        store_keys([generate_key(), secret], service=SERVICE)
    assert "#2" in str(caught.value)
    assert secret not in str(caught.value)
    assert KeyringKeySource(SERVICE).load() is None  # nothing was stored
    # An entry damaged by another tool is refused, naming the entry.
    file_keyring.set_password(SERVICE, "keys", secret)
    with pytest.raises(KeyRingError) as caught:
        KeyringKeySource(SERVICE).load()
    assert SERVICE in str(caught.value)
    assert secret not in str(caught.value)


def test_a_locked_keyring_is_a_key_ring_error(locked_keyring: KeyringBackend) -> None:
    with pytest.raises(KeyRingError, match="unlocked"):
        KeyringKeySource(SERVICE).load()


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"servce": "x"}, "keys.keyring.servce"),
        ({"service": ""}, "keys.keyring.service"),
        ({"username": 3}, "keys.keyring.username"),
        ({"service": "two\nlines"}, "keys.keyring.service"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        get_registry().key_source("keyring").factory(options)
    assert caught.value.key == key


# -- the command ------------------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--service", SERVICE, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_prints_ids_never_keys(
    file_keyring: KeyringBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = _run(capsys, "generate")
    assert code == 0
    (primary,) = key_ids(service=SERVICE)
    assert out.split() == [primary, "(primary)"]
    code, out, _ = _run(capsys, "rotate")
    assert code == 0
    ids = key_ids(service=SERVICE)
    assert out.splitlines() == [f"{ids[0]}  (primary)", ids[1]]
    code, out, _ = _run(capsys, "show-ids")
    assert out.splitlines() == [f"{ids[0]}  (primary)", ids[1]]
    stored = KeyringKeySource(SERVICE).load()
    assert stored is not None
    for key in stored:
        assert key not in out
    code, out, _ = _run(capsys, "retire", ids[1])
    assert out.split() == [ids[0], "(primary)"]
    code, _, err = _run(capsys, "generate")
    assert code == 1
    assert "already holds keys" in err


def test_the_command_stores_keys_from_stdin(
    file_keyring: KeyringBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = [generate_key(), generate_key()]
    monkeypatch.setattr("sys.stdin", _Stdin("\n".join(keys) + "\n"))
    code, out, _ = _run(capsys, "store")
    assert code == 0
    assert out.splitlines() == [f"{KeyRing(keys).ids[0]}  (primary)", KeyRing(keys).ids[1]]
    assert all(key not in out for key in keys)
    assert KeyringKeySource(SERVICE).load() == keys


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def isatty(self) -> bool:
        return False

    def read(self) -> str:
        return self.text


# -- a session configured to use it -----------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'{"answer": 42}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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


def test_from_config_reads_keys_from_the_keyring(
    file_keyring: KeyringBackend,
    origin: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VAULTCACHE_KEYS", raising=False)
    monkeypatch.setenv("VAULTCACHE_AUTO_CREATE_KEY", "0")
    store_keys([generate_key()], service=SERVICE, username="http-cache")
    config = tmp_path / "vaultcache.toml"
    config.write_text(
        f"""
name = "{tmp_path / "cache"}"

[serializer]
spec = "signed+zstd+aesgcm"

[keys]
sources = ["keyring"]

[keys.keyring]
service = "{SERVICE}"
username = "http-cache"
""",
        encoding="utf-8",
    )
    with CachedSession.from_config(config) as session:
        assert not getattr(session.get(f"{origin}/data"), "from_cache", True)
        assert getattr(session.get(f"{origin}/data"), "from_cache", False)
    # After a rotation the old entry is still readable: the old key is still in the ring.
    rotate_keys(service=SERVICE, username="http-cache")
    with CachedSession.from_config(config) as session:
        response = session.get(f"{origin}/data")
        assert getattr(response, "from_cache", False)
        assert response.json() == {"answer": 42}


def test_from_config_without_keys_in_the_keyring_says_so(
    file_keyring: KeyringBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULTCACHE_AUTO_CREATE_KEY", "0")
    config = tmp_path / "vaultcache.toml"
    config.write_text(
        f'name = "{tmp_path / "cache"}"\n[keys]\nsources = ["keyring"]\n', encoding="utf-8"
    )
    with pytest.raises(KeyRingError, match="no vaultcache key found"):
        CachedSession.from_config(config)
