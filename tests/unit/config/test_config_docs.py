"""docs/config.md documents every key of the schema, and its examples are valid."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import vaultcache
from vaultcache.config import ENVIRONMENT_VARIABLES, TOML_NAME, Settings, load_settings

Write = Callable[..., Path]
DOCS = Path(vaultcache.__file__).parent.parent / "docs" / "config.md"
TEXT = DOCS.read_text(encoding="utf-8")


def _schema_keys(cl: type = Settings, prefix: str = "") -> Iterator[str]:
    """Every key a file can set, as docs/config.md names it, from the attrs classes."""
    for field in attrs.fields(cl):
        name = field.metadata.get(TOML_NAME, field.name)
        if name is None:
            continue
        if attrs.has(field.type):
            yield from _schema_keys(field.type, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def _documented() -> dict[str, str]:
    """Heading key -> the text of its entry, for each ``### `key` `` in the reference."""
    reference = TEXT.split("\n## Reference\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### `([^`]+)`\n", reference, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _get(settings: object, dotted: str) -> Any:
    for part in dotted.split("."):
        settings = getattr(settings, {"<stage>": "options", "<source>": "options"}.get(part, part))
    return settings


def test_every_field_is_documented_and_nothing_else() -> None:
    assert sorted(_documented()) == sorted(_schema_keys())


def test_reference_follows_the_schema_order() -> None:
    assert list(_documented()) == list(_schema_keys())


@pytest.mark.parametrize("key", list(_schema_keys()))
def test_each_entry_has_type_default_and_example(key: str) -> None:
    entry = _documented()[key]
    for label in ("- Type: ", "- Default: ", "- Example: "):
        assert re.search(f"^{re.escape(label)}\\S", entry, flags=re.MULTILINE), (key, label)
    description = entry.split("- Example: ", 1)[1].split("\n", 1)[1].strip()
    assert description, f"{key} has no description"


def _example_toml(key: str) -> str:
    line = re.search(r"^- Example: (.+)$", _documented()[key], flags=re.MULTILINE)
    assert line is not None
    snippets = re.findall(r"`([^`]+)`", line[1])
    if snippets[0].startswith("["):
        return "\n".join(snippets)
    table, _, last = key.rpartition(".")
    written = snippets[0].split("=", 1)[0].strip()
    if written != last:  # an entry of the table itself, as for expiry.urls
        table = key
    return (f"[{table}]\n" if table else "") + "\n".join(snippets)


@pytest.mark.parametrize("key", list(_schema_keys()))
def test_each_example_is_valid_and_sets_its_key(write: Write, key: str) -> None:
    path = write(_example_toml(key))
    settings = load_settings(path, environ={})
    assert _get(settings, key) != _get(Settings(), key), key


def test_the_complete_example_sets_every_key(write: Write) -> None:
    example = TEXT.split("\n## A complete example\n", 1)[1]
    block = re.search(r"```toml\n(.*?)```", example, flags=re.DOTALL)
    assert block is not None
    settings = load_settings(write(block[1]), environ={})
    for key in _schema_keys():
        assert _get(settings, key) != _get(Settings(), key), key


def test_every_environment_variable_is_in_the_table() -> None:
    row = r"^\| `(VAULTCACHE_[A-Z0-9_]+)` \| `([a-z0-9_.]+)` \|"
    rows = re.findall(row, TEXT, flags=re.MULTILINE)
    assert dict(rows) == dict(ENVIRONMENT_VARIABLES)


def test_the_variables_that_are_not_settings_are_named() -> None:
    section = TEXT.split("\n## Environment variables\n", 1)[1].split("\n## ", 1)[0]
    for variable in ("VAULTCACHE_CONFIG", "VAULTCACHE_KEYS", "VAULTCACHE_KEY_FILE"):
        assert f"`{variable}`" in section
    for variable in ("VAULTCACHE_DATA_DIR", "VAULTCACHE_AUTO_CREATE_KEY"):
        assert f"`{variable}`" in section
