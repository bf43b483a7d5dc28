"""The shared syntax of HTTP header values: tokens, quoted strings, delta-seconds, lists.

Every reader here takes untrusted text and never raises (see :mod:`.directives`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from requests.structures import CaseInsensitiveDict

__all__ = [
    "MAX_DELTA_SECONDS",
    "MAX_HEADER",
    "delta_seconds",
    "elements",
    "header_value",
    "is_token",
]


MAX_DELTA_SECONDS: Final = 2**31
"""Larger delta-seconds values are read as this (RFC 9111 §1.2.2)."""


_TCHAR: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


_SPACE: Final = frozenset(" \t\r\n\v\f")


_SEPARATOR: Final = _SPACE | {","}


_STOP: Final = _SEPARATOR | {"=", '"'}


MAX_HEADER: Final = 64 * 1024  # longer values are read only up to this length


def is_token(text: str) -> bool:
    """Whether `text` is an RFC 9110 token (§5.6.2)."""
    return bool(text) and all(char in _TCHAR for char in text)


def delta_seconds(text: str | None) -> int | None:
    """``delta-seconds`` (1*DIGIT, ASCII only), clamped to 2**31; None when invalid."""
    if not text or not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    # Clamp before int(): a huge digit string would be slow, or refused by int() itself.
    return MAX_DELTA_SECONDS if len(digits) > 10 else min(int(digits or "0"), MAX_DELTA_SECONDS)


def _quoted(text: str, start: int) -> tuple[str | None, int]:
    """The quoted-string at ``text[start] == '"'``: (unescaped value, index after it).

    An unterminated string gives (None, start + 1): scanning resumes just after the quote,
    so directives after a stray quote are still seen.
    """
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
        elif char == '"':
            return "".join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    return None, start + 1


def _argument(text: str, index: int, quotes: bool) -> tuple[str | None, bool, int]:
    """The argument after ``=`` at `index`: (value, valid, index after it).

    A value of None means an unterminated quoted-string (only when `quotes` is on).
    """
    if quotes and index < len(text) and text[index] == '"':
        value, end = _quoted(text, index)
        valid = value is not None and (end >= len(text) or text[end] in _SEPARATOR)
        return value, valid, end
    end = index
    while end < len(text) and text[end] not in _STOP:
        end += 1
    value = text[index:end]
    valid = is_token(value) and (end >= len(text) or text[end] in _SEPARATOR)
    return value, valid, end


def elements(text: str) -> Iterator[tuple[str, str | None, bool]]:
    """Split ``#( token [ "=" ( token / quoted-string ) ] )`` into (name, argument, valid).

    Commas separate elements, and so does whitespace outside quotes: the grammar allows no
    whitespace inside an element, and a missing comma (``max-age=60 no-store``) must not
    hide a directive. Whitespace around ``=`` therefore makes the argument invalid. After
    an unterminated quoted-string, quotes lose their meaning for the rest of the value, so
    the directives inside it are still seen and scanning stays linear.
    """
    index = 0
    quotes = True
    while index < len(text):
        char = text[index]
        if char in _SEPARATOR or char == "=" or (char == '"' and not quotes):
            index += 1
        elif char == '"':  # a quoted string where a name belongs: skip it
            skipped, index = _quoted(text, index)
            quotes = skipped is not None
        else:
            end = index
            while end < len(text) and text[end] not in _STOP:
                end += 1
            name = text[index:end]
            argument: str | None = None
            valid = True
            if end < len(text) and text[end] == "=":
                argument, valid, end = _argument(text, end + 1, quotes)
                if argument is None:
                    quotes = False
            index = end
            if is_token(name):
                yield name.lower(), argument, valid


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value, looked up case-insensitively in any mapping; repeats are joined.

    Values that are bytes are decoded as Latin-1; other non-text values count as absent.
    """
    if not headers:
        return None
    if isinstance(headers, CaseInsensitiveDict):
        found = [headers.get(name)]
    else:
        lowered = name.lower()
        found = [
            value
            for key, value in headers.items()
            if isinstance(key, str) and key.lower() == lowered
        ]
    texts = [
        value.decode("latin-1") if isinstance(value, bytes) else value
        for value in found
        if isinstance(value, str | bytes)
    ]
    return ", ".join(texts) if texts else None
