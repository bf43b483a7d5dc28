"""Key errors say where a key came from, never what it is, and suggest only sources in use."""

from __future__ import annotations

from pathlib import Path

import pytest

from vaultcache import KeyRingError, generate_key
from vaultcache.crypto_key_sources import load_key_ring

BAD = "not-a-key-but-secret-text-4f1c"


def _key_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keys"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_bad_key_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTCACHE_KEYS", f"{generate_key()},{BAD}")

    with pytest.raises(KeyRingError) as caught:
        load_key_ring()

    message = str(caught.value)
    assert "key #2" in message
    assert "VAULTCACHE_KEYS" in message
    assert BAD not in message


def test_bad_key_in_a_key_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _key_file(tmp_path, f"{BAD}\n")
    monkeypatch.setenv("VAULTCACHE_KEY_FILE", str(path))

    with pytest.raises(KeyRingError) as caught:
        load_key_ring()

    assert str(path) in str(caught.value)
    assert "key #1" in str(caught.value)
    assert BAD not in str(caught.value)


def test_bad_key_in_the_data_dir_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    path = _key_file(data_dir, f"{BAD}\n")
    monkeypatch.setenv("VAULTCACHE_DATA_DIR", str(data_dir))

    with pytest.raises(KeyRingError) as caught:
        load_key_ring()

    assert str(path) in str(caught.value)
    assert BAD not in str(caught.value)


def test_bad_key_passed_in_code_says_so() -> None:
    with pytest.raises(KeyRingError) as caught:
        load_key_ring([generate_key(), BAD])

    assert "key #2" in str(caught.value)
    assert "keys=" in str(caught.value)
    assert BAD not in str(caught.value)


@pytest.mark.parametrize(
    ("sources", "suggested", "not_suggested"),
    [
        (("env",), ["VAULTCACHE_KEYS"], ["VAULTCACHE_KEY_FILE", "VAULTCACHE_AUTO_CREATE_KEY"]),
        (("file",), ["VAULTCACHE_KEY_FILE"], ["VAULTCACHE_KEYS ", "VAULTCACHE_AUTO_CREATE_KEY"]),
        (
            ("env", "file", "data-dir"),
            ["VAULTCACHE_KEYS", "VAULTCACHE_KEY_FILE", "VAULTCACHE_AUTO_CREATE_KEY"],
            [],
        ),
    ],
)
def test_no_key_message_suggests_only_the_sources_in_use(
    sources: tuple[str, ...], suggested: list[str], not_suggested: list[str]
) -> None:
    with pytest.raises(KeyRingError) as caught:
        load_key_ring(sources=sources, auto_create=False)

    message = str(caught.value) + " "
    for text in suggested:
        assert text in message
    for text in not_suggested:
        assert text not in message
