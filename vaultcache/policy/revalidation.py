"""Merging a 304 into the stored response it validated (RFC 9111 §4.3.4)."""

from __future__ import annotations

from typing import Final

import requests

from vaultcache.models import CachedResponse
from vaultcache.models.response import HeaderFields, received_fields
from vaultcache.policy.storable import storable_fields, storable_headers

__all__ = ["KEEP_ON_304", "merge_not_modified", "updated_fields"]

#: Fields a 304 must not overwrite in the stored response (RFC 9111 §3.2 and §4.3.4).
KEEP_ON_304: Final = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "content-range"}
)


def merge_not_modified(cached: CachedResponse, not_modified: requests.Response) -> None:
    """Update `cached`'s header fields with those of the 304 that validated it.

    Hop-by-hop fields of the 304 are not stored (§3.1), and the fields that describe the
    stored body keep their stored values (§3.2).
    """
    for name, value in storable_headers(not_modified.headers).items():
        if name.lower() not in KEEP_ON_304:
            cached.headers[name] = value
    updates = storable_fields(received_fields(not_modified))
    cached.header_fields = updated_fields(
        cached.header_fields,
        [field for field in updates if field[0].lower() not in KEEP_ON_304],
    )


def updated_fields(stored: HeaderFields, updates: HeaderFields) -> HeaderFields:
    """`stored` with every field named in `updates` replaced by the updates of its name, where
    the first of them stood (RFC 9111 §3.2); names new to `stored` are appended."""
    grouped: dict[str, HeaderFields] = {}
    for name, value in updates:
        grouped.setdefault(name.lower(), []).append((name, value))
    merged: HeaderFields = []
    placed: set[str] = set()
    for name, value in stored:
        key = name.lower()
        if key not in grouped:
            merged.append((name, value))
        elif key not in placed:
            merged.extend(grouped[key])
            placed.add(key)
    for key, group in grouped.items():
        if key not in placed:
            merged.extend(group)
    return merged
