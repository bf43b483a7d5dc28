"""A config file never holds keys: anything that looks like key material is refused, unshown."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from vaultcache.config import load_settings
from vaultcache.crypto_keys import generate_key
from vaultcache.errors import ConfigError

Write = Callable[..., Path]
KEY = generate_key()
STANDARD_KEY = base64.b64encode(bytes(range(200, 232))).decode()  # with "+" and "/"


def _refused(write: Write, text: str) -> ConfigError:
    path = write(text)
    with pytest.raises(ConfigError, match="looks like key material") as caught:
        load_settings(path, environ={})
    error = caught.value
    assert error.file == str(path)
    assert KEY not in str(error)
    assert KEY.rstrip("=") not in str(error)
    assert STANDARD_KEY not in str(error)
    assert "VAULTCACHE_KEYS" in str(error)
    assert "VAULTCACHE_KEY_FILE" in str(error)
    return error


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (f'[keys]\nkeys = ["{KEY}"]', "keys.keys"),
        ('[keys]\nkeys = ["not-even-a-key"]', "keys.keys"),
        ("[keys]\nkeys = []", "keys.keys"),
        (f'[keys]\nkey = "{KEY}"', "keys.key"),
        (f'[keys]\nprimary = "{KEY}"', "keys.primary"),
        ('[keys]\nSecret = "x"', "keys.Secret"),
        (f'[keys.keys]\nprimary = "{KEY}"', "keys.keys"),
        (f'[keys.env]\nvariable = "{KEY}"', "keys.env.variable"),
        (f'[keys.file]\npath = "{KEY}"', "keys.file.path"),
        (f'[keys]\nsources = ["env", "{KEY}"]', "keys.sources[1]"),
        (f'[serializer.aesgcm]\nkey = "{KEY}"', "serializer.aesgcm.key"),
        ('[serializer.signed]\nsecret = "s3cr3t"', "serializer.signed.secret"),
        (f'[backend_options]\ntoken = "{KEY}"', "backend_options.token"),
        (f'name = "{KEY}"', "name"),
        (f'[expiry.urls]\n"a/*" = "{KEY}"', 'expiry.urls."a/*"'),
        (f'[serializer]\nspec = "{KEY.rstrip("=")}"', "serializer.spec"),
        (f'[backend_options]\nkeys = "old, {KEY}"', "backend_options.keys"),
        (f'[backend_options]\nkey = "{STANDARD_KEY}"', "backend_options.key"),
        (f'[backend_options]\nnested = [[1, "{KEY}"]]', "backend_options.nested[0][1]"),
    ],
)
def test_key_material_is_refused(write: Write, text: str, key: str) -> None:
    assert _refused(write, text).key == key


def test_a_key_used_as_a_table_name_is_not_shown(write: Write) -> None:
    error = _refused(write, f'[keys]\n"{KEY}" = 1')
    assert error.key == "keys.<redacted>"


def test_key_material_in_a_pyproject_is_named_under_tool(write: Write, tmp_path: Path) -> None:
    write(f'[tool.vaultcache.keys]\nkeys = ["{KEY}"]', "pyproject.toml")
    with pytest.raises(ConfigError, match="looks like key material") as caught:
        load_settings(environ={}, cwd=tmp_path)
    assert caught.value.key == "tool.vaultcache.keys.keys"


@pytest.mark.parametrize(
    "text",
    [
        '[keys.file]\npath = "~/.config/vaultcache/keys"',
        '[keys.env]\nvariable = "MY_APP_VAULTCACHE_KEYS"',
        '[backend_options]\nkey = "a short value"',  # outside [keys]: a name alone is fine
        f'[backend_options]\nhash = "{"a" * 43}x"',  # 44 characters, not 32 bytes of base64
        "[serializer.zstd]\nlevel = 3",
    ],
)
def test_what_is_not_key_material_is_accepted(write: Write, text: str) -> None:
    path = write(text)
    load_settings(path, environ={})
