"""ContextValue: a context variable set for the length of a ``with`` block."""

from __future__ import annotations

import contextvars
from typing import Generic, TypeVar

__all__ = ["ContextValue"]

T = TypeVar("T")


class ContextValue(Generic[T]):
    """``with ContextValue(var, value):`` sets `var` to `value` within the block.

    A class rather than ``contextlib.contextmanager``, whose generator costs microseconds:
    every request a session makes enters three of these.
    """

    __slots__ = ("_token", "_value", "_var")

    def __init__(self, var: contextvars.ContextVar[T], value: T) -> None:
        self._var = var
        self._value = value

    def __enter__(self) -> None:
        self._token = self._var.set(self._value)

    def __exit__(self, *exc_info: object) -> None:
        self._var.reset(self._token)
