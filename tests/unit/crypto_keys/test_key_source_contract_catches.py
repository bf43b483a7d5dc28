"""The key-source contract fails sources that break it: passing everything would prove nothing."""

from __future__ import annotations

import os
from typing import Any

import pytest

from vaultcache.plugin import KeySource
from vaultcache.testing import KeySourceContract

# What a failed contract check raises: pytest.fail's exception, or a failed assert/raises.
FAILED = (pytest.fail.Exception, AssertionError)
VARIABLE = "VAULTCACHE_CONTRACT_CATCHES"


class EnvSource:
    """Keys from `VARIABLE`, separated by commas."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def load(self) -> list[str] | None:
        value = os.environ.get(VARIABLE)
        return value.split(",") if value else None


class Leaky(EnvSource):
    """Names its keys when asked where they come from."""

    def describe(self) -> str:
        return f"keys {os.environ.get(VARIABLE)}"


class Reversed(EnvSource):
    """Gives the primary key last."""

    def load(self) -> list[str] | None:
        keys = super().load()
        return None if keys is None else keys[::-1]


class _Kit(KeySourceContract):
    """The contract with the source under test built directly, not through the registry."""

    source_name = "env"

    def __init__(self, source: type[EnvSource]) -> None:
        self.source = source

    def store(self, options: dict[str, Any], keys: list[str]) -> None:
        os.environ[VARIABLE] = ",".join(keys)

    def make_source(self, options: dict[str, Any]) -> KeySource:
        return self.source(options)


@pytest.fixture
def options(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv(VARIABLE, "")  # restored (unset) after the test
    return {"variable": VARIABLE}


def test_a_source_that_shows_its_keys_fails(options: dict[str, Any]) -> None:
    with pytest.raises(FAILED):
        _Kit(Leaky).test_descriptions_never_show_keys(options)


def test_a_source_that_gives_the_primary_key_last_fails(options: dict[str, Any]) -> None:
    with pytest.raises(FAILED):
        _Kit(Reversed).test_stored_keys_load_primary_first(options)


def test_a_source_that_accepts_any_option_fails(options: dict[str, Any]) -> None:
    with pytest.raises(FAILED):
        _Kit(EnvSource).test_unknown_options_are_config_errors(options)


def test_a_source_that_keeps_the_contract_passes(options: dict[str, Any]) -> None:
    kit = _Kit(EnvSource)
    kit.test_descriptions_never_show_keys(options)
    kit.test_stored_keys_load_primary_first(options)
