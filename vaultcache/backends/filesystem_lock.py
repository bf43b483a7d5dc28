"""The lock file of a filesystem cache, which makes ``replace`` a true compare-and-swap.

Writers and deleters hold ``.vaultcache.lock`` shared (``fcntl.flock``) only while they
rename or unlink; ``replace`` and eviction hold it exclusively. Readers never take it.
Without ``fcntl`` (Windows) a lock of this object stands in for it, within the process only.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

if sys.platform != "win32":
    import fcntl

__all__ = ["DirectoryLock"]

LOCK_NAME = ".vaultcache.lock"


class DirectoryLock:
    """The lock file in `directory`, taken shared or exclusive for the length of a block."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._process_lock = threading.Lock()  # stands in for the lock file without fcntl

    @contextlib.contextmanager
    def hold(self, *, exclusive: bool = False) -> Iterator[None]:
        """Hold the lock file: shared to write or delete, exclusive to replace or evict.

        A new descriptor each time: flock locks belong to an open file description, so
        threads of this process exclude each other too. Raises FileNotFoundError when the
        directory is gone.
        """
        if sys.platform == "win32":
            with self._process_lock:
                yield
            return
        # O_NOFOLLOW: a link planted here must not make us create or open a file elsewhere.
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock
