"""The sqlite backend's own options: the table name, the busy timeout and the page size."""

from __future__ import annotations

import re

from vaultcache.errors import ConfigError

__all__ = [
    "BACKEND",
    "DEFAULT_BUSY_TIMEOUT",
    "DEFAULT_PAGE_SIZE",
    "MAX_BUSY_TIMEOUT",
    "check_busy_timeout",
    "check_page_size",
    "check_table_name",
]


#: The backend's name, in options and errors.
BACKEND = "sqlite"
DEFAULT_BUSY_TIMEOUT = 30.0


MAX_BUSY_TIMEOUT = 600.0

#: sqlite's own default. Smaller pages pack many small entries tighter (a row of 2 to 4 KiB
#: takes a 4 KiB page of its own) and read large bodies slower; see the user guide, "Backends".
DEFAULT_PAGE_SIZE = 4096
_PAGE_SIZES = tuple(2**n for n in range(9, 17))  # 512 to 65536, as sqlite allows


# Table names are spliced into SQL (they cannot be parameters), so only plain identifiers.
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\Z")


def check_table_name(name: object) -> str:
    if not isinstance(name, str) or not _TABLE_NAME.match(name):
        raise ConfigError(
            f"table name {name!r} is invalid: use letters, digits and '_' (at most 63), "
            "starting with a letter or '_'",
            key="backend.sqlite.table_name",
            expected="identifier",
        )
    if name.lower().startswith("sqlite_"):
        raise ConfigError(
            f"table name {name!r} is reserved by sqlite", key="backend.sqlite.table_name"
        )
    return name


def check_busy_timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"expected a number of seconds, got {type(value).__name__}",
            key="backend.sqlite.busy_timeout",
            expected="number",
        )
    if not 0 < value <= MAX_BUSY_TIMEOUT:
        raise ConfigError(
            f"{value} is out of range: more than 0 and at most {MAX_BUSY_TIMEOUT:g} seconds",
            key="backend.sqlite.busy_timeout",
            expected=f"number of seconds in (0, {MAX_BUSY_TIMEOUT:g}]",
        )
    return float(value)


def check_page_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _PAGE_SIZES:
        raise ConfigError(
            f"page size {value!r} is invalid: a power of two from 512 to 65536 bytes",
            key="backend.sqlite.page_size",
            expected="one of " + ", ".join(map(str, _PAGE_SIZES)),
        )
    return value
