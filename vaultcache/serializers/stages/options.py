"""Checking the options a stage is built with, so a typo is an error and not a silent default."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from vaultcache.errors import ConfigError

__all__ = ["int_option", "parse_options", "reject_options"]

T = TypeVar("T")


def reject_options(stage: str, options: Mapping[str, Any]) -> None:
    """Raise ConfigError if a stage that takes no options is given any."""
    for name in options:
        raise ConfigError(f"stage {stage!r} takes no options", key=f"serializer.{stage}.{name}")


def int_option(default: int, low: int, high: int) -> Any:
    """An attrs field for an integer option that must lie in ``low..high``."""
    return attrs.field(default=default, metadata={"range": (low, high)})


def parse_options(stage: str, options: Mapping[str, Any], cls: type[T]) -> T:
    """Build the attrs options class `cls` from `options`, checking names and ranges."""
    fields = {field.name: field for field in attrs.fields(cls)}  # type: ignore[arg-type]
    for name, value in options.items():
        field = fields.get(name)
        if field is None:
            close = difflib.get_close_matches(name, list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"unknown option for stage {stage!r}{hint} (known: {', '.join(fields)})",
                key=f"serializer.{stage}.{name}",
            )
        if "range" in field.metadata:
            _check_int(stage, name, value, field)
    return cls(**options)


def _check_int(stage: str, name: str, value: Any, field: attrs.Attribute[Any]) -> None:
    low, high = field.metadata["range"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            f"expected an integer, got {type(value).__name__}",
            key=f"serializer.{stage}.{name}",
            expected="integer",
        )
    if not low <= value <= high:
        raise ConfigError(
            f"{value} is out of range {low}..{high}",
            key=f"serializer.{stage}.{name}",
            expected=f"integer from {low} to {high}",
        )
