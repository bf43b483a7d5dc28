"""Files and directories of this user alone: creating them owner-only, and telling whether
another local user could have planted or changed one (its owner and its mode)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["make_private_dirs", "written_by_others"]


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


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents with mode 0700; leave existing ones alone."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    # Path.mkdir(parents=True) gives the parents default permissions; create each ourselves.
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process or thread won the race; that is fine


def _owner(uid: int) -> str:
    try:
        import pwd  # noqa: PLC0415 - POSIX only

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):
        return f"uid {uid}"
