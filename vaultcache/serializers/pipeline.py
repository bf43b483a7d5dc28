"""SerializerPipeline and Stage: chains of dumps/loads steps that turn responses into bytes.

Stages run left to right on ``dumps`` and right to left on ``loads``. Anything with ``dumps``
and ``loads`` methods is a stage; :class:`Stage` adapts objects whose methods have other
names, such as ``Stage(gzip, dumps="compress", loads="decompress")``.
"""

from __future__ import annotations

import pickle
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from vaultcache.errors import ConfigError, DecodeError, EncodeError, EntryError, VaultCacheError
from vaultcache.registrars import AUTHENTICATING_KINDS
from vaultcache.serializers.sealing import SealingStage

__all__ = [
    "Handover",
    "SerializerPipeline",
    "Stage",
    "StageLike",
    "Step",
    "UnsafePipelineWarning",
    "canonical_name",
    "check_decode_content",
    "run_steps",
    "spec_part",
    "stage_name",
]

_NOT_IN_SPECS = re.compile(r"[^a-z0-9_-]")


def check_decode_content(decode_content: object) -> None:
    """Accept ``decode_content=False``; refuse True, which vaultcache cannot honour.

    requests-cache's ``decode_content=True`` stores JSON bodies decoded, so a text serializer
    shows them readably. vaultcache stores every body as the exact bytes received (and
    encrypted, so nothing in the store is readable anyway): that is ``decode_content=False``.
    """
    if decode_content is not False:
        raise ConfigError(
            "vaultcache stores bodies as the exact bytes received (decode_content=False); "
            "remove decode_content=True (read an entry with `vaultcache get URL "
            "--only-if-cached` or session.cache.responses)",
            key="decode_content",
        )


class UnsafePipelineWarning(UserWarning):
    """A hand-built pipeline reads with the standard pickle module and nothing authenticates
    what it reads first."""


@runtime_checkable
class StageLike(Protocol):
    """Anything with ``dumps`` and ``loads``: a module such as ``json``, or a stage object."""

    def dumps(self, value: Any, /) -> Any: ...

    def loads(self, value: Any, /) -> Any: ...


class Stage:
    """Adapt an object whose serialize/deserialize methods have other names.

    `dumps` and `loads` are method names on `obj`, or callables used as given.
    """

    def __init__(
        self,
        obj: Any = None,
        dumps: str | Callable[[Any], Any] = "dumps",
        loads: str | Callable[[Any], Any] = "loads",
        *,
        name: str | None = None,
        is_binary: bool | None = None,
    ) -> None:
        self.obj = obj
        self.dumps: Callable[[Any], Any] = getattr(obj, dumps) if isinstance(dumps, str) else dumps
        self.loads: Callable[[Any], Any] = getattr(obj, loads) if isinstance(loads, str) else loads
        self.name = name or (
            _object_name(obj)
            if obj is not None
            else f"{_callable_name(self.dumps)}/{_callable_name(self.loads)}"
        )
        self.is_binary = is_binary

    def __repr__(self) -> str:
        return f"Stage({self.name})"


class SerializerPipeline:
    """A sequence of stages used as one serializer: ``dumps(obj) -> bytes``, ``loads(bytes)``.

    A pipeline given by hand is used exactly as given; only :func:`build_pipeline` checks
    that a spec is safe. The one exception is a warning (:class:`UnsafePipelineWarning`)
    when the standard pickle module reads entries and no signing or encryption stage comes
    after it: such a pipeline runs code that anyone who can write the store chose.

    ``dumps``/``loads`` run the stages as a plain chain. The cache writes entries in the
    self-describing entry format instead (:mod:`vaultcache.entries`), which runs the same
    stages record by record and names :attr:`spec` in each entry's header.
    """

    def __init__(
        self,
        stages: Sequence[Any],
        name: str | None = None,
        is_binary: bool | None = None,
    ) -> None:
        if not stages:
            raise TypeError("a SerializerPipeline needs at least one stage")
        for position, stage in enumerate(stages, start=1):
            if not (
                callable(getattr(stage, "dumps", None)) and callable(getattr(stage, "loads", None))
            ):
                raise TypeError(
                    f"stage #{position} ({stage!r}) has no dumps/loads methods; wrap it as "
                    "Stage(obj, dumps='method_name', loads='method_name')"
                )
        _warn_if_unsafe(stages)
        self.stages: tuple[Any, ...] = tuple(stages)
        #: The canonical spec entries record: each stage's name and reading options.
        self.spec = "+".join(canonical_name(stage) for stage in stages)
        self.name = name or self.spec
        self.is_binary = is_binary if is_binary is not None else _ends_binary(self.stages[-1])
        self._dumps = tuple((stage_name(stage), stage.dumps, False) for stage in self.stages)
        self._loads = tuple(
            (stage_name(stage), stage.loads, False) for stage in reversed(self.stages)
        )

    @property
    def key_ring(self) -> Any:
        """The KeyRing of the first stage that has one (None without signing or encryption)."""
        return next(
            (stage.keys for stage in self.stages if _kind(stage) in AUTHENTICATING_KINDS), None
        )

    @property
    def authenticates(self) -> bool:
        """True when a signing or encryption stage checks what is read."""
        return any(_kind(stage) in AUTHENTICATING_KINDS for stage in self.stages)

    @property
    def outer_authenticates(self) -> bool:
        """True when the last stage authenticates: nothing is decoded before it verifies."""
        return _kind(self.stages[-1]) in AUTHENTICATING_KINDS

    @property
    def unsealed(self) -> list[str]:
        """Names of signing or encryption stages that cannot seal an entry's records with
        their context (no ``seal``/``open``): they would leave the entry header unbound."""
        return [
            stage_name(stage)
            for stage in self.stages
            if _kind(stage) in AUTHENTICATING_KINDS and not isinstance(stage, SealingStage)
        ]

    @property
    def chunkable(self) -> bool:
        """True when a format stage comes first and every later stage maps bytes to bytes.

        Only such a pipeline can store a body apart from its metadata, in chunks; any other
        (a hand-built chain of opaque objects) stores each response whole.
        """
        first, *rest = self.stages
        return _kind(first) == "format" and all(
            _kind(stage) == "compression"
            or (_kind(stage) in AUTHENTICATING_KINDS and isinstance(stage, SealingStage))
            for stage in rest
        )

    def set_decode_content(self, decode_content: bool) -> None:
        """requests-cache's switch: False is what vaultcache always does (the exact bytes
        received are stored); True is refused (see docs/migrating.md)."""
        check_decode_content(decode_content)

    def dumps(self, value: Any) -> Any:
        """Run every stage's ``dumps``, first to last.

        A stage's failure is raised as an :class:`~vaultcache.EncodeError` naming the stage,
        not chained, since its message may quote the response.
        """
        return run_steps(self._dumps, value, VaultCacheError, EncodeError, "write")

    def loads(self, value: Any) -> Any:
        """Run every stage's ``loads``, last to first.

        Any failure is raised as an :class:`~vaultcache.EntryError` naming the stage; the
        original exception is not chained, since its message may quote the stored bytes.
        """
        return run_steps(self._loads, value, EntryError, DecodeError, "read")

    def __repr__(self) -> str:
        return f"SerializerPipeline({self.name!r})"


def _kind(stage: Any) -> str | None:
    kind = getattr(stage, "kind", None)
    return kind if isinstance(kind, str) else None


def _warn_if_unsafe(stages: Sequence[Any]) -> None:
    for position, stage in enumerate(stages):
        if _reads_with_stdlib_pickle(stage) and not any(
            _kind(later) in AUTHENTICATING_KINDS for later in stages[position + 1 :]
        ):
            warnings.warn(
                f"stage #{position + 1} ({stage_name(stage)}) reads entries with the standard "
                "pickle module, which runs code chosen by whoever wrote the bytes, and no "
                "signing or encryption stage comes after it; use the spec 'pickle+signed' "
                "or 'pickle+zstd+aesgcm' instead",
                UnsafePipelineWarning,
                stacklevel=3,
            )


def _reads_with_stdlib_pickle(stage: Any) -> bool:
    """The pickle module itself, or a Stage around it or around ``pickle.loads``."""
    if stage is pickle:
        return True
    return isinstance(stage, Stage) and (stage.obj is pickle or stage.loads is pickle.loads)


#: One step: the stage's name, its function, and whether it seals (takes a context and key).
Step = tuple[str, Callable[..., Any], bool]


class Handover:
    """A value given to :func:`run_steps` to keep: the caller drops its own reference, so
    the value (a sealed record) is freed as soon as the first step has opened it, instead of
    staying alive, held by the call, while later steps decompress."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def take(self) -> Any:
        """The value, given up: a second take returns None."""
        value, self._value = self._value, None
        return value


def run_steps(
    steps: Iterable[Step],
    value: Any,
    typed: type[VaultCacheError],
    error: type[EncodeError | DecodeError],
    verb: str,
    *sealing: Any,
) -> Any:
    """Run `steps` in order; a failure other than a `typed` one becomes `error` naming the
    stage and the exception's type, never its message. Sealing steps get `sealing` (the
    context and key) after the value, which may come in a :class:`Handover`."""
    name = failure = ""
    if isinstance(value, Handover):
        value = value.take()
    try:
        for stage, step, seals in steps:
            name = stage
            value = step(value, *sealing) if seals else step(value)
    except typed:
        raise
    except Exception as exc:
        failure = type(exc).__name__
    if failure:
        # Raised outside the except block, so not even __context__ holds the original.
        raise error(f"stage {name!r} could not {verb} the entry ({failure})", stage=name)
    return value


def stage_name(stage: Any) -> str:
    """The name a stage goes by in specs and errors."""
    name = getattr(stage, "name", None)
    return name if isinstance(name, str) else _object_name(stage)


def canonical_name(stage: Any) -> str:
    """`stage`'s name, with the options a reader needs: ``zstd(dict=ab12)``.

    A stage lists those options in a ``reading_options()`` method (a mapping of names to
    short text values); most stages need none.
    """
    name = _NOT_IN_SPECS.sub("-", stage_name(stage).lower()).lstrip("_-")[:64] or "stage"
    reading = getattr(stage, "reading_options", None)
    return spec_part(name, reading() if callable(reading) else {})


def spec_part(name: str, options: Mapping[str, Any]) -> str:
    """One stage of a spec as specs spell it: ``name``, or ``name(k=v,...)`` in key order."""
    if not options:
        return name
    return f"{name}({','.join(f'{k}={v}' for k, v in sorted(options.items()))})"


def _callable_name(function: Callable[[Any], Any]) -> str:
    return str(getattr(function, "__qualname__", None) or _object_name(function)).lower()


def _object_name(obj: Any) -> str:
    name = getattr(obj, "__name__", None) or type(obj).__name__
    return str(name).rsplit(".", 1)[-1].lower()


def _ends_binary(stage: Any) -> bool:
    is_binary = getattr(stage, "is_binary", None)
    return True if is_binary is None else bool(is_binary)
