"""The plugin registry: one typed facade over vaultcache's pluggy PluginManager.

Everything that resolves a name (the spec builder, the session, the CLI) asks a
:class:`PluginRegistry`; nothing else calls ``pm.hook`` directly. The registry loads lazily:
on the first look-up it registers the built-in plugin modules, then every entry point in the
group ``vaultcache``, each in isolation, so one broken plugin is reported and the others work.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs
import pluggy

from vaultcache import hookspecs
from vaultcache._version import __version__
from vaultcache.errors import (
    MissingDependencyError,
    PluginConflictError,
    PluginError,
    PluginLoadError,
    UnknownPluginError,
)

__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "STAGE_KINDS",
    "BackendRegistrar",
    "KeySourceRegistrar",
    "PluginRegistry",
    "Provider",
    "Registration",
    "StageRegistrar",
    "get_registry",
]

ENTRY_POINT_GROUP = "vaultcache"
STAGE_KINDS = ("format", "compression", "signing", "encryption")
AUTHENTICATING_KINDS = frozenset({"signing", "encryption"})
BUILTIN_PLUGINS = (
    "vaultcache.serializers.stages.formats",
    "vaultcache.serializers.stages.compression",
    "vaultcache.serializers.stages.signing",
    "vaultcache.serializers.stages.encryption",
    "vaultcache.key_sources",
    "vaultcache.backends.plugin",
)

Category = Literal["stage", "backend", "key source"]
_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")
_HOOKS: dict[Category, str] = {
    "stage": "vaultcache_register_stages",
    "backend": "vaultcache_register_backends",
    "key source": "vaultcache_register_key_sources",
}


@attrs.frozen
class Provider:
    """The distribution a plugin came from."""

    distribution: str
    version: str | None = None
    entry_point: str | None = None

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}" if self.version else self.distribution


@attrs.frozen
class Registration:
    """One registered name: what it is, who provides it, and how to build it."""

    name: str
    category: Category
    kind: str
    factory: Callable[..., Any] = attrs.field(repr=False)
    provider: Provider
    description: str = ""
    requires: tuple[str, ...] = ()
    extra: str | None = None
    requires_authentication: bool = False

    @property
    def authenticates(self) -> bool:
        """True for stages that reject any entry they did not write (signing, encryption)."""
        return self.kind in AUTHENTICATING_KINDS

    @property
    def needs_keys(self) -> bool:
        """True when the factory expects a KeyRing."""
        return self.kind in AUTHENTICATING_KINDS

    @property
    def available(self) -> bool:
        """False when a module the entry requires is not installed."""
        return all(importlib.util.find_spec(module) is not None for module in self.requires)

    def ensure_available(self) -> None:
        """Raise MissingDependencyError naming the extra when a required module is missing."""
        if not self.available:
            raise MissingDependencyError(f"{self.category} {self.name!r}", self.extra or "all")


class _Registrar:
    """Collects one plugin's names for one category; committed only if its hook succeeds."""

    category: Category

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.added: dict[str, Registration] = {}

    def _add(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        kind: str,
        description: str,
        requires: tuple[str, ...],
        extra: str | None,
        requires_authentication: bool = False,
    ) -> None:
        key = name.lower() if isinstance(name, str) else ""
        if not _NAME.match(key):
            raise PluginError(
                f"{self.category} name {name!r} is invalid: use lower-case letters, digits, "
                "'-' and '_', starting with a letter"
            )
        if not callable(factory):
            raise PluginError(f"{self.category} {key!r}: factory is not callable")
        if key in self.added:
            raise PluginError(f"{self.category} {key!r} is registered twice by {self.provider}")
        self.added[key] = Registration(
            name=key,
            category=self.category,
            kind=kind,
            factory=factory,
            provider=self.provider,
            description=description,
            requires=tuple(requires),
            extra=extra,
            requires_authentication=requires_authentication,
        )


class StageRegistrar(_Registrar):
    """Passed to ``vaultcache_register_stages``; call :meth:`add` once per stage."""

    category: Category = "stage"

    def add(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        kind: str,
        description: str = "",
        requires: tuple[str, ...] = (),
        extra: str | None = None,
        requires_authentication: bool = False,
    ) -> None:
        """Register a stage; ``factory(options, keys)`` builds it. See the hook's docs."""
        if kind not in STAGE_KINDS:
            raise PluginError(
                f"stage {name!r}: kind {kind!r} is not one of {', '.join(STAGE_KINDS)}"
            )
        self._add(
            name,
            factory,
            kind=kind,
            description=description,
            requires=requires,
            extra=extra,
            requires_authentication=requires_authentication,
        )


class BackendRegistrar(_Registrar):
    """Passed to ``vaultcache_register_backends``; call :meth:`add` once per backend."""

    category: Category = "backend"

    def add(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        description: str = "",
        requires: tuple[str, ...] = (),
        extra: str | None = None,
    ) -> None:
        """Register a backend; ``factory(cache_name, options)`` returns a BaseCache."""
        self._add(
            name, factory, kind="backend", description=description, requires=requires, extra=extra
        )


class KeySourceRegistrar(_Registrar):
    """Passed to ``vaultcache_register_key_sources``; call :meth:`add` once per source."""

    category: Category = "key source"

    def add(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        description: str = "",
        requires: tuple[str, ...] = (),
        extra: str | None = None,
    ) -> None:
        """Register a key source; ``factory(options)`` returns an object with ``load()``."""
        self._add(
            name,
            factory,
            kind="key source",
            description=description,
            requires=requires,
            extra=extra,
        )


_REGISTRARS: dict[Category, type[_Registrar]] = {
    "stage": StageRegistrar,
    "backend": BackendRegistrar,
    "key source": KeySourceRegistrar,
}


class PluginRegistry:
    """Names of stages, backends and key sources, from built-ins and installed plugins."""

    def __init__(self, *, entry_points: bool = True) -> None:
        self._use_entry_points = entry_points
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._names: dict[Category, dict[str, list[Registration]]] = {
            category: defaultdict(list) for category in _HOOKS
        }
        self._failures: list[PluginLoadError] = []
        self._loaded = False
        self._lock = threading.RLock()

    # -- loading ---------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            # Marked loaded first: a failure here is a broken installation, raised once,
            # never a second round of registrations clashing with the first.
            self._loaded = True
            builtin = Provider("vaultcache", __version__)
            for module_name in BUILTIN_PLUGINS:
                self._add_plugin(importlib.import_module(module_name), builtin)
            if self._use_entry_points:
                self._load_entry_points()

    def _load_entry_points(self) -> None:
        found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for entry_point in sorted(found, key=lambda ep: (_dist_name(ep), ep.name)):
            dist = entry_point.dist
            provider = Provider(
                _dist_name(entry_point), dist.version if dist else None, entry_point.name
            )
            try:
                plugin = entry_point.load()
            except Exception as exc:  # a broken plugin must not break the others
                self._fail(provider, f"{type(exc).__name__}: {exc}")
                continue
            self._add_plugin(plugin, provider)

    def _add_plugin(self, plugin: object, provider: Provider) -> None:
        if self._pm.is_registered(plugin):
            self._fail(provider, "the plugin object is already registered")
            return
        # id() keeps pluggy's names unique when one distribution registers several objects.
        plugin_name = f"{provider.distribution}:{provider.entry_point or '-'}:{id(plugin)}"
        try:
            self._pm.register(plugin, name=plugin_name)
            self._pm.check_pending()
        except Exception as exc:
            if self._pm.is_registered(plugin):
                self._pm.unregister(plugin)
            self._fail(provider, f"{type(exc).__name__}: {exc}")
            return
        for category, hook_name in _HOOKS.items():
            self._collect(plugin, provider, category, hook_name)

    def _collect(
        self, plugin: object, provider: Provider, category: Category, hook_name: str
    ) -> None:
        hook = getattr(self._pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            registrar = _REGISTRARS[category](provider)
            try:
                impl.function(**dict.fromkeys(impl.argnames, registrar))
            except Exception as exc:
                self._fail(provider, f"{hook_name} raised {type(exc).__name__}: {exc}")
                continue
            for name, registration in registrar.added.items():
                self._names[category][name].append(registration)

    def _fail(self, provider: Provider, reason: str) -> None:
        self._failures.append(
            PluginLoadError(provider.distribution, provider.entry_point or "?", reason)
        )

    def register(
        self,
        plugin: object,
        *,
        distribution: str,
        version: str | None = None,
        entry_point: str | None = None,
    ) -> None:
        """Add a plugin object as if it had been installed with an entry point."""
        self._ensure_loaded()
        with self._lock:
            self._add_plugin(plugin, Provider(distribution, version, entry_point or distribution))

    # -- look-ups --------------------------------------------------------------------------

    def get(self, category: Category, name: str) -> Registration:
        """The registration of `name` in `category`; raises a PluginError if unusable."""
        self._ensure_loaded()
        key = name.lower()
        providers = self._names[category].get(key, [])
        if len(providers) > 1:
            raise PluginConflictError(key, category, [str(r.provider) for r in providers])
        if not providers:
            raise UnknownPluginError(
                name,
                category,
                sorted(self._names[category]),
                [str(failure) for failure in self._failures],
            )
        return providers[0]

    def stage(self, name: str) -> Registration:
        """The stage registered as `name` (case-insensitive)."""
        return self.get("stage", name)

    def backend(self, name: str) -> Registration:
        """The backend registered as `name` (case-insensitive)."""
        return self.get("backend", name)

    def key_source(self, name: str) -> Registration:
        """The key source registered as `name` (case-insensitive)."""
        return self.get("key source", name)

    def listing(self, category: Category) -> list[Registration]:
        """Every registration in a category, sorted by name; clashing names appear twice."""
        self._ensure_loaded()
        return [
            registration
            for name in sorted(self._names[category])
            for registration in self._names[category][name]
        ]

    def stages(self) -> list[Registration]:
        """Every registered stage."""
        return self.listing("stage")

    def backends(self) -> list[Registration]:
        """Every registered backend."""
        return self.listing("backend")

    def key_sources(self) -> list[Registration]:
        """Every registered key source."""
        return self.listing("key source")

    def conflicts(self) -> list[PluginConflictError]:
        """One error per name that more than one distribution registers."""
        self._ensure_loaded()
        return [
            PluginConflictError(name, category, [str(r.provider) for r in registrations])
            for category, names in self._names.items()
            for name, registrations in sorted(names.items())
            if len(registrations) > 1
        ]

    def failures(self) -> list[PluginLoadError]:
        """Plugins that failed to import or to register, with the reason."""
        self._ensure_loaded()
        return list(self._failures)

    def build_stage(
        self, name: str, options: Mapping[str, Any], keys: Any
    ) -> Any:  # the stage protocol lives in vaultcache.serializers
        """Build the stage registered as `name` with its options and key ring."""
        registration = self.stage(name)
        registration.ensure_available()
        return registration.factory(dict(options), keys if registration.needs_keys else None)


def _dist_name(entry_point: importlib.metadata.EntryPoint) -> str:
    return entry_point.dist.name if entry_point.dist else entry_point.module.split(".")[0]


_default_registry: PluginRegistry | None = None
_default_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide registry (built on first use, loading plugins lazily)."""
    global _default_registry  # noqa: PLW0603 - one registry per process, built lazily
    if _default_registry is None:
        with _default_lock:
            if _default_registry is None:
                _default_registry = PluginRegistry()
    return _default_registry
