"""How problems are told: a failed check, the value's type (never the value), the key as written."""

from __future__ import annotations

import re
from datetime import date, datetime, time

__all__ = ["Invalid", "quote_key", "type_name", "wrong"]


class Invalid(Exception):
    """A value failed a check; becomes a ConfigError once the file and key are known."""

    def __init__(self, message: str, expected: str, at: str = "") -> None:
        self.message = message
        self.expected = expected
        self.at = at  # a path below the key the hook was called for (".zstd", "[2]")
        super().__init__(message)


def wrong(expected: str, value: object, reason: str = "") -> Invalid:
    """The error for `value`, naming its type only: the value itself may be a secret."""
    got = f"expected {expected}, got {type_name(value)}"
    return Invalid(f"{reason}; {got}" if reason else got, expected)


def type_name(value: object) -> str:
    """The TOML name of the type of `value` ("string", "table", ...)."""
    names = {str: "string", int: "integer", float: "float", bool: "boolean", dict: "table"}
    names.update({list: "array", datetime: "datetime", date: "date", time: "time"})
    return names.get(type(value), type(value).__name__)


def quote_key(name: str) -> str:
    """`name` as a TOML key: bare when it can be, else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{_escape(name)}"'


def _escape(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')
