"""The plugin registry: one typed facade over vaultcache's pluggy PluginManager.

Everything that resolves a name (the spec builder, the session, the CLI) asks a
:class:`PluginRegistry`; nothing else calls ``pm.hook`` directly. The registry loads lazily:
on the first look-up it registers the built-in plugin modules, then every entry point in the
group ``vaultcache`` that the allow-list admits (the others are never imported), each in
isolation, so one broken plugin is reported and the others work. Every plugin, built-in or
installed, must declare the plugin API version it was written for (``VAULTCACHE_PLUGIN_API``);
one that declares another version is reported as incompatible and not registered.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pluggy

from vaultcache import hookspecs
from vaultcache._version import __version__
from vaultcache.allow_list import allow_from_environment
from vaultcache.errors import (
    PluginConflictError,
    PluginIncompatibleError,
    PluginLoadError,
    UnknownPluginError,
)
from vaultcache.registrars import (
    STAGE_KINDS,
    BackendRegistrar,
    Category,
    KeySourceRegistrar,
    Provider,
    Registrar,
    Registration,
    StageRegistrar,
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
    "normalise_distribution",
]

ENTRY_POINT_GROUP = "vaultcache"
BUILTIN_PLUGINS = (
    "vaultcache.serializers.stages.formats",
    "vaultcache.serializers.stages.compression",
    "vaultcache.serializers.stages.signing",
    "vaultcache.serializers.stages.encryption",
    "vaultcache.crypto_key_sources",
    "vaultcache.backends.plugin",
)

_SEPARATORS = re.compile(r"[-_.]+")
_HOOKS: dict[Category, str] = {
    "stage": "vaultcache_register_stages",
    "backend": "vaultcache_register_backends",
    "key source": "vaultcache_register_key_sources",
}


_REGISTRARS: dict[Category, type[Registrar]] = {
    "stage": StageRegistrar,
    "backend": BackendRegistrar,
    "key source": KeySourceRegistrar,
}


class PluginRegistry:
    """Names of stages, backends and key sources, from built-ins and installed plugins.

    `allow` is the allow-list: the distribution names of the installed plugins that may load
    (compared PEP 503-normalised), or None for all of them. A plugin left out is never
    imported. Built-ins, and plugin objects given to :meth:`register`, always load.
    """

    def __init__(self, *, entry_points: bool = True, allow: Iterable[str] | None = None) -> None:
        self._use_entry_points = entry_points
        self._allow = _allow_set(allow)
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._names: dict[Category, dict[str, list[Registration]]] = {
            category: defaultdict(list) for category in _HOOKS
        }
        self._failures: list[tuple[Provider, PluginLoadError]] = []
        self._installed: list[tuple[importlib.metadata.EntryPoint, Provider]] | None = None
        self._tried: set[Provider] = set()
        self._loaded = False
        self._loading = False
        self._lock = threading.RLock()

    # -- the allow-list --------------------------------------------------------------------

    def allow(self, distributions: Iterable[str] | None) -> None:
        """Set the allow-list: these installed plugin distributions may load (None: all).

        Safe at any time. Plugins newly allowed load on the next look-up; names from plugins
        no longer allowed disappear from look-ups and listings (their code, already run,
        cannot be unloaded).
        """
        allowed = _allow_set(distributions)
        with self._lock:
            self._allow = allowed
            self._loaded = False

    @property
    def allowed(self) -> frozenset[str] | None:
        """The allow-list as normalised distribution names; None when every plugin may load."""
        return self._allow

    def _allows(self, provider: Provider) -> bool:
        if self._allow is None or provider not in self._tried:
            return True  # built-ins and register()-ed objects are not installed plugins
        return normalise_distribution(provider.distribution) in self._allow

    def _allows_installed(self, provider: Provider) -> bool:
        # Asked of an entry point before it is loaded (so before it is in _tried).
        return self._allow is None or normalise_distribution(provider.distribution) in self._allow

    # -- loading ---------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            # A plugin being loaded may look a name up: this thread then sees what is
            # registered so far. Other threads wait on the lock until loading is done, and
            # only then see `_loaded` (set last), so none looks up a half-filled registry.
            if self._loaded or self._loading:
                return
            self._loading = True
            try:
                self._load()
            finally:
                # Loaded even after a failure: a broken installation is raised once, never
                # a second round of registrations clashing with the first.
                self._loading = False
                self._loaded = True

    def _load(self) -> None:
        if self._installed is None:
            self._installed = self._find_installed()
            builtin = Provider("vaultcache", __version__)
            for module_name in BUILTIN_PLUGINS:
                self._add_plugin(importlib.import_module(module_name), builtin)
        for entry_point, provider in self._installed:
            if provider not in self._tried and self._allows_installed(provider):
                self._tried.add(provider)
                self._load_entry_point(entry_point, provider)

    def _find_installed(self) -> list[tuple[importlib.metadata.EntryPoint, Provider]]:
        """Every entry point of the group, from metadata only: nothing is imported here."""
        if not self._use_entry_points:
            return []
        found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        return [
            (entry_point, _provider(entry_point))
            for entry_point in sorted(found, key=lambda ep: (_dist_name(ep), ep.name))
        ]

    def _load_entry_point(
        self, entry_point: importlib.metadata.EntryPoint, provider: Provider
    ) -> None:
        try:
            plugin = entry_point.load()
        except Exception as exc:  # a broken plugin must not break the others
            self._fail(provider, f"{type(exc).__name__}: {exc}")
            return
        self._add_plugin(plugin, provider)

    def _add_plugin(self, plugin: object, provider: Provider) -> None:
        if not self._compatible(plugin, provider):
            return
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

    def _compatible(self, plugin: object, provider: Provider) -> bool:
        """Check the plugin's API declaration; record it as incompatible when it fails."""
        declared = getattr(plugin, hookspecs.PLUGIN_API_ATTRIBUTE, None)
        reason = _api_problem(declared, provider)
        if reason is None:
            return True
        error = PluginIncompatibleError(
            provider.distribution, provider.entry_point or "?", reason, declared
        )
        self._failures.append((provider, error))
        return False

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
        error = PluginLoadError(provider.distribution, provider.entry_point or "?", reason)
        self._failures.append((provider, error))

    def register(
        self,
        plugin: object,
        *,
        distribution: str,
        version: str | None = None,
        entry_point: str | None = None,
    ) -> None:
        """Add a plugin object as if it had been installed with an entry point.

        The object must declare ``VAULTCACHE_PLUGIN_API`` as an installed plugin must; one
        that does not is recorded in :meth:`failures` and not registered. The allow-list
        does not apply: registering an object is an explicit choice.
        """
        self._ensure_loaded()
        with self._lock:
            self._add_plugin(plugin, Provider(distribution, version, entry_point or distribution))

    # -- look-ups --------------------------------------------------------------------------

    def _providers(self, category: Category, name: str) -> list[Registration]:
        return [r for r in self._names[category].get(name, ()) if self._allows(r.provider)]

    def get(self, category: Category, name: str) -> Registration:
        """The registration of `name` in `category`; raises a PluginError if unusable."""
        self._ensure_loaded()
        key = name.lower()
        providers = self._providers(category, key)
        if len(providers) > 1:
            raise PluginConflictError(key, category, [str(r.provider) for r in providers])
        if not providers:
            raise UnknownPluginError(
                name,
                category,
                sorted({r.name for r in self.listing(category)}),
                [str(failure) for failure in self.failures()],
                [str(provider) for provider in self.not_allowed()],
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
        """Every usable registration in a category, sorted by name; clashing names appear twice."""
        self._ensure_loaded()
        return [
            registration
            for name in sorted(self._names[category])
            for registration in self._providers(category, name)
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
        """One error per name that more than one allowed distribution registers."""
        self._ensure_loaded()
        return [
            PluginConflictError(name, category, [str(r.provider) for r in registrations])
            for category, names in self._names.items()
            for name in sorted(names)
            if len(registrations := self._providers(category, name)) > 1
        ]

    def failures(self) -> list[PluginLoadError]:
        """Allowed plugins that failed to import, to register, or the API version check."""
        self._ensure_loaded()
        return [failure for provider, failure in self._failures if self._allows(provider)]

    def installed(self) -> list[Provider]:
        """Every installed plugin (entry point) found, allowed or not; none is imported here."""
        self._ensure_loaded()
        return [provider for _, provider in self._installed or ()]

    def not_allowed(self) -> list[Provider]:
        """Installed plugins the allow-list leaves out (never imported, or now hidden)."""
        return [provider for provider in self.installed() if not self._allows_installed(provider)]

    def build_stage(
        self, name: str, options: Mapping[str, Any], keys: Any
    ) -> Any:  # the stage protocol lives in vaultcache.serializers
        """Build the stage registered as `name` with its options and key ring."""
        registration = self.stage(name)
        registration.ensure_available()
        return registration.factory(dict(options), keys if registration.authenticates else None)


def normalise_distribution(name: str) -> str:
    """`name` in PEP 503 normal form: ``Vaultcache_Brotli`` becomes ``vaultcache-brotli``."""
    return _SEPARATORS.sub("-", name).lower()


def _allow_set(distributions: Iterable[str] | None) -> frozenset[str] | None:
    if distributions is None:
        return None
    if isinstance(distributions, str):
        raise TypeError("the allow-list is a list of distribution names, not one string")
    return frozenset(normalise_distribution(name) for name in distributions)


def _api_problem(declared: object, provider: Provider) -> str | None:
    """Why a plugin's ``VAULTCACHE_PLUGIN_API`` declaration is unacceptable, or None."""
    supported = " or ".join(str(v) for v in sorted(hookspecs.SUPPORTED_PLUGIN_APIS))
    where = f"{provider} (entry point {provider.entry_point or '?'})"
    if declared is None:
        return (
            f"{where} declares no {hookspecs.PLUGIN_API_ATTRIBUTE}; this vaultcache "
            f"provides plugin API {supported}"
        )
    if type(declared) is not int:
        return (
            f"{where} declares {hookspecs.PLUGIN_API_ATTRIBUTE} as "
            f"{type(declared).__name__}, not an integer"
        )
    if declared not in hookspecs.SUPPORTED_PLUGIN_APIS:
        return (
            f"{where} was written for plugin API {declared}; this vaultcache provides {supported}"
        )
    return None


def _provider(entry_point: importlib.metadata.EntryPoint) -> Provider:
    dist = entry_point.dist
    return Provider(_dist_name(entry_point), dist.version if dist else None, entry_point.name)


def _dist_name(entry_point: importlib.metadata.EntryPoint) -> str:
    return entry_point.dist.name if entry_point.dist else entry_point.module.split(".")[0]


_default_registry: PluginRegistry | None = None
_default_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide registry (built on first use, loading plugins lazily).

    Its allow-list is first what ``VAULTCACHE_PLUGINS`` says (unset: every plugin); a session
    built from a config file then applies ``[plugins] allow`` (see
    :meth:`vaultcache.config.PluginSettings.apply`).
    """
    global _default_registry  # noqa: PLW0603 - one registry per process, built lazily
    if _default_registry is None:
        with _default_lock:
            if _default_registry is None:
                _default_registry = PluginRegistry(allow=_allow_from_environment())
    return _default_registry


def _allow_from_environment() -> tuple[str, ...] | None:
    """The allow-list ``VAULTCACHE_PLUGINS`` sets; ConfigError naming it when it is invalid."""
    return allow_from_environment(os.environ)
