"""Every key of the schema: parsed from a full file, its default, and its checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from vaultcache.cache_keys import DEFAULT_CREDENTIAL_PARAMETERS
from vaultcache.config import (
    TOML_NAME,
    DictionarySettings,
    ExpirySettings,
    KeySettings,
    MatchingSettings,
    PluginSettings,
    RetentionSettings,
    SerializerSettings,
    Settings,
    load_settings,
)
from vaultcache.crypto_key_sources import DEFAULT_SOURCES
from vaultcache.errors import ConfigError
from vaultcache.policy.expiration import DO_NOT_CACHE, EXPIRE_IMMEDIATELY

Write = Callable[..., Path]

FULL = """
name = "archive/http_cache"
backend = "filesystem"

[backend_options]
use_cache_dir = true

[serializer]
spec = "signed+zstd+aesgcm"

[serializer.zstd]
level = 19
max_size = 1048576

[serializer.signed]

[expiry]
expire_after = "1h"
cache_control = true
rfc9111 = "shared"
cdn_cache_control = true
always_revalidate = true
stale_if_error = 300
stale_while_revalidate = "1m"
allowable_codes = [200, 203, 404]
allowable_methods = ["get", "HEAD", "Post"]

[expiry.urls]
"example.com/static/*" = "never"
"*.example.com/api" = 60
"example.com/live" = "do-not-cache"
"example.com/news" = "expire-immediately"
"example.com/until" = 2030-01-01T00:00:00Z

[matching]
match_headers = ["Accept", "Accept-Language"]
credential_parameters = ["Authorization", "x-session"]
extra_credential_parameters = ["X-My-Token"]
ignored_parameters = ["t", "request_id"]
share_credentials = true

[keys]
sources = ["env", "FILE"]
auto_create = false

[keys.file]
path = "~/.config/vaultcache/keys"

[retention]
max_entries = 10000
max_bytes = "1GiB"
max_age = "30d"

[dictionary]
train_after = 500

[plugins]
allow = ["vaultcache-redis", "vaultcache_extra.plugin"]
"""

EXPECTED = Settings(
    name="archive/http_cache",
    backend="filesystem",
    backend_options={"use_cache_dir": True},
    serializer=SerializerSettings(
        spec="signed+zstd+aesgcm",
        options={"zstd": {"level": 19, "max_size": 1048576}, "signed": {}},
    ),
    expiry=ExpirySettings(
        expire_after=timedelta(hours=1),
        cache_control=True,
        rfc9111="shared",
        cdn_cache_control=True,
        always_revalidate=True,
        stale_if_error=300.0,
        stale_while_revalidate=60.0,
        allowable_codes=(200, 203, 404),
        allowable_methods=("GET", "HEAD", "POST"),
        urls={
            "example.com/static/*": None,
            "*.example.com/api": timedelta(seconds=60),
            "example.com/live": DO_NOT_CACHE,
            "example.com/news": EXPIRE_IMMEDIATELY,
            "example.com/until": datetime(2030, 1, 1, tzinfo=UTC),
        },
    ),
    matching=MatchingSettings(
        match_headers=("Accept", "Accept-Language"),
        credential_parameters=("Authorization", "x-session"),
        extra_credential_parameters=("X-My-Token",),
        ignored_parameters=("t", "request_id"),
        share_credentials=True,
    ),
    keys=KeySettings(
        sources=("env", "file"),
        auto_create=False,
        options={"file": {"path": "~/.config/vaultcache/keys"}},
    ),
    retention=RetentionSettings(max_entries=10000, max_bytes=1024**3, max_age=timedelta(days=30)),
    dictionary=DictionarySettings(train_after=500),
    plugins=PluginSettings(allow=("vaultcache-redis", "vaultcache_extra.plugin")),
)


def _leaf_fields(cl: type = Settings, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted name, attrs field) of every key a file can set."""
    for field in attrs.fields(cl):
        name = field.metadata.get(TOML_NAME, field.name)
        if name is None:
            continue
        if attrs.has(field.type):
            yield from _leaf_fields(field.type, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


def _get(settings: object, dotted: str) -> Any:
    for part in dotted.split("."):
        settings = getattr(settings, {"<stage>": "options", "<source>": "options"}.get(part, part))
    return settings


def _load(write: Write, text: str) -> Settings:
    return load_settings(write(text), environ={})


# -- the full file and the defaults ------------------------------------------------------------


def test_full_file_parses_into_every_setting(write: Write) -> None:
    path = write(FULL)
    assert load_settings(path, environ={}) == attrs.evolve(EXPECTED, source=path)


@pytest.mark.parametrize("dotted", [dotted for dotted, _ in _leaf_fields()])
def test_full_file_sets_every_key_to_a_non_default(dotted: str) -> None:
    assert _get(EXPECTED, dotted) != _get(Settings(), dotted)


def test_defaults_are_the_sessions_defaults() -> None:
    settings = Settings()
    assert (settings.name, settings.backend, settings.backend_options) == (
        "http_cache",
        "sqlite",
        {},
    )
    assert settings.serializer == SerializerSettings(spec=None, options={})
    assert settings.expiry == ExpirySettings(
        expire_after=None,
        cache_control=False,
        rfc9111=None,
        cdn_cache_control=False,
        always_revalidate=False,
        stale_if_error=False,
        stale_while_revalidate=False,
        allowable_codes=None,
        allowable_methods=("GET", "HEAD"),
        urls={},
    )
    assert settings.matching == MatchingSettings(
        match_headers=False,
        credential_parameters=DEFAULT_CREDENTIAL_PARAMETERS,
        ignored_parameters=(),
        share_credentials=False,
    )
    assert settings.keys == KeySettings(sources=DEFAULT_SOURCES, auto_create=True, options={})
    assert settings.keys.is_default
    assert settings.retention == RetentionSettings(max_entries=None, max_bytes=None, max_age=None)
    assert settings.plugins == PluginSettings(allow=None)
    assert settings.source is None


def test_an_empty_file_gives_the_defaults(write: Write) -> None:
    path = write("")
    assert load_settings(path, environ={}) == Settings(source=path)


def test_empty_tables_give_their_defaults(write: Write) -> None:
    text = "".join(f"[{section}]\n" for section in ("serializer", "expiry", "matching", "keys"))
    text += "[retention]\n[dictionary]\n[plugins]\n[backend_options]\n[expiry.urls]\n"
    path = write(text)
    assert load_settings(path, environ={}) == Settings(source=path)


def test_settings_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Settings().name = "x"  # type: ignore[misc]


# -- values in every accepted form -------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("-1", None),
        ('"never"', None),
        ("0", EXPIRE_IMMEDIATELY),
        ('"0s"', EXPIRE_IMMEDIATELY),
        ('"do-not-cache"', DO_NOT_CACHE),
        ('"expire-immediately"', EXPIRE_IMMEDIATELY),
        ("90", timedelta(seconds=90)),
        ("1.5", timedelta(seconds=1.5)),
        ('"15m"', timedelta(minutes=15)),
        ('"7d"', timedelta(days=7)),
        ('"1w"', timedelta(weeks=1)),
        ("2030-01-01T12:00:00Z", datetime(2030, 1, 1, 12, tzinfo=UTC)),
        ("2030-01-01T12:00:00", datetime(2030, 1, 1, 12, tzinfo=UTC)),
        ("2030-01-01", datetime(2030, 1, 1, tzinfo=UTC)),
    ],
)
def test_expire_after_forms(write: Write, toml: str, expected: object) -> None:
    settings = _load(write, f"[expiry]\nexpire_after = {toml}")
    assert settings.expiry.expire_after == expected


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("1", 1),
        ("1234", 1234),
        ('"1234"', 1234),
        ('"500MB"', 500_000_000),
        ('"500 mb"', 500_000_000),
        ('"2GiB"', 2 * 1024**3),
        ('"1.5KiB"', 1536),
        ('"10k"', 10_000),
        ('"3TB"', 3 * 10**12),
        ('"1PiB"', 1024**5),
        ('"7B"', 7),
    ],
)
def test_max_bytes_forms(write: Write, toml: str, expected: int) -> None:
    assert _load(write, f"[retention]\nmax_bytes = {toml}").retention.max_bytes == expected


@pytest.mark.parametrize(
    ("toml", "expected"),
    [("3600", timedelta(hours=1)), ('"12h"', timedelta(hours=12)), ("0.5", timedelta(seconds=0.5))],
)
def test_max_age_forms(write: Write, toml: str, expected: timedelta) -> None:
    assert _load(write, f"[retention]\nmax_age = {toml}").retention.max_age == expected


@pytest.mark.parametrize(
    ("toml", "expected"),
    [("true", True), ("false", False), ("0", 0.0), ("2.5", 2.5), ('"5m"', 300.0)],
)
def test_stale_settings_forms(write: Write, toml: str, expected: object) -> None:
    text = f"[expiry]\nstale_if_error = {toml}\nstale_while_revalidate = {toml}"
    expiry = _load(write, text).expiry
    assert expiry.stale_if_error == expiry.stale_while_revalidate == expected
    assert type(expiry.stale_if_error) is type(expected)


def test_match_headers_true(write: Write) -> None:
    assert _load(write, "[matching]\nmatch_headers = true").matching.match_headers is True


def test_empty_lists_are_kept(write: Write) -> None:
    text = "[matching]\nmatch_headers = []\ncredential_parameters = []\n[plugins]\nallow = []"
    settings = _load(write, text)
    assert settings.matching.match_headers == ()
    assert settings.matching.credential_parameters == ()
    assert settings.plugins.allow == ()


def test_url_patterns_keep_their_order(write: Write) -> None:
    patterns = [f"site{i}.example/*" for i in (5, 1, 9, 3, 7)]
    text = "[expiry.urls]\n" + "".join(f'"{p}" = {i + 1}\n' for i, p in enumerate(patterns))
    assert list(_load(write, text).expiry.urls) == patterns


def test_names_are_lower_cased(write: Write) -> None:
    text = 'backend = "SQLite"\n[keys]\nsources = ["ENV", "Data-Dir"]\n[keys.DATA-DIR]\npath = "k"'
    settings = _load(write, text)
    assert settings.backend == "sqlite"
    assert settings.keys.sources == ("env", "data-dir")
    assert settings.keys.options == {"data-dir": {"path": "k"}}


def test_stage_options_for_the_default_spec_and_format(write: Write) -> None:
    settings = _load(write, "[serializer.zstd]\nlevel = 5\n[serializer.msgpack]")
    assert settings.serializer.options == {"zstd": {"level": 5}, "msgpack": {}}


def test_a_leading_tilde_in_the_name_is_expanded(write: Write) -> None:
    assert _load(write, 'name = "~/cache"').name == str(Path("~/cache").expanduser())
    assert _load(write, 'name = "a/~b"').name == "a/~b"


def test_backend_options_are_passed_through_as_written(write: Write) -> None:
    text = (
        '[backend_options]\nurl = "redis://localhost"\nretries = [1, 2]\n'
        "[backend_options.pool]\nsize = 3"
    )
    options = _load(write, text).backend_options
    assert options == {"url": "redis://localhost", "retries": [1, 2], "pool": {"size": 3}}


# -- unknown keys, at every level, with a did-you-mean ------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        ('nmae = "x"', "nmae", "name"),
        ('backnd = "x"', "backnd", "backend"),
        ("[backend_option]\nx = 1", "backend_option", "backend_options"),
        ('[serializer]\nspce = "zstd"', "serializer.spce", "spec"),
        ("[expiry]\nexpire_aftr = 1", "expiry.expire_aftr", "expire_after"),
        ("[expiry]\ncache_contrl = true", "expiry.cache_contrl", "cache_control"),
        ("[expiry]\nurl = 1", "expiry.url", "urls"),
        ("[matching]\nmatch_header = true", "matching.match_header", "match_headers"),
        ("[keys]\nsource = []", "keys.source", "sources"),
        ("[keys]\nautocreate = true", "keys.autocreate", "auto_create"),
        ("[retention]\nmax_entry = 1", "retention.max_entry", "max_entries"),
        ("[plugins]\nallowed = []", "plugins.allowed", "allow"),
        ("[expirey]\nexpire_after = 1", "expirey", "expiry"),
        ("[serializer.zstdd]\nlevel = 1", "serializer.zstdd", "zstd"),
        ('[keys]\nsources = ["env", "file"]\n[keys.fiel]\npath = "x"', "keys.fiel", "file"),
    ],
)
def test_unknown_keys_suggest_the_closest(
    write: Write, text: str, key: str, suggestion: str
) -> None:
    path = write(text)
    with pytest.raises(ConfigError, match=f"did you mean '{suggestion}'") as caught:
        load_settings(path, environ={})
    assert (caught.value.file, caught.value.key) == (str(path), key)
    assert str(caught.value).startswith(f"{path}, key '{key}'")


def test_unknown_key_without_a_close_match_lists_the_known_ones(write: Write) -> None:
    with pytest.raises(ConfigError, match=r"unknown key \(known: max_entries, max_bytes") as e:
        _load(write, "[retention]\nzzzzzz = 1")
    assert "did you mean" not in str(e.value)


def test_source_is_not_a_file_key(write: Write) -> None:
    with pytest.raises(ConfigError, match="unknown key") as caught:
        _load(write, 'source = "elsewhere.toml"')
    assert "source" not in str(caught.value).split("known:")[1]


def test_stage_options_for_a_stage_not_in_the_spec(write: Write) -> None:
    text = '[serializer]\nspec = "gzip+aesgcm"\n[serializer.zstd]\nlevel = 3'
    with pytest.raises(ConfigError, match="not in the serializer spec 'gzip\\+aesgcm'") as e:
        _load(write, text)
    assert e.value.key == "serializer.zstd"


def test_key_source_options_for_an_unused_source(write: Write) -> None:
    text = '[keys]\nsources = ["env"]\n[keys.file]\npath = "x"'
    with pytest.raises(ConfigError, match=r"not in keys\.sources") as caught:
        _load(write, text)
    assert caught.value.key == "keys.file"


def test_a_non_table_under_serializer_is_an_unknown_key(write: Write) -> None:
    with pytest.raises(ConfigError, match=r"unknown key.*stage options go in a table") as caught:
        _load(write, "[serializer]\nzstd = 19")
    assert caught.value.key == "serializer.zstd"


def test_backend_options_may_not_shadow_session_settings(write: Write) -> None:
    with pytest.raises(ConfigError, match="is a session setting") as caught:
        _load(write, "[backend_options]\nexpire_after = 60")
    assert caught.value.key == "backend_options.expire_after"


# -- wrong types and invalid values ------------------------------------------------------------

WRONG = [
    ("name = 5", "name", "a cache name or path", "integer"),
    ("backend = true", "backend", "a name", "boolean"),
    ('backend = "my backend"', "backend", "a name", "string"),
    ("backend_options = 3", "backend_options", "a table", "integer"),
    ('serializer = "zstd"', "serializer", "a table", "string"),
    ("[serializer]\nspec = 5", "serializer.spec", "a serializer spec", "integer"),
    ('[serializer]\nspec = "zstd++aesgcm"', "serializer.spec", "a serializer spec", "string"),
    ('[serializer]\nspec = ""', "serializer.spec", "a serializer spec", "string"),
    ('[serializer]\nspec = "zstd+aes gcm"', "serializer.spec", "a serializer spec", "string"),
    ('[serializer]\nspec = "9zstd"', "serializer.spec", "a serializer spec", "string"),
    ("expiry = []", "expiry", "a table", "array"),
    ('[expiry]\nexpire_after = "soon"', "expiry.expire_after", "seconds", "string"),
    ("[expiry]\nexpire_after = -5", "expiry.expire_after", "seconds", "integer"),
    ("[expiry]\nexpire_after = nan", "expiry.expire_after", "seconds", "float"),
    ("[expiry]\nexpire_after = inf", "expiry.expire_after", "seconds", "float"),
    ("[expiry]\nexpire_after = true", "expiry.expire_after", "seconds", "boolean"),
    ("[expiry]\nexpire_after = [1]", "expiry.expire_after", "seconds", "array"),
    ("[expiry]\nexpire_after = 12:00:00", "expiry.expire_after", "seconds", "time"),
    ('[expiry]\ncache_control = "yes"', "expiry.cache_control", "true or false", "string"),
    ('[expiry]\nrfc9111 = "public"', "expiry.rfc9111", "'private' or 'shared'", "string"),
    ("[expiry]\nrfc9111 = true", "expiry.rfc9111", "'private' or 'shared'", "boolean"),
    ("[expiry]\nalways_revalidate = 1", "expiry.always_revalidate", "true or false", "integer"),
    (
        "[expiry]\nstale_if_error = -1",
        "expiry.stale_if_error",
        "true, false, or seconds",
        "integer",
    ),
    (
        '[expiry]\nstale_while_revalidate = "x"',
        "expiry.stale_while_revalidate",
        "seconds",
        "string",
    ),
    ("[expiry]\nstale_if_error = 1e400", "expiry.stale_if_error", "seconds >= 0", "float"),
    ("[expiry]\nstale_if_error = nan", "expiry.stale_if_error", "seconds >= 0", "float"),
    (f"[expiry]\nstale_if_error = {10**30}", "expiry.stale_if_error", "seconds >= 0", "integer"),
    ("[serializer.spec]\nx = 1", "serializer.spec", "a serializer spec", "table"),
    ("[keys.sources]\nx = 1", "keys.sources", "an array", "table"),
    ("[expiry]\nallowable_codes = 200", "expiry.allowable_codes", "an array", "integer"),
    (
        "[expiry]\nallowable_codes = [200, 99]",
        "expiry.allowable_codes[1]",
        "status code",
        "integer",
    ),
    ('[expiry]\nallowable_codes = ["200"]', "expiry.allowable_codes[0]", "status code", "string"),
    ("[expiry]\nallowable_codes = [true]", "expiry.allowable_codes[0]", "status code", "boolean"),
    ("[expiry]\nallowable_codes = [200.0]", "expiry.allowable_codes[0]", "status code", "float"),
    ('[expiry]\nallowable_methods = "GET"', "expiry.allowable_methods", "an array", "string"),
    (
        '[expiry]\nallowable_methods = ["G ET"]',
        "expiry.allowable_methods[0]",
        "HTTP method",
        "string",
    ),
    ("[expiry]\nurls = 5", "expiry.urls", "a table", "integer"),
    ('[expiry.urls]\n"a.com/*" = "x"', 'expiry.urls."a.com/*"', "seconds", "string"),
    ("[expiry.urls]\nplain = [1]", "expiry.urls.plain", "seconds", "array"),
    (
        '[matching]\nmatch_headers = "Accept"',
        "matching.match_headers",
        "true, false, or an array",
        "string",
    ),
    (
        "[matching]\nmatch_headers = [1]",
        "matching.match_headers[0]",
        "a non-empty string",
        "integer",
    ),
    (
        '[matching]\ncredential_parameters = [""]',
        "matching.credential_parameters[0]",
        "a non-empty string",
        "string",
    ),
    ("[matching]\nshare_credentials = 0", "matching.share_credentials", "true or false", "integer"),
    ('[keys]\nsources = "env"', "keys.sources", "an array", "string"),
    ("[keys]\nsources = [1]", "keys.sources[0]", "a name", "integer"),
    ('[keys]\nauto_create = "no"', "keys.auto_create", "true or false", "string"),
    ("[retention]\nmax_entries = -1", "retention.max_entries", "an integer >= 1", "integer"),
    ('[retention]\nmax_entries = "10"', "retention.max_entries", "an integer >= 1", "string"),
    ("[retention]\nmax_entries = 1.0", "retention.max_entries", "an integer >= 1", "float"),
    ("[retention]\nmax_bytes = -1", "retention.max_bytes", "a number of bytes", "integer"),
    ("[retention]\nmax_bytes = 0", "retention.max_bytes", "a number of bytes", "integer"),
    ('[retention]\nmax_bytes = "0.1B"', "retention.max_bytes", "a number of bytes", "string"),
    ("[retention]\nmax_entries = 0", "retention.max_entries", "an integer >= 1", "integer"),
    ('[retention]\nmax_bytes = "1XB"', "retention.max_bytes", "a number of bytes", "string"),
    ('[retention]\nmax_bytes = "iB"', "retention.max_bytes", "a number of bytes", "string"),
    ('[retention]\nmax_bytes = "5iB"', "retention.max_bytes", "a number of bytes", "string"),
    ("[retention]\nmax_bytes = 1.5", "retention.max_bytes", "a number of bytes", "float"),
    ("[retention]\nmax_age = 0", "retention.max_age", "a duration", "integer"),
    ('[retention]\nmax_age = "never"', "retention.max_age", "a duration", "string"),
    ('[retention]\nmax_age = "soon"', "retention.max_age", "a duration", "string"),
    ("[retention]\nmax_age = 2030-01-01T00:00:00Z", "retention.max_age", "a duration", "datetime"),
    ('[plugins]\nallow = "vaultcache-redis"', "plugins.allow", "an array", "string"),
    ('[plugins]\nallow = ["not a package"]', "plugins.allow[0]", "a package name", "string"),
]


@pytest.mark.parametrize(("text", "key", "expected", "got"), WRONG)
def test_wrong_values_name_file_key_expected_and_type(
    write: Write, text: str, key: str, expected: str, got: str
) -> None:
    path = write(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    error = caught.value
    assert (error.file, error.key) == (str(path), key)
    assert error.expected is not None
    assert expected in error.expected
    assert f"got {got}" in str(error)
    assert str(error).startswith(f"{path}, key '{key}': ")


def test_several_problems_are_counted(write: Write) -> None:
    text = "[expiry]\ncache_control = 1\nallowable_codes = [1, 2, 3]"
    with pytest.raises(ConfigError, match=r"\(and 3 more problems\)$"):
        _load(write, text)


def test_unknown_keys_are_reported_before_other_problems(write: Write) -> None:
    with pytest.raises(ConfigError, match="unknown key") as caught:
        _load(write, "[expiry]\ncache_control = 1\ncach_control = true")
    assert caught.value.key == "expiry.cach_control"


SECRETISH = "hunter2-correct-horse-battery"


@pytest.mark.parametrize(
    "text",
    [
        f'name = ["{SECRETISH}"]',
        f'backend = "{SECRETISH} x"',
        f'[serializer]\nspec = "{SECRETISH}+ +"',
        f'[expiry]\nexpire_after = "{SECRETISH}"',
        f'[expiry.urls]\n"a/*" = "{SECRETISH}"',
        f'[retention]\nmax_bytes = "{SECRETISH}"',
        f'[plugins]\nallow = ["{SECRETISH} !"]',
        f'[keys]\nsources = ["{SECRETISH}!"]',
    ],
)
def test_values_are_never_echoed(write: Write, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(write, text)
    assert SECRETISH not in str(caught.value)
    assert SECRETISH not in repr(caught.value.args)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[matching]\nextra_credential_parameters = ["X-My-Token"]',
            (*DEFAULT_CREDENTIAL_PARAMETERS, "X-My-Token"),
        ),
        (
            '[matching]\ncredential_parameters = ["Cookie"]\nextra_credential_parameters = ["sid"]',
            ("Cookie", "sid"),
        ),
    ],
    ids=["adds-to-the-defaults", "adds-to-a-list-of-ones-own"],
)
def test_extra_credential_parameters_extend_the_list(
    write: Write, text: str, expected: tuple[str, ...]
) -> None:
    kwargs = _load(write, text).session_kwargs()

    assert kwargs["credential_parameters"] == expected
    assert kwargs["ignored_parameters"] == ()


def test_ignored_parameters_are_their_own_list(write: Write) -> None:
    kwargs = _load(write, '[matching]\nignored_parameters = ["t"]').session_kwargs()

    assert kwargs["ignored_parameters"] == ("t",)
    assert kwargs["credential_parameters"] == DEFAULT_CREDENTIAL_PARAMETERS
