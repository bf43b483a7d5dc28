"""What plugins register: the registrars passed to the collection hooks, and their records.

Each ``vaultcache_register_*`` hook is given a registrar of its category and calls
:meth:`Registrar.add` once per name; the registry commits what a plugin added only when its
hook returns without an error (:mod:`vaultcache.registry`).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import attrs

from vaultcache.errors import MissingDependencyError, PluginError

__all__ = [
    "AUTHENTICATING_KINDS",
    "STAGE_KINDS",
    "BackendRegistrar",
    "Category",
    "KeySourceRegistrar",
    "Provider",
    "Registrar",
    "Registration",
    "StageRegistrar",
]

STAGE_KINDS = ("format", "compression", "signing", "encryption")
#: Stage kinds that reject any entry they did not write; their factories are given keys.
AUTHENTICATING_KINDS = ("signing", "encryption")

Category = Literal["stage", "backend", "key source"]
_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")


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
        """True for stages that reject any entry they did not write (signing, encryption);
        their factories are given the key ring."""
        return self.kind in AUTHENTICATING_KINDS

    @property
    def available(self) -> bool:
        """False when a module the entry requires is not installed."""
        return all(importlib.util.find_spec(module) is not None for module in self.requires)

    def ensure_available(self) -> None:
        """Raise MissingDependencyError naming the extra when a required module is missing."""
        if not self.available:
            raise MissingDependencyError(f"{self.category} {self.name!r}", self.extra or "all")


class Registrar:
    """Collects one plugin's names for one category; committed only if its hook succeeds."""

    category: ClassVar[Category]
    #: The kinds a name of this category may have; empty: its kind is the category.
    kinds: ClassVar[tuple[str, ...]] = ()

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.added: dict[str, Registration] = {}

    def add(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        kind: str | None = None,
        description: str = "",
        requires: tuple[str, ...] = (),
        extra: str | None = None,
        requires_authentication: bool = False,
    ) -> None:
        """Register `name`, built by `factory` (what it is given: see the hook's docs).

        `kind` is required for a stage (one of STAGE_KINDS) and refused for the others, as
        is `requires_authentication` (a stage that must come before an authenticating one).
        `requires` names modules the factory imports, `extra` the pip extra that installs them.
        """
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
            kind=self._kind(name, kind, requires_authentication),
            factory=factory,
            provider=self.provider,
            description=description,
            requires=tuple(requires),
            extra=extra,
            requires_authentication=requires_authentication,
        )

    def _kind(self, name: str, kind: str | None, requires_authentication: bool) -> str:
        if not self.kinds:
            if kind is not None or requires_authentication:
                raise PluginError(
                    f"{self.category} {name!r}: kind and requires_authentication are for stages"
                )
            return self.category
        if kind not in self.kinds:
            raise PluginError(
                f"{self.category} {name!r}: kind {kind!r} is not one of {', '.join(self.kinds)}"
            )
        return kind


class StageRegistrar(Registrar):
    """Passed to ``vaultcache_register_stages``: ``add(name, factory, kind=...)`` once per
    stage; ``factory(options, keys)`` builds it."""

    category: ClassVar[Category] = "stage"
    kinds: ClassVar[tuple[str, ...]] = STAGE_KINDS


class BackendRegistrar(Registrar):
    """Passed to ``vaultcache_register_backends``: ``add(name, factory)`` once per backend;
    ``factory(cache_name, options)`` returns a BaseCache."""

    category: ClassVar[Category] = "backend"


class KeySourceRegistrar(Registrar):
    """Passed to ``vaultcache_register_key_sources``: ``add(name, factory)`` once per source;
    ``factory(options)`` returns an object with ``load()``."""

    category: ClassVar[Category] = "key source"
