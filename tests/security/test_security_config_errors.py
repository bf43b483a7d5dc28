"""Errors raised while applying a config file name the file and the key, like schema errors.

A careless user (or a planted file) chooses a name or option that does not exist; the error
must lead to the file that chose it, not just say "unknown backend".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vaultcache import CachedSession, ConfigError, generate_key

CASES = {
    "unknown-backend": ('backend = "nosuch"\n', "backend"),
    "unknown-stage": ('[serializer]\nspec = "zstd+nosuch"\n', "serializer.spec"),
    "unsafe-spec": ('[serializer]\nspec = "pickle"\n', "serializer.spec"),
    "stage-option-value": (
        '[serializer]\nspec = "zstd+aesgcm"\n[serializer.zstd]\nlevel = 99\n',
        "serializer.zstd.level",
    ),
    "unknown-stage-option": (
        '[serializer]\nspec = "zstd+aesgcm"\n[serializer.zstd]\nnosuch = 1\n',
        "serializer.zstd.nosuch",
    ),
    "unknown-backend-option": ("[backend_options]\nnosuch = 1\n", "backend_options.nosuch"),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("layout", ["vaultcache.toml", "pyproject.toml"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_errors_applying_a_config_file_name_the_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, layout: str
) -> None:
    text, key = CASES[case]
    if layout == "pyproject.toml":
        text = "[tool.vaultcache]\n" + text.replace("[", "[tool.vaultcache.").replace(
            "[tool.vaultcache.tool.vaultcache]", "[tool.vaultcache]"
        )
        key = "tool.vaultcache." + key
    config = _write(tmp_path / layout, text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAULTCACHE_KEYS", generate_key())

    with pytest.raises(ConfigError) as caught:
        CachedSession.from_config()

    assert caught.value.file == str(config)
    assert caught.value.key == key
    assert str(config) in str(caught.value)


def test_the_same_error_from_code_names_no_file(tmp_path: Path) -> None:
    """Only what a file chose is attributed to it."""
    with pytest.raises(ConfigError) as caught:
        CachedSession(str(tmp_path / "c"), serializer="zstd+nosuch", keys=[generate_key()])

    assert caught.value.file is None


def test_an_override_in_code_is_not_attributed_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "vaultcache.toml", 'backend = "sqlite"\n')
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ConfigError) as caught:
        CachedSession.from_config(serializer="zstd+nosuch", keys=[generate_key()])

    assert caught.value.file is None
