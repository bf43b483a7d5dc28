"""requests-cache compatibility: its option names, and its session conveniences.

CachedSession passes its keyword arguments through :func:`session_options` first: renamed
options are translated with a DeprecationWarning, and options vaultcache lacks on purpose stop
at once with one line that names the vaultcache way (docs/migrating.md lists every case).
:class:`SessionCompat` holds ``wrap``, ``expire_after``, ``cache_disabled()`` and the ``repr``.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Self

import requests

from vaultcache.errors import ConfigError
from vaultcache.policy.expiration import validate_expiration
from vaultcache.retention import Retention
from vaultcache.serializers.pipeline import check_decode_content

if TYPE_CHECKING:
    from vaultcache.cache import BaseCache
    from vaultcache.policy.settings import CacheSettings

__all__ = [
    "SessionCompat",
    "backend_defaults",
    "session_options",
    "settings_only",
    "split_kwargs",
]

#: CacheSettings fields requests-cache also takes as CachedSession keywords.
_SETTINGS_KEYWORDS = ("disabled", "only_if_cached")

#: What SessionCompat.wrap copies from the session it wraps (as requests-cache does).
_WRAPPED_ATTRIBUTES = (
    "adapters", "auth", "cert", "cookies", "headers", "hooks", "max_redirects", "params",
    "proxies", "stream", "trust_env", "verify",
)  # fmt: skip

#: Old requests-cache names -> the current name (requests-cache warns about these too).
_RENAMED = {
    "old_data_on_error": "stale_if_error",
    "include_get_headers": "match_headers",
}

#: Options vaultcache refuses, with the vaultcache way to get the same thing.
_REFUSED = {
    "content_root_key": (
        "content_root_key only applies to decode_content=True, which vaultcache does not do "
        "(bodies are stored as the exact bytes received); remove it"
    ),
    "fast_save": "vaultcache's sqlite writes are always durable; remove fast_save",
    "use_memory": "for a cache in memory use backend='memory'; remove use_memory",
}


def session_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` with requests-cache's old names translated (each with a DeprecationWarning).

    Raises ConfigError for an option vaultcache deliberately lacks, naming what to use.
    """
    kwargs = dict(kwargs)
    for old, new in _RENAMED.items():
        if old in kwargs:
            warnings.warn(f"{old}= is deprecated; use {new}=", DeprecationWarning, stacklevel=3)
            if new in kwargs:
                raise ConfigError(f"pass {new}= only, not both {old}= and {new}=", key=old)
            kwargs[new] = kwargs.pop(old)
    for name, hint in _REFUSED.items():
        if kwargs.get(name):  # the harmless values (None, False) pass
            raise ConfigError(hint, key=name)
        kwargs.pop(name, None)
    if "max_cache_bytes" in kwargs:
        kwargs["retention"] = _retention_from_max_bytes(kwargs)
    check_decode_content(kwargs.pop("decode_content", False))
    return kwargs


def settings_only(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Remove from `kwargs`, and return, the settings requests-cache takes as keywords that
    CachedSession has no parameter for (``only_if_cached=True`` for the whole session)."""
    return {name: kwargs.pop(name) for name in _SETTINGS_KEYWORDS if name in kwargs}


def split_kwargs(
    init: Callable[..., Any], kwargs: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`kwargs` split as requests-cache does: those `init` (the next ``__init__`` in the MRO,
    a ``requests.Session``'s) accepts, and the others, which are backend options."""
    names = {
        parameter.name
        for parameter in inspect.signature(init).parameters.values()
        if parameter.kind
        in {inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD}
    }
    accepted = {name: value for name, value in kwargs.items() if name in names}
    return accepted, {name: value for name, value in kwargs.items() if name not in names}


def _retention_from_max_bytes(kwargs: dict[str, Any]) -> Any:
    warnings.warn(
        "max_cache_bytes= is deprecated; use retention=Retention(max_bytes=...)",
        DeprecationWarning,
        stacklevel=4,
    )
    if kwargs.get("retention") is not None:
        raise ConfigError(
            "pass retention= only, not both max_cache_bytes= and retention=",
            key="max_cache_bytes",
        )
    return Retention(max_bytes=kwargs.pop("max_cache_bytes"))


def session_defaults(serializer: Any, expire_after: Any) -> dict[str, Any]:
    """What a backend object built with `serializer` and `expire_after` keeps as its
    ``session_options`` for :func:`backend_defaults`; `expire_after` is checked now."""
    validate_expiration(expire_after)
    options: dict[str, Any] = {"expire_after": expire_after}
    if serializer is not None:
        options["serializer"] = serializer
    return options


def backend_defaults(backend: object, serializer: Any, expire_after: Any) -> tuple[Any, Any]:
    """`serializer` and `expire_after`, or where the session was given none (None, and the
    default -1), those a backend object was built with (``SQLiteCache("c", serializer=...)``).
    """
    given: dict[str, Any] = getattr(backend, "session_options", None) or {}
    if serializer is None:
        serializer = given.get("serializer")
    if expire_after == -1 and not isinstance(expire_after, bool):
        expire_after = given.get("expire_after", expire_after)
    return serializer, expire_after


class SessionCompat:
    """The parts of requests-cache's session API that are conveniences over ``settings``:
    ``wrap``, the ``expire_after`` alias, ``cache_disabled()`` and the ``repr``."""

    settings: CacheSettings
    cache: BaseCache

    @classmethod
    def wrap(cls, original_session: requests.Session, **kwargs: Any) -> Self:
        """A cached session with `original_session`'s adapters, auth, headers, cookies and the
        other settings requests keeps on a session; `kwargs` are CachedSession arguments."""
        session = cls(**kwargs)
        for name in _WRAPPED_ATTRIBUTES:
            setattr(session, name, getattr(original_session, name))
        return session

    @property
    def expire_after(self) -> Any:
        """The session's ``expire_after`` (an alias of ``settings.expire_after``)."""
        return self.settings.expire_after

    @expire_after.setter
    def expire_after(self, value: Any) -> None:
        self.settings.expire_after = value

    @contextlib.contextmanager
    def cache_disabled(self) -> Iterator[None]:
        """Within the block this session neither reads nor writes its cache (not thread-safe:
        it changes ``settings.disabled`` for every thread using the session)."""
        previous = self.settings.disabled
        self.settings.disabled = True
        try:
            yield
        finally:
            self.settings.disabled = previous

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(cache={self.cache!r}, settings={self.settings!r})>"
