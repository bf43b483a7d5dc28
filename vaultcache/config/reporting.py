"""A cattrs error tree told as one ConfigError: the file, the dotted key, what was expected."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any

from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)

from vaultcache.config.problems import Invalid, quote_key
from vaultcache.config.schema import KeySettings, SerializerSettings, file_keys
from vaultcache.errors import ConfigError

__all__ = ["config_error", "leaf_problems"]


def config_error(exc: BaseException, file: str, prefix: str) -> ConfigError:
    """The first problem in a cattrs error tree, as a ConfigError (unknown keys first)."""
    problems = sorted(
        leaf_problems(exc, ()), key=lambda p: not isinstance(p[1], ForbiddenExtraKeysError)
    )
    path, leaf = problems[0]
    count = len(problems) - 1
    more = f" (and {count} more problem{'s' if count > 1 else ''})" if count else ""
    key = (prefix + _dotted(path)).rstrip(".")
    if isinstance(leaf, ForbiddenExtraKeysError):
        return _unknown_key_error(file, key, leaf, more)
    if isinstance(leaf, Invalid):
        return ConfigError(
            leaf.message + more, file=file, key=key + leaf.at, expected=leaf.expected
        )
    return ConfigError(f"invalid value ({type(leaf).__name__}){more}", file=file, key=key)


def leaf_problems(
    exc: BaseException, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Each problem in the tree under `exc`, with its path below `path`; one per unknown key."""
    if isinstance(exc, BaseValidationError):
        for sub in exc.exceptions:
            yield from leaf_problems(sub, path + _note_path(sub))
    elif isinstance(exc, ForbiddenExtraKeysError):
        for name in sorted(exc.extra_fields):
            yield path, ForbiddenExtraKeysError("", exc.cl, {name})
    else:
        yield path, exc


def _note_path(exc: BaseException) -> tuple[str, ...]:
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, AttributeValidationNote):
            return (note.name,)
        if isinstance(note, IterableValidationNote):
            index = note.index
            return (f"[{index}]",) if isinstance(index, int) else (quote_key(str(index)),)
    return ()


def _unknown_key_error(
    file: str, parent: str, exc: ForbiddenExtraKeysError, more: str = ""
) -> ConfigError:
    (name,) = exc.extra_fields
    known = file_keys(exc.cl)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    tables = {SerializerSettings: "stage", KeySettings: "key source"}
    extra = f"; {tables[exc.cl]} options go in a table" if exc.cl in tables else ""
    key = f"{parent}.{quote_key(name)}" if parent else quote_key(name)
    return ConfigError(
        f"unknown key{hint} (known: {', '.join(known)}{extra}){more}",
        file=file,
        key=key,
        expected="one of " + ", ".join(known),
    )


def _dotted(path: Sequence[str]) -> str:
    text = ""
    for part in path:
        text += part if part.startswith("[") or not text else f".{part}"
    return text
