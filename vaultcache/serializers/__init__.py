"""Serializers: stages, pipelines, the spec builder and the preconf converters."""

from vaultcache.serializers import preconf
from vaultcache.serializers.builder import build_pipeline
from vaultcache.serializers.pipeline import SerializerPipeline, Stage

__all__ = ["SerializerPipeline", "Stage", "build_pipeline", "preconf"]
