"""SerializerPipeline and Stage: chains of dumps/loads steps that turn responses into bytes.

Stages run left to right on ``dumps`` and right to left on ``loads``. Anything with ``dumps``
and ``loads`` methods is a stage; :class:`Stage` adapts objects whose methods have other
names, such as ``Stage(gzip, dumps="compress", loads="decompress")``.
"""

from __future__ import annotations

import hashlib
import pickle
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from vaultcache.compat import check_decode_content
from vaultcache.errors import DecodeError, EncodeError, EntryError, VaultCacheError

__all__ = [
    "BindableStage",
    "SerializerPipeline",
    "Stage",
    "StageLike",
    "UnsafePipelineWarning",
    "stage_name",
]

FINGERPRINT_SIZE = 8
_AUTHENTICATING_KINDS = frozenset({"signing", "encryption"})


class UnsafePipelineWarning(UserWarning):
    """A hand-built pipeline reads with the standard pickle module and nothing authenticates
    what it reads first."""


@runtime_checkable
class StageLike(Protocol):
    """Anything with ``dumps`` and ``loads``: a module such as ``json``, or a stage object."""

    def dumps(self, value: Any, /) -> Any: ...

    def loads(self, value: Any, /) -> Any: ...


@runtime_checkable
class BindableStage(StageLike, Protocol):
    """A stage that records the pipeline it belongs to in what it writes (see ``bind``)."""

    def bind(self, fingerprint: bytes, /) -> StageLike:
        """Return a copy that writes `fingerprint` and refuses entries carrying another."""
        ...


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
    after it: such a pipeline runs code that anyone who can write the store chose. Stages
    that can bind (the built-in signing and encryption stages)
    are bound to this pipeline's fingerprint, so an entry written by a different pipeline
    fails to authenticate instead of being decoded the wrong way.
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
        self.spec = "+".join(stage_name(stage) for stage in stages)
        self.fingerprint = hashlib.sha256(self.spec.encode("utf-8")).digest()[:FINGERPRINT_SIZE]
        self.stages: tuple[Any, ...] = tuple(
            stage.bind(self.fingerprint) if isinstance(stage, BindableStage) else stage
            for stage in stages
        )
        self.name = name or self.spec
        self.is_binary = is_binary if is_binary is not None else _ends_binary(self.stages[-1])
        self._dumps = tuple((stage_name(stage), stage.dumps) for stage in self.stages)
        self._loads = tuple((stage_name(stage), stage.loads) for stage in reversed(self.stages))

    def set_decode_content(self, decode_content: bool) -> None:
        """requests-cache's switch: False is what vaultcache always does (the exact bytes
        received are stored); True is refused (see docs/migrating.md)."""
        check_decode_content(decode_content)

    def dumps(self, value: Any) -> Any:
        """Run every stage's ``dumps``, first to last.

        A stage's failure is raised as an :class:`~vaultcache.EncodeError` naming the stage,
        not chained, since its message may quote the response.
        """
        return _run_steps(self._dumps, value, VaultCacheError, EncodeError, "write")

    def loads(self, value: Any) -> Any:
        """Run every stage's ``loads``, last to first.

        Any failure is raised as an :class:`~vaultcache.EntryError` naming the stage; the
        original exception is not chained, since its message may quote the stored bytes.
        """
        return _run_steps(self._loads, value, EntryError, DecodeError, "read")

    def __repr__(self) -> str:
        return f"SerializerPipeline({self.name!r})"


def _warn_if_unsafe(stages: Sequence[Any]) -> None:
    for position, stage in enumerate(stages):
        if _reads_with_stdlib_pickle(stage) and not any(
            getattr(later, "kind", None) in _AUTHENTICATING_KINDS
            for later in stages[position + 1 :]
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


def _run_steps(
    steps: Sequence[tuple[str, Callable[[Any], Any]]],
    value: Any,
    typed: type[VaultCacheError],
    error: type[EncodeError | DecodeError],
    verb: str,
) -> Any:
    """Run `steps` in order; a failure other than a `typed` one becomes `error` naming the
    stage and the exception's type, never its message."""
    name = failure = ""
    try:
        for stage, step in steps:
            name = stage
            value = step(value)
    except typed:
        raise
    except Exception as exc:
        failure = type(exc).__name__
    if failure:
        # Raised outside the except block, so not even __context__ holds the original.
        raise error(f"stage {name!r} could not {verb} the entry ({failure})", stage=name)
    return value


def stage_name(stage: Any) -> str:
    """The name a stage goes by in specs, fingerprints and errors."""
    name = getattr(stage, "name", None)
    return name if isinstance(name, str) else _object_name(stage)


def _callable_name(function: Callable[[Any], Any]) -> str:
    return str(getattr(function, "__qualname__", None) or _object_name(function)).lower()


def _object_name(obj: Any) -> str:
    name = getattr(obj, "__name__", None) or type(obj).__name__
    return str(name).rsplit(".", 1)[-1].lower()


def _ends_binary(stage: Any) -> bool:
    is_binary = getattr(stage, "is_binary", None)
    return True if is_binary is None else bool(is_binary)
