"""Pipelines that could run code or expand without bound when they read planted bytes.

The builder refuses unsafe specs; a hand-built pipeline is used as given, but one that reads
with the standard pickle module and authenticates nothing first is warned about.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import pytest

from vaultcache import DecodeError, KeyRing, SpecError, generate_key
from vaultcache.serializers import (
    SerializerPipeline,
    Stage,
    UnsafePipelineWarning,
    build_pipeline,
)

RING = KeyRing([generate_key()])


class _RunsCode:
    """Unpickling this calls os.system: what an attacker would plant."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("spec", ["pickle", "pickle+zstd", "pickle+gzip+zlib"])
def test_spec_reading_pickle_without_authentication_is_refused(spec: str) -> None:
    """Attack: get a cache configured to unpickle bytes nobody authenticated."""
    with pytest.raises(SpecError, match="signing or encryption"):
        build_pipeline(spec, keys=RING)


@pytest.mark.parametrize("spec", ["pickle+signed", "pickle+zstd+aesgcm"])
def test_authentic_pickle_that_references_code_is_refused(spec: str) -> None:
    """Attack: a key holder (or a stolen key) plants an authentic pickle that runs code."""
    pipeline = build_pipeline(spec, keys=RING)
    planted = pipeline.stages[-1].dumps(
        pipeline.stages[1].dumps(pickle.dumps(_RunsCode()))
        if len(pipeline.stages) == 3
        else pickle.dumps(_RunsCode())
    )
    with pytest.raises(DecodeError):
        pipeline.loads(planted)


@pytest.mark.parametrize(
    "stages",
    [[pickle], [pickle, Stage(__import__("zlib"), "compress", "decompress")]],
    ids=["pickle", "pickle+zlib"],
)
def test_hand_built_stdlib_pickle_without_authentication_is_warned_about(
    stages: list[Any],
) -> None:
    """Attack: a hand-built pipeline that unpickles whatever the store holds."""
    with pytest.warns(UnsafePipelineWarning):
        SerializerPipeline(stages)
