"""The sqlite database file: created private, refused when others planted it or can write it."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from vaultcache.backends.errors import BackendError
from vaultcache.backends.location import refuse_if_shared
from vaultcache.backends.sqlite_options import BACKEND
from vaultcache.private_files import make_private_dirs

__all__ = ["check_existing", "create_private_file"]

logger = logging.getLogger(__name__)


def create_private_file(path: Path, *, allow_shared: bool) -> None:
    """Create the database file with mode 0600 before sqlite does (sqlite would use 0644).

    sqlite gives the ``-wal`` and ``-shm`` files the database file's mode, so they are
    private too.
    """
    try:
        make_private_dirs(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        check_existing(path, allow_shared=allow_shared)
        return
    except OSError as exc:
        raise BackendError(
            f"cannot create the sqlite cache database {path} ({exc.strerror}); choose a "
            "location this user can write, or pass use_cache_dir=True",
            backend=BACKEND,
            path=str(path),
        ) from exc
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
    finally:
        os.close(fd)


#: Files already warned about, as (device, inode, mode, owner): each warning once per process.
_WARNED: set[tuple[int, int, int, int]] = set()


def check_existing(path: Path, *, allow_shared: bool) -> None:
    """Refuse a database file planted by someone else; warn about loose permissions."""
    refuse_if_shared(BACKEND, path, "sqlite cache database", allow_shared=allow_shared)
    _warn_if_shared(path)


def _warn_if_shared(path: Path) -> None:
    try:
        status = path.stat()
    except OSError:
        return  # sqlite will report a missing or unreadable file itself
    mode = status.st_mode
    if os.name != "posix" or not stat.S_ISREG(mode):
        return
    state = (status.st_dev, status.st_ino, mode, status.st_uid)
    if state in _WARNED:
        return  # the other tables of the file, or the same file opened again
    _WARNED.add(state)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            "sqlite cache database %s is accessible by group or others (mode %o); "
            "run `chmod 600 %s`",
            path,
            stat.S_IMODE(mode),
            path,
        )
