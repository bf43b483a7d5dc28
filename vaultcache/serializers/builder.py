"""The spec builder: ``"signed+zstd+aesgcm"`` -> a checked SerializerPipeline.

Grammar (case-insensitive)::

    spec  = name *( "+" name )
    name  = letter *( letter / digit / "-" / "_" )

Stages run left to right on ``dumps``. A leading format (``json``, ``msgpack``, ``pickle``...)
chooses the encoding; without one, ``msgpack`` is used. Each name is looked up in the plugin
registry, so installed plugins' stages work in specs like built-in ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vaultcache.crypto_key_sources import key_ring_for
from vaultcache.crypto_keys import KeyRing
from vaultcache.errors import SpecError, UnknownPluginError
from vaultcache.registry import PluginRegistry, Registration, get_registry
from vaultcache.serializers.pipeline import SerializerPipeline

__all__ = ["DEFAULT_FORMAT", "build_pipeline", "parse_spec", "spec_needs_keys"]

DEFAULT_FORMAT = "msgpack"

#: Stages that authenticate everything a ``signed`` stage before them would: each record with
#: its context, by HMAC-SHA256 under a subkey of the same ring (see docs/stages.md).
_COVERS_SIGNED = frozenset({"aesgcm", "fernet"})

KeysArgument = KeyRing | str | Sequence[str | bytes] | None


def parse_spec(spec: str) -> list[str]:
    """Split a spec into lower-case stage names; SpecError if it is empty or malformed."""
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(str(spec), "a spec names at least one stage, such as 'zstd+aesgcm'")
    names = [part.strip().lower() for part in spec.split("+")]
    if "" in names:
        raise SpecError(spec, "empty stage name (two '+' in a row, or one at either end)")
    return names


def build_pipeline(
    spec: str,
    *,
    keys: KeysArgument = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    registry: PluginRegistry | None = None,
    as_written: bool = False,
) -> SerializerPipeline:
    """Build and check the pipeline a spec string names.

    `options` maps a stage name to its options (``{"zstd": {"level": 19}}``). `keys` is a
    KeyRing, key text or a list of keys; when None and a stage needs keys, they are loaded
    from the configured key sources (see :func:`vaultcache.crypto_key_sources.load_key_ring`).
    A ``signed`` stage followed by ``aesgcm`` or ``fernet`` is left out, since that stage
    already authenticates what it would; `as_written` keeps every stage, to read entries
    whose header names such a spec (written before this was so).

    Raises SpecError for unknown names (listing the known ones) and for unsafe or pointless
    specs; KeyRingError when a stage needs keys and none can be found or created.
    """
    registry = registry or get_registry()
    names = parse_spec(spec)
    registrations = [_look_up(registry, spec, name) for name in names]
    if registrations[0].kind != "format":
        registrations.insert(0, _look_up(registry, spec, DEFAULT_FORMAT))
    _check(spec, registrations)
    options = {name.lower(): value for name, value in (options or {}).items()}
    _check_options(spec, options, registrations)
    # Stages without keys are built first, so a mistyped option is reported before any key
    # is looked for (or a key file created); keys given explicitly are checked either way.
    built = {
        r.name: registry.build_stage(r.name, options.get(r.name, {}), None)
        for r in registrations
        if not r.authenticates
    }
    # Keys given are read (and checked) even when no stage needs them.
    wanted = len(built) < len(registrations) or keys is not None
    ring = key_ring_for(keys, required=True, registry=registry) if wanted else None
    stages = [
        built[r.name]
        if r.name in built
        else registry.build_stage(r.name, options.get(r.name, {}), ring)
        for r in registrations
    ]
    # Left out only once built, so that its options are checked like any other stage's.
    if not as_written:
        stages = _without_covered_signing(registrations, stages)
    return SerializerPipeline(stages)


def spec_needs_keys(spec: str, *, registry: PluginRegistry | None = None) -> bool:
    """True when a stage of `spec` signs or encrypts (so a KeyRing must be found)."""
    registry = registry or get_registry()
    return any(_look_up(registry, spec, name).authenticates for name in parse_spec(spec))


def _look_up(registry: PluginRegistry, spec: str, name: str) -> Registration:
    try:
        return registry.stage(name)
    except UnknownPluginError as exc:
        raise SpecError(spec, str(exc)) from None


def _check(spec: str, stages: list[Registration]) -> None:
    seen: set[str] = set()
    for position, stage in enumerate(stages):
        later = stages[position + 1 :]
        if stage.name in seen:
            raise SpecError(spec, f"stage {stage.name!r} appears twice")
        seen.add(stage.name)
        if stage.kind == "format" and position > 0:
            raise SpecError(spec, f"format {stage.name!r} must be the first stage")
        if stage.requires_authentication and not any(s.authenticates for s in later):
            raise SpecError(
                spec,
                f"{stage.name!r} can run code when it reads tampered bytes; follow it with a "
                "signing or encryption stage, as in 'pickle+signed' or 'pickle+zstd+aesgcm'",
            )
        if stage.kind == "encryption" and any(s.kind == "encryption" for s in later):
            raise SpecError(spec, "more than one encryption stage; use one")
        if stage.kind == "compression":
            if any(s.kind == "encryption" for s in stages[:position]):
                raise SpecError(
                    spec,
                    f"{stage.name!r} after encryption gains nothing (ciphertext does not "
                    "compress); put compression before encryption",
                )
            if any(s.kind == "compression" for s in later):
                raise SpecError(spec, "more than one compression stage; use one")


def _without_covered_signing(registrations: list[Registration], stages: list[Any]) -> list[Any]:
    """`stages` without a ``signed`` stage that a later stage's authentication covers."""
    names = [registration.name for registration in registrations]
    covered = [
        name == "signed" and any(later in _COVERS_SIGNED for later in names[position + 1 :])
        for position, name in enumerate(names)
    ]
    return [stage for stage, left_out in zip(stages, covered, strict=True) if not left_out]


def _check_options(spec: str, options: Mapping[str, Any], stages: list[Registration]) -> None:
    names = {stage.name for stage in stages}
    for name, value in options.items():
        if name not in names:
            raise SpecError(spec, f"options are given for stage {name!r}, which is not in it")
        if not isinstance(value, Mapping):
            raise SpecError(spec, f"options for stage {name!r} must be a table of settings")
