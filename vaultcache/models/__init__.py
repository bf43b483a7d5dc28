"""The cached models: what a pipeline's format stage turns into bytes and back."""

from vaultcache.models.request import CachedRequest
from vaultcache.models.response import CachedResponse

__all__ = ["CachedRequest", "CachedResponse"]
