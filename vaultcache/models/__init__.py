"""The cached models: what a pipeline's format stage turns into bytes and back."""

from vaultcache.models.request import CachedRequest
from vaultcache.models.response import AnyResponse, CachedResponse, OriginalResponse

__all__ = ["AnyResponse", "CachedRequest", "CachedResponse", "OriginalResponse"]
