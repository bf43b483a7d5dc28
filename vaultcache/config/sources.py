"""Finding the config file and reading its TOML: explicit path, variable, working dir, pyproject."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from vaultcache.config.problems import type_name
from vaultcache.errors import ConfigError

__all__ = ["CONFIG_FILE_NAME", "CONFIG_VARIABLE", "PYPROJECT", "FoundFile", "find_file"]

CONFIG_FILE_NAME: Final = "vaultcache.toml"
PYPROJECT: Final = "pyproject.toml"
CONFIG_VARIABLE: Final = "VAULTCACHE_CONFIG"


@attrs.frozen
class FoundFile:
    """A config file found, and its vaultcache table."""

    path: Path
    table: dict[str, Any]
    prefix: str  # "tool.vaultcache." for a pyproject.toml, so keys are found as written


def find_file(
    path: str | os.PathLike[str] | None, environ: Mapping[str, str], cwd: Path
) -> FoundFile | None:
    """The file `path` names, else the first found where the package docstring says; or None."""
    if path is not None:
        return _read_named(cwd / Path(path).expanduser(), "")
    named = environ.get(CONFIG_VARIABLE, "").strip()
    if named:
        return _read_named(cwd / Path(named).expanduser(), f" (named by {CONFIG_VARIABLE})")
    local = cwd / CONFIG_FILE_NAME
    if _is_file(local):
        return FoundFile(local, _read_toml(local), "")
    for directory in (cwd.resolve(), *cwd.resolve().parents):
        candidate = directory / PYPROJECT
        if _is_file(candidate):
            table = _tool_table(candidate, _read_toml(candidate))
            if table is not None:
                return FoundFile(candidate, table, "tool.vaultcache.")
    return None


def _is_file(path: Path) -> bool:
    # os.path, unlike Path, answers False for a directory we may not look into.
    return os.path.isfile(path)


def _read_named(path: Path, why: str) -> FoundFile:
    """A file the user named: it must exist; a pyproject.toml must have the table."""
    if not _is_file(path):
        problem = "is not a file" if os.path.isdir(path) else "not found"
        raise ConfigError(f"config file {problem}{why}", file=str(path))
    document = _read_toml(path)
    if path.name != PYPROJECT:
        return FoundFile(path, document, "")
    table = _tool_table(path, document)
    if table is None:
        raise ConfigError(f"no [tool.vaultcache] table{why}", file=str(path))
    return FoundFile(path, table, "tool.vaultcache.")


def _tool_table(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    tool = document.get("tool")
    if not isinstance(tool, dict) or "vaultcache" not in tool:
        return None
    table = tool["vaultcache"]
    if not isinstance(table, dict):
        raise _type_error(str(path), "tool.vaultcache", table, "a table")
    return table


def _read_toml(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not valid UTF-8 text", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror or exc}", file=file) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+)", str(exc))
        line = found[1] if found else str(len(text.splitlines()) or 1)
        reason = str(exc).split(" (at ", 1)[0]
        raise ConfigError(f"invalid TOML at line {line}: {reason}", file=file) from None
    except RecursionError:
        raise ConfigError("arrays or tables nested too deeply", file=file) from None


def _type_error(file: str | None, key: str, value: object, expected: str) -> ConfigError:
    return ConfigError(
        f"expected {expected}, got {type_name(value)}", file=file, key=key, expected=expected
    )
