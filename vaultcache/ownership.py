"""Whether another local user could have planted or changed a file: its owner and its mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["written_by_others"]


def written_by_others(path: Path) -> str | None:
    """Why another user could have written the existing file or directory `path`, or None.

    It belongs to another user, or its group or others may write it. None also when `path`
    does not exist (whoever creates it then decides its mode) and off POSIX.
    """
    if os.name != "posix":
        return None
    try:
        status = path.stat()
    except OSError:
        return None
    if status.st_uid != os.geteuid():
        return f"it belongs to another user ({_owner(status.st_uid)})"
    mode = stat.S_IMODE(status.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"group or others can write it (mode {mode:o})"
    return None


def _owner(uid: int) -> str:
    try:
        import pwd  # noqa: PLC0415 - POSIX only

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):
        return f"uid {uid}"
