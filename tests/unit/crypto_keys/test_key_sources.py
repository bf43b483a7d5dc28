"""Where keys come from: the source chain, key-file safety, and auto-creation."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

import vaultcache
import vaultcache.crypto_key_sources
from vaultcache import (
    CachedResponse,
    CachedSession,
    ConfigError,
    KeyRing,
    KeyRingError,
    build_pipeline,
    generate_key,
    load_key_ring,
)
from vaultcache.crypto_key_sources import DataDirKeySource, default_key_file
from vaultcache.crypto_keys import Key
from vaultcache.registry import PluginRegistry

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
RESPONSE = CachedResponse(url="https://example.org/", status_code=200, content=b"body")
ENV_VARS = ("VAULTCACHE_KEYS", "VAULTCACHE_KEY_FILE", "VAULTCACHE_AUTO_CREATE_KEY")


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing configured, and a data directory (not yet created) inside tmp_path."""
    for variable in ENV_VARS:
        monkeypatch.delenv(variable, raising=False)
    directory = tmp_path / "data"
    monkeypatch.setenv("VAULTCACHE_DATA_DIR", str(directory))
    return directory


@pytest.fixture
def creation_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="vaultcache")
    return caplog


def _key_file(path: Path, *keys: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# test keys\n" + "\n".join(keys) + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def _primary(ring: KeyRing) -> str:
    return ring.primary.hex_id


def _hex(text: str) -> str:
    return Key.from_text(text).hex_id


def _created(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if "created a new key file" in r.getMessage()]


# -- the chain ---------------------------------------------------------------------------


def test_order_is_explicit_then_env_then_key_file_then_data_dir(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit, env, file, stored = (generate_key() for _ in range(4))
    _key_file(data_dir / "keys", stored)
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(_key_file(tmp_path / "file-keys", file)))
    monkeypatch.setenv("VAULTCACHE_KEYS", env)

    assert _primary(load_key_ring(explicit)) == _hex(explicit)
    assert _primary(load_key_ring([explicit])) == _hex(explicit)
    assert _primary(load_key_ring()) == _hex(env)
    monkeypatch.setenv("VAULTCACHE_KEYS", "   ")  # blank counts as unset
    assert _primary(load_key_ring()) == _hex(file)
    monkeypatch.delenv("VAULTCACHE_KEYS")
    assert _primary(load_key_ring()) == _hex(file)
    monkeypatch.delenv("VAULTCACHE_KEY_FILE")
    assert _primary(load_key_ring()) == _hex(stored)


def test_env_holds_several_keys_primary_first(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = (generate_key() for _ in range(3))
    monkeypatch.setenv("VAULTCACHE_KEYS", f"{a}, {b},{c}")
    assert load_key_ring().ids == [_hex(a), _hex(b), _hex(c)]


def test_invalid_env_key_is_refused_without_quoting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTCACHE_KEYS", "hunter2-is-not-a-key")
    with pytest.raises(KeyRingError) as info:
        load_key_ring()
    assert "hunter2" not in str(info.value)


def test_key_file_holds_several_keys_with_comments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = generate_key(), generate_key()
    path = tmp_path / "keys.txt"
    path.write_text(f"# primary\n{a}\n\n{b}  # retired soon\n", encoding="utf-8")
    path.chmod(0o600)
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(path))
    assert load_key_ring().ids == [_hex(a), _hex(b)]


def test_key_file_path_expands_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key()
    _key_file(tmp_path / "home" / ".vaultcache-keys", key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", "~/.vaultcache-keys")
    assert _primary(load_key_ring()) == _hex(key)


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666, 0o601])
def test_key_file_readable_by_others_is_refused_with_a_chmod_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    key = generate_key()
    path = _key_file(tmp_path / "keys.txt", key, mode=mode)
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(path))
    with pytest.raises(KeyRingError) as info:
        load_key_ring()
    message = str(info.value)
    assert f"chmod 600 {path}" in message
    assert f"{mode:o}" in message
    assert key not in message


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_private_key_file_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    key = generate_key()
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(_key_file(tmp_path / "k", key, mode=mode)))
    assert _primary(load_key_ring()) == _hex(key)


@posix_only
def test_data_dir_key_file_readable_by_others_is_refused(data_dir: Path) -> None:
    path = _key_file(data_dir / "keys", generate_key(), mode=0o644)
    with pytest.raises(KeyRingError, match=f"chmod 600 {path}"):
        load_key_ring()


def test_missing_key_file_is_an_error_not_a_fallback(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-file"
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(missing))
    with pytest.raises(KeyRingError) as info:
        load_key_ring()
    assert str(missing) in str(info.value)
    assert "does not exist" in str(info.value)
    assert not data_dir.exists()  # did not fall through to auto-creation


def test_empty_key_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _key_file(tmp_path / "keys.txt")
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(path))
    with pytest.raises(KeyRingError, match="holds no keys"):
        load_key_ring()


def test_invalid_key_in_file_is_not_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _key_file(tmp_path / "keys.txt", generate_key(), "c2VjcmV0LWJ1dC1zaG9ydA==")
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(path))
    with pytest.raises(KeyRingError) as info:
        load_key_ring()
    assert "c2VjcmV0LWJ1dC1zaG9ydA" not in str(info.value)
    assert "key #2" in str(info.value)


# -- auto-creation in the data directory -------------------------------------------------


def test_default_key_file_follows_vaultcache_data_dir(data_dir: Path) -> None:
    assert default_key_file() == data_dir / "keys"


@posix_only
def test_data_dir_key_is_created_private_logged_once_and_reused(
    data_dir: Path, creation_log: pytest.LogCaptureFixture
) -> None:
    ring = load_key_ring()
    path = data_dir / "keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert len(ring) == 1
    assert [p.name for p in data_dir.iterdir()] == ["keys"]  # no temporary files left
    (record,) = _created(creation_log.records)
    assert record.levelno == logging.WARNING
    assert str(path) in record.getMessage()
    content = path.read_text(encoding="utf-8")
    assert ring.primary.hex_id not in content  # the file holds the key, not just its id

    again = load_key_ring()
    assert again == ring
    assert path.read_text(encoding="utf-8") == content
    assert len(_created(creation_log.records)) == 1
    # The file is a valid key file for VAULTCACHE_KEY_FILE, too.
    assert KeyRing.from_text(content) == ring


@pytest.mark.parametrize("value", ["0", "false", "no", "off", " OFF ", "False"])
def test_auto_create_off_with_nothing_configured_says_how_to_make_a_key(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("VAULTCACHE_AUTO_CREATE_KEY", value)
    with pytest.raises(KeyRingError) as info:
        load_key_ring()
    assert "vaultcache keys generate" in str(info.value)
    assert "VAULTCACHE_KEYS" in str(info.value)
    assert not data_dir.exists()


def test_auto_create_argument_overrides_the_environment(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(KeyRingError, match="vaultcache keys generate"):
        load_key_ring(auto_create=False)
    assert not data_dir.exists()
    monkeypatch.setenv("VAULTCACHE_AUTO_CREATE_KEY", "0")
    assert len(load_key_ring(auto_create=True)) == 1
    assert (data_dir / "keys").exists()


def test_auto_create_off_still_reads_an_existing_data_dir_key(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key()
    _key_file(data_dir / "keys", key)
    monkeypatch.setenv("VAULTCACHE_AUTO_CREATE_KEY", "0")
    assert _primary(load_key_ring()) == _hex(key)


def test_concurrent_threads_all_get_the_same_new_key(
    data_dir: Path, creation_log: pytest.LogCaptureFixture
) -> None:
    count = 16
    barrier = threading.Barrier(count)
    rings: list[KeyRing] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            barrier.wait()
            # A fresh source per thread, as separate sessions would have.
            found = DataDirKeySource().load()
            assert found is not None
            rings.append(KeyRing.from_text("\n".join(found)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(rings) == count
    assert len({ring.primary.hex_id for ring in rings}) == 1
    assert len(KeyRing.from_text((data_dir / "keys").read_text(encoding="utf-8"))) == 1
    assert len(_created(creation_log.records)) == 1
    assert [p.name for p in data_dir.iterdir()] == ["keys"]


def test_concurrent_processes_all_get_the_same_new_key(tmp_path: Path, data_dir: Path) -> None:
    count = 6
    go = tmp_path / "go"
    script = textwrap.dedent(
        f"""
        import pathlib, sys, time
        import vaultcache
        pathlib.Path(sys.argv[1]).touch()
        deadline = time.monotonic() + 60
        while not pathlib.Path({str(go)!r}).exists():
            if time.monotonic() > deadline:
                sys.exit("never told to go")
            time.sleep(0.001)
        print(vaultcache.load_key_ring().primary.hex_id)
        """
    )
    env = {**os.environ, "VAULTCACHE_DATA_DIR": str(data_dir)}
    for variable in ENV_VARS:
        env.pop(variable, None)
    ready = [tmp_path / f"ready-{n}" for n in range(count)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(flag)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        results = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [p.returncode for p in processes] == [0] * count, [err for _, err in results]
    ids = {out.strip() for out, _ in results}
    assert len(ids) == 1
    ring = KeyRing.from_text((data_dir / "keys").read_text(encoding="utf-8"))
    assert ids == {ring.primary.hex_id}


# -- the spec builder and keys -----------------------------------------------------------


@pytest.mark.parametrize("spec", ["zstd", "msgpack", "json+gzip", "pickle+signed"])
def test_specs_without_keys_never_create_a_key_file(data_dir: Path, spec: str) -> None:
    if spec == "pickle+signed":
        build_pipeline(spec, keys=[generate_key()])
    else:
        pipeline = build_pipeline(spec)
        assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE
    assert not data_dir.exists()


def test_keyed_spec_with_nothing_configured_and_auto_create_off_fails(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULTCACHE_AUTO_CREATE_KEY", "0")
    with pytest.raises(KeyRingError, match="vaultcache keys generate"):
        build_pipeline("zstd+aesgcm")
    with pytest.raises(KeyRingError):
        build_pipeline("signed")
    assert not data_dir.exists()


def test_keyed_spec_auto_creates_one_key_that_later_pipelines_share(data_dir: Path) -> None:
    stored = build_pipeline("zstd+aesgcm").dumps(RESPONSE)
    assert (data_dir / "keys").exists()
    assert build_pipeline("zstd+aesgcm").loads(stored) == RESPONSE


def test_build_pipeline_loads_key_sources_from_the_given_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_global_registry() -> Any:
        raise AssertionError("build_pipeline(registry=...) used the process-wide registry")

    monkeypatch.setattr(vaultcache.crypto_key_sources, "get_registry", no_global_registry)
    monkeypatch.setenv("VAULTCACHE_KEYS", generate_key())
    registry = PluginRegistry(entry_points=False)
    pipeline = build_pipeline("zstd+aesgcm", registry=registry)
    assert pipeline.loads(pipeline.dumps(RESPONSE)) == RESPONSE


# -- named sources and options -----------------------------------------------------------


def test_sources_and_options_select_and_configure_built_in_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = generate_key(), generate_key()
    monkeypatch.setenv("MY_KEYS", a)
    ring = load_key_ring(sources=["env"], options={"env": {"variable": "MY_KEYS"}})
    assert _primary(ring) == _hex(a)
    path = _key_file(tmp_path / "other", b)
    ring = load_key_ring(sources=["file"], options={"file": {"path": str(path)}})
    assert _primary(ring) == _hex(b)
    with pytest.raises(KeyRingError):
        load_key_ring(sources=["env"])  # VAULTCACHE_KEYS is unset; no other source is tried


def test_unknown_source_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_key_ring(sources=["env"], options={"env": {"varaible": "X"}})
    assert info.value.key == "keys.env.varaible"


def test_a_plugin_key_source_is_used_when_named() -> None:
    key = generate_key()

    class Source:
        def load(self) -> list[str] | None:
            return [key]

    @vaultcache.hookimpl
    def vaultcache_register_key_sources(registry: Any) -> None:
        registry.add("vault", lambda options: Source(), description="test vault")

    registry = PluginRegistry(entry_points=False)
    registry.register(
        types.SimpleNamespace(
            VAULTCACHE_PLUGIN_API=1,
            vaultcache_register_key_sources=vaultcache_register_key_sources,
        ),
        distribution="vault-pkg",
    )
    assert _primary(load_key_ring(sources=["vault"], registry=registry)) == _hex(key)
    with pytest.raises(KeyRingError):
        load_key_ring(sources=["env"], registry=registry, auto_create=False)


@pytest.mark.parametrize("serializer", ["json", "zstd+aesgcm"])
def test_an_invalid_key_given_explicitly_is_refused_whatever_the_serializer(
    serializer: str,
) -> None:
    # Without signing or encryption keys only strengthen cache keys, and keys the sources
    # cannot read are left out; a key the caller passed is still checked, not dropped.
    with pytest.raises(KeyRingError) as caught:
        CachedSession(backend="memory", serializer=serializer, keys=["not-a-key-at-all"])
    assert "not-a-key-at-all" not in str(caught.value)


def test_unreadable_source_keys_are_left_out_when_none_is_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULTCACHE_KEYS", "not-a-key-at-all")
    with CachedSession(backend="memory", serializer="json") as session:
        assert session.key_ring is None
