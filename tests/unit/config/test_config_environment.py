"""Environment variables override single settings; bad values name the variable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from vaultcache.config import ENVIRONMENT_VARIABLES, Settings, load_settings
from vaultcache.crypto_keys import generate_key
from vaultcache.errors import ConfigError
from vaultcache.policy.expiration import DO_NOT_CACHE, EXPIRE_IMMEDIATELY

Write = Callable[..., Path]

FILE = """
name = "from-file"
backend = "filesystem"
[serializer]
spec = "zstd+aesgcm"
[expiry]
expire_after = 60
cache_control = false
[keys]
sources = ["env"]
[retention]
max_entries = 5
max_bytes = 10
max_age = 30
[plugins]
allow = ["vaultcache-redis"]
"""


def _get(settings: Settings, dotted: str) -> object:
    value: object = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        ("VAULTCACHE_NAME", "from-env", "from-env"),
        ("VAULTCACHE_NAME", "2024", "2024"),
        ("VAULTCACHE_BACKEND", "Memory", "memory"),
        ("VAULTCACHE_SERIALIZER", "signed+gzip+fernet", "signed+gzip+fernet"),
        ("VAULTCACHE_EXPIRE_AFTER", "2h", timedelta(hours=2)),
        ("VAULTCACHE_EXPIRE_AFTER", "3600", timedelta(hours=1)),
        ("VAULTCACHE_EXPIRE_AFTER", "never", None),
        ("VAULTCACHE_EXPIRE_AFTER", "-1", None),
        ("VAULTCACHE_EXPIRE_AFTER", "0", EXPIRE_IMMEDIATELY),
        ("VAULTCACHE_EXPIRE_AFTER", "do-not-cache", DO_NOT_CACHE),
        ("VAULTCACHE_EXPIRE_AFTER", "2030-01-01T00:00:00+00:00", datetime(2030, 1, 1, tzinfo=UTC)),
        ("VAULTCACHE_CACHE_CONTROL", "true", True),
        ("VAULTCACHE_CACHE_CONTROL", "1", True),
        ("VAULTCACHE_CACHE_CONTROL", "YES", True),
        ("VAULTCACHE_CACHE_CONTROL", "on", True),
        ("VAULTCACHE_KEY_SOURCES", "env, file ,data-dir", ("env", "file", "data-dir")),
        ("VAULTCACHE_KEY_SOURCES", "FILE", ("file",)),
        ("VAULTCACHE_RETENTION_MAX_ENTRIES", "100", 100),
        ("VAULTCACHE_RETENTION_MAX_BYTES", "2GiB", 2 * 1024**3),
        ("VAULTCACHE_RETENTION_MAX_BYTES", "1000", 1000),
        ("VAULTCACHE_RETENTION_MAX_AGE", "7d", timedelta(days=7)),
        ("VAULTCACHE_RETENTION_MAX_AGE", "60", timedelta(minutes=1)),
        ("VAULTCACHE_PLUGINS", "a-plugin, other", ("a-plugin", "other")),
        ("VAULTCACHE_PLUGINS", "none", ()),
        ("VAULTCACHE_PLUGINS", "None", ()),
        ("VAULTCACHE_PLUGINS", "all", None),
    ],
)
def test_each_variable_overrides_its_setting(
    write: Write, variable: str, text: str, expected: object
) -> None:
    path = write(FILE)
    settings = load_settings(path, environ={variable: text})
    assert _get(settings, ENVIRONMENT_VARIABLES[variable]) == expected
    assert settings.source == path


def test_overrides_apply_without_a_file(tmp_path: Path) -> None:
    if any((parent / "pyproject.toml").exists() for parent in tmp_path.parents):
        pytest.skip("a pyproject.toml above the temporary directory")
    settings = load_settings(environ={"VAULTCACHE_CACHE_CONTROL": "1"}, cwd=tmp_path)
    assert settings.expiry.cache_control is True
    assert settings.source is None


def test_cache_control_false_overrides_a_true_file(write: Write) -> None:
    path = write("[expiry]\ncache_control = true")
    for text in ("false", "0", "no", "off"):
        settings = load_settings(path, environ={"VAULTCACHE_CACHE_CONTROL": text})
        assert settings.expiry.cache_control is False


def test_other_settings_keep_their_file_values(write: Write) -> None:
    path = write(FILE)
    settings = load_settings(path, environ={"VAULTCACHE_NAME": "x"})
    assert settings == attrs.evolve(load_settings(path, environ={}), name="x")


def test_empty_variables_count_as_unset(write: Write) -> None:
    path = write(FILE)
    environ = dict.fromkeys(set(ENVIRONMENT_VARIABLES) - {"VAULTCACHE_PLUGINS"}, "  ")
    assert load_settings(path, environ=environ) == load_settings(path, environ={})


@pytest.mark.parametrize("text", ["", "  ", ",", " , ", "none,a-plugin", "a-plugin,ALL"])
def test_an_empty_or_ambiguous_plugin_allow_list_is_refused(write: Write, text: str) -> None:
    # Empty could mean "none" or "all": guessing wrong would run code the user did not want.
    with pytest.raises(ConfigError) as caught:
        load_settings(write(FILE), environ={"VAULTCACHE_PLUGINS": text})
    assert "VAULTCACHE_PLUGINS" in str(caught.value)
    assert caught.value.key == "plugins.allow"
    assert caught.value.expected == "none, all, or package names separated by commas"


@pytest.mark.parametrize(
    "variable",
    [
        "VAULTCACHE_KEYS",
        "VAULTCACHE_KEY_FILE",
        "VAULTCACHE_DATA_DIR",
        "VAULTCACHE_AUTO_CREATE_KEY",
        "VAULTCACHE_NAMES",
        "VAULTCACHE_EXPIRY",
    ],
)
def test_other_vaultcache_variables_are_not_settings(write: Write, variable: str) -> None:
    path = write(FILE)
    value = generate_key() if variable == "VAULTCACHE_KEYS" else "0"
    assert load_settings(path, environ={variable: value}) == load_settings(path, environ={})


def test_the_config_variable_is_not_a_setting(write: Write, tmp_path: Path) -> None:
    path = write(FILE, "conf.toml")
    settings = load_settings(environ={"VAULTCACHE_CONFIG": str(path)}, cwd=tmp_path)
    assert settings.name == "from-file"


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        ("VAULTCACHE_BACKEND", "no such backend!", "a name"),
        ("VAULTCACHE_SERIALIZER", "zstd++aesgcm", "a serializer spec"),
        ("VAULTCACHE_EXPIRE_AFTER", "soon", "seconds"),
        ("VAULTCACHE_EXPIRE_AFTER", "-7", "seconds"),
        ("VAULTCACHE_CACHE_CONTROL", "maybe", "true or false"),
        ("VAULTCACHE_KEY_SOURCES", "env,9file", "a name"),
        ("VAULTCACHE_RETENTION_MAX_ENTRIES", "lots", "an integer >= 1"),
        ("VAULTCACHE_RETENTION_MAX_ENTRIES", "-1", "an integer >= 1"),
        ("VAULTCACHE_RETENTION_MAX_ENTRIES", "0", "an integer >= 1"),
        ("VAULTCACHE_RETENTION_MAX_BYTES", "1 XB", "a number of bytes"),
        ("VAULTCACHE_RETENTION_MAX_AGE", "forever", "a duration"),
        ("VAULTCACHE_PLUGINS", "good,not good", "a package name"),
    ],
)
def test_bad_values_name_the_variable_not_the_file(
    write: Write, variable: str, text: str, expected: str
) -> None:
    path = write(FILE)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={variable: text})
    error = caught.value
    assert variable in str(error)
    assert error.file is None
    assert str(path) not in str(error)
    assert error.key == ENVIRONMENT_VARIABLES[variable]
    assert error.expected is not None
    assert expected in error.expected
    assert text not in str(error)


def test_key_material_in_a_variable_is_refused_unshown(write: Write) -> None:
    key = generate_key()
    with pytest.raises(ConfigError, match="looks like key material") as caught:
        load_settings(write(FILE), environ={"VAULTCACHE_NAME": key})
    assert key not in str(caught.value)
    assert "VAULTCACHE_NAME" in str(caught.value)


def test_a_bad_file_is_reported_before_the_environment(write: Write) -> None:
    path = write("nmae = 1")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"VAULTCACHE_CACHE_CONTROL": "maybe"})
    assert caught.value.file == str(path)


def test_every_variable_maps_to_a_real_setting() -> None:
    settings = Settings()
    for variable, dotted in ENVIRONMENT_VARIABLES.items():
        assert variable.startswith("VAULTCACHE_")
        _get(settings, dotted)  # raises AttributeError if the table is wrong
