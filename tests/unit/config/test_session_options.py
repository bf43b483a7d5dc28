"""The session's keywords are declared once: CacheMixin takes them, the config file sets them."""

from __future__ import annotations

import inspect

import attrs
import pytest

from vaultcache.config import ExpirySettings, MatchingSettings, Settings
from vaultcache.session import CacheMixin
from vaultcache.session_options import SESSION_KEYWORDS

#: Config keys spelled otherwise than the session keyword they set.
RENAMED = {"urls": "urls_expire_after", "extra_credential_parameters": "credential_parameters"}


def test_the_declared_keywords_are_those_cache_mixin_takes() -> None:
    parameters = inspect.signature(CacheMixin.__init__).parameters.values()
    taken = {p.name for p in parameters if p.kind is not p.VAR_KEYWORD} - {"self"}
    assert taken == SESSION_KEYWORDS


def test_settings_give_the_session_only_its_keywords() -> None:
    assert set(Settings().session_kwargs()) <= SESSION_KEYWORDS


@pytest.mark.parametrize("table", [ExpirySettings, MatchingSettings])
def test_each_setting_of_a_session_table_is_a_session_keyword(table: type) -> None:
    names = {RENAMED.get(field.name, field.name) for field in attrs.fields(table)}
    assert names <= SESSION_KEYWORDS
