"""The session's keywords are declared once: CacheMixin takes them, the config file sets them."""

from __future__ import annotations

import inspect

import attrs
import pytest

from vaultcache import CachedSession
from vaultcache.config import ExpirySettings, MatchingSettings, Settings
from vaultcache.session import CacheMixin
from vaultcache.session_options import SESSION_KEYWORDS

#: Config keys spelled otherwise than the session keyword they set.
RENAMED = {"urls": "urls_expire_after", "extra_credential_parameters": "credential_parameters"}
#: The settings of the session that the [expiry] and [matching] tables set.
TABLE_SETTINGS = sorted(
    {
        RENAMED.get(field.name, field.name)
        for table in (ExpirySettings, MatchingSettings)
        for field in attrs.fields(table)
    }
)


def _parameters() -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(CacheMixin.__init__).parameters)


def test_the_declared_keywords_are_those_cache_mixin_takes() -> None:
    taken = {p.name for p in _parameters().values() if p.kind is not p.VAR_KEYWORD} - {"self"}
    assert taken == SESSION_KEYWORDS


def test_settings_give_the_session_only_its_keywords() -> None:
    assert set(Settings().session_kwargs()) <= SESSION_KEYWORDS


def test_each_setting_of_a_session_table_is_a_session_keyword() -> None:
    assert set(TABLE_SETTINGS) <= SESSION_KEYWORDS


def test_the_file_names_the_session_and_backend_the_session_defaults_to() -> None:
    parameters = _parameters()
    assert Settings().name == parameters["cache_name"].default
    assert Settings().backend == parameters["backend"].default


@pytest.mark.parametrize("name", [n for n in TABLE_SETTINGS if n != "expire_after"])
def test_the_table_defaults_are_the_session_defaults(key: str, name: str) -> None:
    # expire_after is left out: the file's None and the session's -1 both mean "never"
    # (test_config_session checks that pair).
    kwargs = {**Settings().session_kwargs(backend="memory"), "keys": key}
    with CachedSession(**kwargs) as configured, CachedSession(backend="memory", keys=key) as plain:
        assert getattr(configured.settings, name) == getattr(plain.settings, name)
