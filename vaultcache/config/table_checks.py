"""Checks across a table: options only for stages and sources in use, no session keyword reused."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any, Final

from vaultcache.config.problems import Invalid, quote_key
from vaultcache.config.schema import KeySettings, SerializerSettings
from vaultcache.serializers.builder import DEFAULT_FORMAT, parse_spec
from vaultcache.session_options import DEFAULT_SERIALIZER, SESSION_KEYWORDS

__all__ = ["OPTION_TABLE_CHECKS", "refuse_session_keywords"]


def _check_stage_options(settings: SerializerSettings, tables: dict[str, Any]) -> None:
    spec = settings.spec or DEFAULT_SERIALIZER
    stages = [*parse_spec(spec), DEFAULT_FORMAT]
    _check_names(tables, stages, "stage", f"not in the serializer spec {spec!r}")


def _check_source_options(settings: KeySettings, tables: dict[str, Any]) -> None:
    _check_names(tables, list(settings.sources), "key source", "not in keys.sources")


def _check_names(tables: dict[str, Any], known: list[str], what: str, why: str) -> None:
    for name in tables:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listing = ", ".join(dict.fromkeys(known))
            raise Invalid(
                f"options for {what} {name!r}, which is {why}{hint}",
                f"options for one of: {listing}",
                at=f".{quote_key(name)}",
            )


#: Settings class whose other tables hold options -> the check of those tables' names.
OPTION_TABLE_CHECKS: Final[dict[type, Callable[[Any, dict[str, Any]], None]]] = {
    SerializerSettings: _check_stage_options,
    KeySettings: _check_source_options,
}


def refuse_session_keywords(options: Mapping[str, Any]) -> None:
    """Raise Invalid when a backend option has the name of a session setting."""
    taken = sorted(set(options) & SESSION_KEYWORDS)
    if taken:
        raise Invalid(
            f"{taken[0]!r} is a session setting, not a backend option; see docs/config.md "
            "for where it goes",
            "options of the backend itself",
            at=f".{quote_key(taken[0])}",
        )
