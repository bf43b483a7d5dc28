"""From settings to a working session: session_kwargs, the key decision, from_config."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests_mock

from vaultcache.config import Settings, load_settings
from vaultcache.crypto_key_sources import default_key_file
from vaultcache.crypto_keys import KeyRing, generate_key
from vaultcache.errors import ConfigError, KeyRingError
from vaultcache.registry import get_registry
from vaultcache.retention import Retention
from vaultcache.session import CachedSession

Write = Callable[..., Path]

CONFIG = """
backend = "memory"
[serializer]
spec = "signed+zstd+aesgcm"
[serializer.zstd]
level = 19
[expiry]
expire_after = "1h"
allowable_codes = [200, 404]
[expiry.urls]
"api.test/static/*" = "never"
"""


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = generate_key()
    monkeypatch.setenv("VAULTCACHE_KEYS", value)
    return value


@pytest.fixture
def adapter() -> requests_mock.Adapter:
    mock = requests_mock.Adapter()
    mock.register_uri("GET", "mock://api.test/items", json={"items": [1, 2]})
    mock.register_uri("GET", "mock://api.test/static/app.js", text="js")
    mock.register_uri("GET", "mock://api.test/missing", status_code=404, text="no")
    return mock


@pytest.fixture
def session(write: Write, key: str, adapter: requests_mock.Adapter) -> Iterator[CachedSession]:
    with CachedSession.from_config(write(CONFIG)) as made:
        made.mount("mock://", adapter)
        yield made


def test_from_config_builds_a_working_session(
    session: CachedSession, adapter: requests_mock.Adapter
) -> None:
    first = session.get("mock://api.test/items")
    second = session.get("mock://api.test/items")
    assert first.json() == second.json() == {"items": [1, 2]}
    assert (first.from_cache, second.from_cache) == (False, True)
    assert adapter.call_count == 1


def test_from_config_uses_the_configured_serializer(session: CachedSession) -> None:
    pipeline = session.cache.serializer
    assert pipeline.spec == "msgpack+zstd+aesgcm"  # signed is covered by aesgcm
    zstd = next(stage for stage in pipeline.stages if type(stage).__name__ == "ZstdStage")
    assert zstd.level == 19
    session.get("mock://api.test/items")
    (stored,) = session.cache.responses.values()
    assert stored.content == b'{"items": [1, 2]}'


def test_from_config_uses_the_configured_expiry(session: CachedSession) -> None:
    before = datetime.now(UTC)
    session.get("mock://api.test/items")
    session.get("mock://api.test/static/app.js")
    cached = session.get("mock://api.test/items")
    static = session.get("mock://api.test/static/app.js")
    assert cached.expires is not None
    assert before + timedelta(minutes=59) < cached.expires <= datetime.now(UTC) + timedelta(hours=1)
    assert static.from_cache
    assert static.expires is None
    session.get("mock://api.test/missing")
    assert session.get("mock://api.test/missing").from_cache


def test_from_config_overrides_win(write: Write, key: str) -> None:
    with CachedSession.from_config(write(CONFIG), expire_after=5, serializer="zstd") as made:
        assert made.settings.expire_after == 5
        assert made.cache.serializer.spec == "msgpack+zstd"


def test_from_config_searches_like_load_settings(
    write: Write, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(CONFIG)
    monkeypatch.setenv("VAULTCACHE_EXPIRE_AFTER", "2m")
    with CachedSession.from_config() as made:
        assert made.cache.serializer.spec == "msgpack+zstd+aesgcm"
        assert made.settings.expire_after == timedelta(minutes=2)


def test_from_config_on_a_subclass_returns_the_subclass(write: Write, key: str) -> None:
    class MySession(CachedSession):
        pass

    with MySession.from_config(write(CONFIG)) as made:
        assert type(made) is MySession


def test_from_config_with_a_bad_file_raises_config_error(write: Write) -> None:
    path = write("[expiry]\nexpire_after = 'soon'")
    with pytest.raises(ConfigError) as caught:
        CachedSession.from_config(path)
    assert (caught.value.file, caught.value.key) == (str(path), "expiry.expire_after")


# -- session_kwargs ----------------------------------------------------------------------------


def test_session_kwargs_of_the_defaults_make_the_default_session(key: str) -> None:
    kwargs = Settings().session_kwargs(backend="memory")
    assert "keys" not in kwargs
    with CachedSession(**kwargs) as configured, CachedSession(backend="memory") as plain:
        assert configured.cache.serializer.spec == plain.cache.serializer.spec
        assert configured.settings.expire_after is None
        assert plain.settings.expire_after == -1  # the same "never", spelled the default way
        fields: tuple[str, ...] = (
            "cache_control",
            "rfc9111",
            "cdn_cache_control",
            "allowable_codes",
            "allowable_methods",
            "always_revalidate",
        )
        fields += ("match_headers", "share_credentials", "stale_if_error", "stale_while_revalidate")
        for name in fields:
            assert getattr(configured.settings, name) == getattr(plain.settings, name), name
        assert configured.settings.credential_parameters == plain.settings.credential_parameters
        assert configured.settings.ignored_parameters == plain.settings.ignored_parameters == ()


def test_session_kwargs_name_every_setting(write: Write) -> None:
    settings = load_settings(write(CONFIG), environ={})
    kwargs = settings.session_kwargs()
    assert set(kwargs) == {
        "cache_name",
        "backend",
        "serializer",
        "serializer_options",
        "expire_after",
        "urls_expire_after",
        "cache_control",
        "rfc9111",
        "cdn_cache_control",
        "allowable_codes",
        "allowable_methods",
        "always_revalidate",
        "credential_parameters",
        "ignored_parameters",
        "match_headers",
        "share_credentials",
        "stale_if_error",
        "stale_while_revalidate",
        "retention",
        "train_dictionary_after",
    }
    assert kwargs["serializer_options"] == {"zstd": {"level": 19}}
    assert kwargs["urls_expire_after"] == {"api.test/static/*": None}
    assert kwargs["expire_after"] == timedelta(hours=1)


def test_backend_options_are_spread_as_keywords(write: Write, key: str, tmp_path: Path) -> None:
    path = write(f'name = "{tmp_path / "db"}"\n[backend_options]\nbusy_timeout = 7')
    kwargs = load_settings(path, environ={}).session_kwargs()
    assert kwargs["busy_timeout"] == 7
    with CachedSession(**kwargs) as made:
        assert made.backend_options == {"busy_timeout": 7}


def test_an_unknown_backend_option_is_refused_by_the_backend(write: Write, key: str) -> None:
    path = write("[backend_options]\nbusy_timout = 7")
    with pytest.raises(ConfigError, match="did you mean 'busy_timeout'") as caught:
        CachedSession.from_config(path, cache_name=str(path.parent / "db"))
    # Told as the file spells it (security issue item 9): the file and its key.
    assert caught.value.key == "backend_options.busy_timout"
    assert caught.value.file == str(path)


def test_retention_is_passed_as_a_retention_and_plugins_are_not(write: Write) -> None:
    text = "[retention]\nmax_entries = 3\n[plugins]\nallow = []"
    settings = load_settings(write(text), environ={})
    assert settings.retention.max_entries == 3
    assert settings.plugins.allow == ()
    kwargs = settings.session_kwargs()
    assert kwargs["retention"] == Retention(max_entries=3)
    assert not {"max_entries", "plugins", "allow"} & set(kwargs)


def test_no_retention_bounds_means_no_retention(write: Write) -> None:
    assert load_settings(write("[retention]\n"), environ={}).session_kwargs()["retention"] is None


# -- keys: left to the session unless [keys] changes the lookup ---------------------------------


def _kwargs(write: Write, text: str, **overrides: object) -> dict[str, object]:
    return load_settings(write(text), environ={}).session_kwargs(**overrides)


def test_default_key_settings_leave_keys_to_the_session(write: Write) -> None:
    # No key anywhere and auto-creation allowed: nothing is looked up, nothing is created.
    assert "keys" not in _kwargs(write, '[keys]\nsources = ["env", "file", "data-dir"]')
    assert not default_key_file().exists()


def test_configured_sources_load_the_ring(write: Write, key: str) -> None:
    ring = _kwargs(write, '[keys]\nsources = ["env"]')["keys"]
    assert isinstance(ring, KeyRing)
    assert ring.ids == KeyRing([key]).ids


def test_source_options_load_the_ring(write: Write, tmp_path: Path) -> None:
    key_file = tmp_path / "my-keys"
    key_file.write_text(generate_key() + "\n", encoding="utf-8")
    key_file.chmod(0o600)
    ring = _kwargs(write, f'[keys.file]\npath = "{key_file}"')["keys"]
    assert isinstance(ring, KeyRing)
    assert ring.ids == KeyRing.from_text(key_file.read_text(encoding="utf-8")).ids


def test_env_source_option_names_another_variable(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = generate_key()
    monkeypatch.setenv("MY_APP_KEYS", other)
    text = '[keys]\nsources = ["env"]\n[keys.env]\nvariable = "MY_APP_KEYS"'
    ring = _kwargs(write, text)["keys"]
    assert isinstance(ring, KeyRing)
    assert ring.ids == KeyRing([other]).ids


def test_missing_key_with_configured_sources_is_a_key_ring_error(write: Write) -> None:
    with pytest.raises(KeyRingError, match="no vaultcache key found"):
        _kwargs(write, '[keys]\nsources = ["env"]')


def test_missing_key_is_no_error_when_the_spec_needs_none(write: Write) -> None:
    text = '[serializer]\nspec = "zstd"\n[keys]\nsources = ["env", "data-dir"]'
    assert "keys" not in _kwargs(write, text)
    assert not default_key_file().exists()  # no key is created just to hash credentials


def test_spec_without_keys_still_uses_a_configured_key(write: Write, key: str) -> None:
    kwargs = _kwargs(write, '[serializer]\nspec = "zstd"\n[keys]\nsources = ["env"]')
    assert isinstance(kwargs["keys"], KeyRing)


def test_auto_create_false_refuses_to_create_a_key_file(write: Write) -> None:
    with pytest.raises(KeyRingError):
        _kwargs(write, "[keys]\nauto_create = false")
    assert not default_key_file().exists()


def test_auto_create_true_still_honours_the_environment(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULTCACHE_AUTO_CREATE_KEY", "0")
    with pytest.raises(KeyRingError):
        _kwargs(write, '[keys]\nsources = ["data-dir"]\nauto_create = true')
    assert not default_key_file().exists()


def test_configured_data_dir_source_creates_a_key_when_allowed(write: Write) -> None:
    ring = _kwargs(write, '[keys]\nsources = ["data-dir"]')["keys"]
    assert isinstance(ring, KeyRing)
    assert default_key_file().exists()
    if os.name == "posix":
        assert default_key_file().stat().st_mode & 0o077 == 0


def test_a_keys_override_skips_the_configured_lookup(write: Write) -> None:
    ring = KeyRing([generate_key()])
    kwargs = _kwargs(write, '[keys]\nsources = ["env"]', keys=ring)
    assert kwargs["keys"] is ring


def test_a_serializer_override_decides_whether_keys_are_required(write: Write) -> None:
    text = '[keys]\nsources = ["env"]'
    assert "keys" not in _kwargs(write, text, serializer="zstd")
    with pytest.raises(KeyRingError):
        _kwargs(write, text, serializer="zstd+fernet")


def test_an_unknown_key_source_names_the_file_and_key(write: Write) -> None:
    path = write('[keys]\nsources = ["vault"]')
    with pytest.raises(ConfigError, match="unknown key source 'vault'") as caught:
        load_settings(path, environ={}).session_kwargs()
    assert (caught.value.file, caught.value.key) == (str(path), "keys.sources")


def test_from_config_with_configured_key_sources(
    write: Write, key: str, adapter: requests_mock.Adapter
) -> None:
    path = write(CONFIG + '[keys]\nsources = ["env"]\nauto_create = false\n')
    with CachedSession.from_config(path) as made:
        made.mount("mock://", adapter)
        made.get("mock://api.test/items")
        assert made.get("mock://api.test/items").from_cache
    assert not default_key_file().exists()


def test_session_kwargs_applies_the_allow_list_first(write: Write) -> None:
    settings = load_settings(write('[plugins]\nallow = ["Vaultcache_Brotli"]'), environ={})
    settings.session_kwargs()
    assert get_registry().allowed == frozenset({"vaultcache-brotli"})
    load_settings(write(""), environ={}).session_kwargs()  # no allow: nothing widens
    assert get_registry().allowed == frozenset({"vaultcache-brotli"})
