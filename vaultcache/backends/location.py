"""Where a cache lives: resolving its path, refusing one that others can write, not found."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import platformdirs

from vaultcache.backends.errors import BackendError, CacheNotFoundError
from vaultcache.backends.options import check_bool
from vaultcache.errors import ConfigError
from vaultcache.private_files import written_by_others

__all__ = ["not_found", "refuse_if_shared", "resolve_location"]

logger = logging.getLogger(__name__)


def not_found(backend: str, location: Path | str, hint: str = "") -> CacheNotFoundError:
    """The error of a factory asked not to create the cache at `location`, which is missing."""
    return CacheNotFoundError(
        f"no {backend} cache at {location}{hint}: no cache exists there; check the name or path "
        "(--cache NAME_OR_PATH, or the cache name in the config file)",
        backend=backend,
        path=str(location),
    )


def resolve_location(
    backend: str,
    location: str | os.PathLike[str],
    *,
    use_cache_dir: bool,
    use_temp: bool,
) -> Path:
    """Where a cache lives: `location`, or relative to the user cache dir or the temp dir."""
    use_cache_dir = check_bool(backend, "use_cache_dir", use_cache_dir)
    use_temp = check_bool(backend, "use_temp", use_temp)
    if not isinstance(location, str | os.PathLike):
        raise ConfigError(
            f"expected a path, got {type(location).__name__}", key=f"backend.{backend}.path"
        )
    path = Path(location).expanduser()
    if use_cache_dir and use_temp:
        raise ConfigError(
            "use_cache_dir and use_temp exclude each other; set only one",
            key=f"backend.{backend}.use_temp",
        )
    if use_cache_dir or use_temp:
        if path.is_absolute():
            # Joining would silently drop the base directory the user asked for.
            option = "use_cache_dir" if use_cache_dir else "use_temp"
            raise ConfigError(
                f"{option} needs a relative name, got the absolute path {str(path)!r}",
                key=f"backend.{backend}.{option}",
            )
        base = platformdirs.user_cache_dir("vaultcache") if use_cache_dir else None
        path = Path(base or tempfile.gettempdir()) / path
    return path.absolute()


def refuse_if_shared(backend: str, path: Path, what: str, *, allow_shared: bool) -> None:
    """BackendError when another user owns the existing `path` or may write it.

    Such a cache may have been created first by someone who reads (or replaces) what is
    cached. `allow_shared` accepts it, with a warning.
    """
    reason = written_by_others(path)
    if reason is None:
        return
    if check_bool(backend, "allow_shared", allow_shared):
        logger.warning("using %s %s although %s (allow_shared=True)", what, path, reason)
        return
    raise BackendError(
        f"{what} {path} is refused: {reason}, who could read and replace what is cached; "
        "use a location of your own (use_cache_dir=True), fix its owner or mode, or pass "
        "allow_shared=True to accept it",
        backend=backend,
        path=str(path),
    )
