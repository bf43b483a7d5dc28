"""Serializers: stages, pipelines, the spec builder and the preconf converters."""

from vaultcache.serializers import preconf
from vaultcache.serializers.builder import build_pipeline
from vaultcache.serializers.pipeline import SerializerPipeline, Stage, UnsafePipelineWarning

__all__ = ["SerializerPipeline", "Stage", "UnsafePipelineWarning", "build_pipeline", "preconf"]
