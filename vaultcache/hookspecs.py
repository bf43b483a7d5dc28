"""The hook specifications: the contract between vaultcache and its plugins.

A plugin is a module (or object) with functions marked ``@hookimpl`` (imported from
``vaultcache.plugin``, the module that holds everything a plugin imports), published under the
entry-point group ``vaultcache``::

    [project.entry-points.vaultcache]
    brotli = "vaultcache_brotli.plugin"

The plugin declares the version of this contract it was written for, as a literal integer (not
imported from vaultcache, so it records what the author wrote against)::

    VAULTCACHE_PLUGIN_API = 1

A plugin whose declaration is missing, not an integer, or not one this vaultcache supports is
not loaded: ``vaultcache plugins`` lists it as incompatible and its names stay unknown.

Every hook here is a *collection* hook: it receives a registrar and calls ``registry.add(...)``
for each name it provides. The host validates each name and records which distribution added
it, so two packages that claim one name produce an error naming both, never a silent override.
Built-in stages, backends and key sources are registered through these same hooks, before any
installed plugin. Hooks return nothing; their return values are ignored.

The docs page ``docs/hooks.md`` is generated from these docstrings
(``python -m vaultcache.docs_hooks``) and a test keeps it in step. The plugin author guide,
``docs/plugins.md``, walks through a real plugin package, its tests and how to publish it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from vaultcache.registrars import BackendRegistrar, KeySourceRegistrar, StageRegistrar

__all__ = [
    "PLUGIN_API",
    "PLUGIN_API_ATTRIBUTE",
    "SUPPORTED_PLUGIN_APIS",
    "hookimpl",
    "hookspec",
    "vaultcache_register_backends",
    "vaultcache_register_key_sources",
    "vaultcache_register_stages",
]

PROJECT_NAME = "vaultcache"

#: Version of this hook contract. It changes only when a hook's name, parameters or meaning
#: change incompatibly.
PLUGIN_API = 1

#: The versions a plugin may declare and still be loaded (a later host may keep older ones).
SUPPORTED_PLUGIN_APIS: frozenset[int] = frozenset({PLUGIN_API})
#: The module-level name under which a plugin declares its version.
PLUGIN_API_ATTRIBUTE = "VAULTCACHE_PLUGIN_API"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def vaultcache_register_stages(registry: StageRegistrar) -> None:
    """Register serializer stages, usable by name in spec strings such as ``signed+zstd+aesgcm``.

    Called once per plugin, the first time any stage is looked up (never at
    ``import vaultcache``). Call ``registry.add(name, factory, kind=..., description=...)``
    for each stage:

    - ``name``: lower-case letters, digits, ``-`` and ``_``, starting with a letter; spec
      strings match it case-insensitively.
    - ``factory(options, keys)``: returns an object with ``dumps(bytes) -> bytes`` and
      ``loads(bytes) -> bytes`` (a ``format`` stage turns the cached object into bytes
      instead). ``options`` is a dict of this stage's options from the config file or
      keyword arguments (reject unknown ones with ``vaultcache.ConfigError``); ``keys`` is the
      ``vaultcache.KeyRing`` for stages whose kind is ``signing`` or ``encryption``, else None.
    - ``kind``: one of ``format``, ``compression``, ``signing``, ``encryption``. The spec
      builder uses it to refuse unsafe orders: signing and encryption authenticate,
      compression must come before encryption, at most one encryption stage.
    - ``description``: one line, shown by ``vaultcache plugins``.
    - ``requires`` / ``extra`` (optional): modules the stage imports and the pip extra that
      provides them; the stage is listed even when they are missing, and using it raises
      ``vaultcache.MissingDependencyError`` naming the extra.
    - ``requires_authentication`` (optional, formats): True when decoding untrusted bytes
      could run code (as ``pickle`` can); the spec builder then refuses the stage unless a
      signing or encryption stage follows it.

    The stage object may set ``is_binary``: whether its ``dumps`` returns bytes (True; a
    stage without the attribute counts as True) or text (False). Only the last stage of a
    pipeline matters: when it returns text, an entry is stored as UTF-8 and decoded back to
    text before that stage's ``loads``. Every stage that takes bytes and gives bytes (all
    compression, signing and encryption stages) sets it to True or leaves it out.

    A stage's ``loads`` must raise ``vaultcache.IntegrityError``, ``vaultcache.DecodeError`` or
    ``vaultcache.SizeLimitError`` for input it cannot accept, and nothing else. A compression
    stage takes a ``max_size`` option and raises ``SizeLimitError`` before its output grows
    past it. ``vaultcache.testing.StageContract`` checks all of this.
    """


@hookspec
def vaultcache_register_backends(registry: BackendRegistrar) -> None:
    """Register storage backends, usable by name as ``CachedSession(backend=name)``.

    Called once per plugin, the first time any backend is looked up. Call
    ``registry.add(name, factory, description=...)`` for each backend, where
    ``factory(cache_name, options)`` returns a ``vaultcache.plugin.BaseCache``.
    ``cache_name`` is what the user passed as the cache name (a name or a path, as the
    backend interprets it); ``options`` are the remaining backend keyword arguments or the
    ``[backend_options]`` table of the config file (``backend`` itself is a string: the
    backend's name). Reject unknown options with ``vaultcache.ConfigError``
    (``vaultcache.plugin.check_options`` does). Naming rules, ``requires`` and ``extra`` are
    as for stages.

    A session also puts the parts a cache is built with into ``options``: ``serializer``,
    ``key_ring`` and ``create_key``. Pass them on to ``BaseCache.__init__`` (as
    ``MyCache(cache_name, **options)`` does when ``MyCache.__init__`` passes its keywords on);
    ``check_options`` lets them through.

    Every factory takes two more options, which ``vaultcache.plugin.open_mode(name, options)``
    takes out of ``options``: ``create`` (default True) and ``read_only`` (default
    False, implies ``create=False``). With ``create=False`` a factory never creates a cache
    (file, folder, table, key space) that does not exist: it raises
    ``vaultcache.plugin.CacheNotFoundError`` naming where it looked. With ``read_only=True``
    it also writes nothing, not even on opening, so a cache on read-only media can be read.
    The ``vaultcache`` commands that only read pass ``read_only=True``; those that change an
    existing cache pass ``create=False``; a factory that rejects either option makes those
    commands fail with its ConfigError.
    ``vaultcache.testing.StorageContract`` holds the tests a backend's storage must pass.
    """


@hookspec
def vaultcache_register_key_sources(registry: KeySourceRegistrar) -> None:
    """Register key sources: places a ``vaultcache.KeyRing`` can be loaded from.

    Called once per plugin, the first time any key source is looked up. Call
    ``registry.add(name, factory, description=...)`` for each source, where
    ``factory(options)`` returns an object with ``load() -> list[str] | None``: the keys as
    text, primary first, or None when this source holds no keys. It may also have
    ``describe() -> str`` (where its keys come from, named in errors about them; never the
    keys) and ``hint() -> str`` (how to put a key there, for the no-key message). A source
    that finds keys it considers unsafe raises ``vaultcache.KeyRingError``. Key sources from
    plugins are used only when the configuration names them; the built-in chain (``env``,
    ``file``, ``data-dir``) is the default. ``vaultcache.testing.KeySourceContract`` holds
    the tests a key source must pass.
    """
