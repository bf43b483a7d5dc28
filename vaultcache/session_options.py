"""The options a session is built from, named once for the layers below the session.

:class:`~vaultcache.session.CacheMixin` takes exactly :data:`SESSION_KEYWORDS` (a test holds
its signature to them); the config layer maps its tables onto them and refuses a backend
option that would shadow one.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_SERIALIZER", "SESSION_KEYWORDS"]

#: The serializer used when none is given or configured: encrypted at rest.
DEFAULT_SERIALIZER: Final = "zstd+aesgcm"

#: The keyword arguments of ``CacheMixin.__init__``; any other keyword is for the backend
#: or for the next class's ``__init__``.
SESSION_KEYWORDS: Final = frozenset(
    {
        "cache_name",
        "backend",
        "serializer",
        "expire_after",
        "urls_expire_after",
        "cache_control",
        "rfc9111",
        "cdn_cache_control",
        "allowable_codes",
        "allowable_methods",
        "always_revalidate",
        "credential_parameters",
        "ignored_parameters",
        "match_headers",
        "share_credentials",
        "filter_fn",
        "key_fn",
        "stale_if_error",
        "stale_while_revalidate",
        "keys",
        "serializer_options",
        "retention",
        "train_dictionary_after",
        "read_only",
        "autoclose",
    }
)
