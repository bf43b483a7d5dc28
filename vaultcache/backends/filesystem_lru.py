"""Least-recently-used eviction over entry files, from their times and sizes.

A file's modification time is the entry's creation time and the later of its access and
modification times its last use; recorded reads are set as access times in a batch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from vaultcache.backends.filesystem_files import OPEN_FLAGS, FileTimes
from vaultcache.backends.usage import lru_victims

__all__ = ["evict_files", "set_access_time"]

logger = logging.getLogger(__name__)


def set_access_time(path: Path, when: float) -> None:
    """Set the access time of the file at `path` to epoch time `when`, never backwards."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError:
        return  # deleted or replaced meanwhile: nothing to record
    try:
        status = os.fstat(fd)
        when_ns = int(when * 1e9)
        if when_ns > status.st_atime_ns:
            # By descriptor: the file we opened, even if renamed over meanwhile.
            os.utime(fd, ns=(when_ns, status.st_mtime_ns))
    except OSError:
        logger.debug("could not set the access time of a cache file", exc_info=True)
    finally:
        os.close(fd)


def evict_files(
    directory: Path,
    names: Iterable[str],
    *,
    cutoff: float | None,
    max_entries: int | None,
    max_bytes: int | None,
    slack: float,
) -> tuple[int, int, int]:
    """Delete the entry files `names` of `directory` created before `cutoff`, then the least
    recently used (see :meth:`~vaultcache.backends.base.BaseStorage.evict`).

    The caller holds the lock file exclusively. Returns (deleted, entries left, bytes left).
    """
    files: list[tuple[FileTimes, str]] = []
    for name in names:
        try:
            files.append((FileTimes.of(os.stat(directory / name)), name))
        except FileNotFoundError:
            continue
    doomed: list[str] = []
    if cutoff is not None:
        doomed = [name for times, name in files if times.created < cutoff]
        files = [(times, name) for times, name in files if times.created >= cutoff]
    files.sort(key=lambda item: (item[0].accessed, item[1]))
    victims, entries, size = lru_victims(
        ((name, times.size) for times, name in files),
        entries=len(files),
        size=sum(times.size for times, _ in files),
        max_entries=max_entries,
        max_bytes=max_bytes,
        slack=slack,
    )
    deleted = 0
    for name in doomed + victims:
        try:
            os.unlink(directory / name)
        except FileNotFoundError:
            continue
        deleted += 1
    return deleted, entries, size
