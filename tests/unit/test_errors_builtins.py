"""Errors users of requests-cache catch by built-in type still catch vaultcache's (issue 18,
item 16), and the tree in vaultcache/errors.py's docstring is the real one."""

from __future__ import annotations

import re
from typing import Any

import pytest

import vaultcache
from vaultcache import errors
from vaultcache.session import CachedSession


@pytest.mark.parametrize(
    ("kwargs", "builtin"),
    [
        ({"backend": "no-such-backend"}, ValueError),  # requests-cache: ValueError
        ({"expire_after": object()}, TypeError),  # requests-cache: TypeError (timedelta)
        ({"expire_after": [60]}, TypeError),
        ({"expire_after": "soon"}, ValueError),
        ({"allowable_codes": ["200"]}, ValueError),
        ({"decode_content": True}, ValueError),
    ],
)
def test_bad_arguments_raise_the_builtin_requests_cache_raises(
    kwargs: dict[str, Any], builtin: type[Exception], key: str
) -> None:
    with pytest.raises(builtin) as caught:
        CachedSession("c", **{"backend": "memory", "keys": [key], **kwargs})
    assert isinstance(caught.value, vaultcache.VaultCacheError)
    assert "\n" not in str(caught.value)


def test_setting_a_bad_expire_after_later_fails_at_once(key: str) -> None:
    session = CachedSession("c", backend="memory", keys=[key])
    with pytest.raises(TypeError):
        session.expire_after = object()
    session.close()


_TREE_LINE = re.compile(r"^[│ ]*[├└]── (\w+)\s.*?(?:\[([\w, ]+)\])?$")


def _tree() -> dict[str, tuple[str, ...]]:
    """Each class drawn in the docstring, with the built-ins in brackets after it (the
    brackets may be on the next line)."""
    drawn: dict[str, tuple[str, ...]] = {}
    last = ""
    for line in (errors.__doc__ or "").splitlines():
        match = _TREE_LINE.match(line)
        if match:
            last = match[1]
            drawn[last] = tuple(match[2].replace(" ", "").split(",")) if match[2] else ()
        elif last and (brackets := re.search(r"\[([\w, ]+)\]\s*$", line)):
            drawn[last] = tuple(brackets[1].replace(" ", "").split(","))
    return drawn


def test_the_docstring_tree_draws_every_error_and_its_builtins() -> None:
    drawn = _tree()
    for name in errors.__all__:
        cls = getattr(errors, name)
        if name == "VaultCacheError" or not isinstance(cls, type):
            continue  # the root, and helpers such as describe()
        assert name in drawn, f"{name} is missing from the tree in errors.py"
        builtins = tuple(
            base.__name__ for base in cls.__bases__ if not issubclass(base, errors.VaultCacheError)
        )
        assert drawn[name] == builtins, name
