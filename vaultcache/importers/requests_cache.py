"""``vaultcache import --from-requests-cache``: a requests-cache 1.x cache into this cache.

Every entry is turned into a CachedResponse and written with ``cache.save_response`` under
the key this session gives its request, so it is encrypted and keyed like any other; the
final response of a redirect is stored once and its redirects lead to it. All or nothing:
every entry is read and checked before the first write, and if a write fails, what was
written is undone (entries it replaced are put back). Entries whose request carried
credentials are skipped: requests-cache stored them redacted, and a key computed from the
redacted request would answer a request whose credential is the placeholder.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from vaultcache.cache import BaseCache
from vaultcache.importers.requests_cache_files import (
    SourceError,
    count_entries,
    locate,
    read_entries,
)
from vaultcache.models import CachedRequest, CachedResponse
from vaultcache.saving import has_redactions

__all__ = ["ImportReport", "SourceError", "import_requests_cache", "to_cached_response"]

Progress = Callable[[Iterable[Any], int | None, str], Iterator[Any]]


@attrs.define
class ImportReport:
    """What was imported: responses written, redirects mapped, entries skipped (by key)."""

    source: str
    read: int = 0
    responses: int = 0
    redirects: int = 0
    skipped_with_credentials: list[str] = attrs.field(factory=list)


def import_requests_cache(
    path: str | Path,
    cache: BaseCache,
    create_key: Callable[..., str],
    *,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the requests-cache cache at `path` into `cache`; raises SourceError (nothing
    written) when any entry cannot be read."""
    source = locate(path)
    report = ImportReport(source=str(source))
    total = count_entries(source)
    for key, entry in read_entries(source):  # first pass: everything must convert
        to_cached_response(key, entry)
    entries: Iterable[tuple[str, dict[str, Any]]] = read_entries(source)
    if progress is not None:
        entries = progress(entries, total, "importing")
    writer = _Writer(cache, create_key, report)
    try:
        for key, entry in entries:
            writer.write(key, to_cached_response(key, entry))
    except BaseException:
        writer.undo()
        raise
    return report


class _Writer:
    """Writes converted entries, remembering what each write replaced so it can be undone."""

    def __init__(
        self, cache: BaseCache, create_key: Callable[..., str], report: ImportReport
    ) -> None:
        self._cache = cache
        self._create_key = create_key
        self._report = report
        self._responses: dict[str, CachedResponse | None] = {}
        self._redirects: dict[str, str | None] = {}

    def write(self, key: str, response: CachedResponse) -> None:
        """Store `response` (the entry requests-cache kept under `key`) under its new key."""
        report = self._report
        report.read += 1
        if any(has_redactions(item.request) for item in [response, *response.history]):
            report.skipped_with_credentials.append(key)
            return
        new_key = self._create_key(response.request)
        redirect_keys = [self._create_key(item.request) for item in response.history]
        if new_key not in self._responses:
            self._responses[new_key] = self._cache.get_response(new_key)
        for redirect in redirect_keys:
            self._redirects.setdefault(redirect, self._cache.redirects.get(redirect))
        response.cache_key = new_key
        # The keys each hop is sent with: what a request must match to be answered by it.
        response.redirect_chain = [*redirect_keys, new_key] if redirect_keys else []
        self._cache.save_response(response, redirect_keys=redirect_keys)
        report.responses += 1
        report.redirects += len([k for k in redirect_keys if k != new_key])

    def undo(self) -> None:
        """Put every key written back as it was."""
        for redirect, target in self._redirects.items():
            if target is None:
                self._cache.redirects.pop(redirect, None)
            else:
                self._cache.redirects[redirect] = target
        for key, previous in self._responses.items():
            if previous is None:
                self._cache.delete(key)
            else:
                self._cache.save_response(previous)


def to_cached_response(key: str, entry: dict[str, Any]) -> CachedResponse:
    """A CachedResponse from one requests-cache entry (raises SourceError naming `key`)."""
    try:
        return _response(entry)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"entry {key}: not a requests-cache 1.x response ({exc!r})") from None


def _response(entry: dict[str, Any]) -> CachedResponse:
    request = entry.get("request") or {}
    return CachedResponse(
        url=_text(entry["url"]),
        status_code=int(entry["status_code"]),
        reason=_text(entry.get("reason") or ""),
        headers={_text(k): _text(v) for k, v in (entry.get("headers") or {}).items()},
        content=_body(entry),
        encoding=entry.get("encoding"),
        elapsed=timedelta(seconds=float(entry.get("elapsed") or 0)),
        created_at=_time(entry["created_at"]),
        expires=_time(entry["expires"]) if entry.get("expires") else None,
        request=CachedRequest(
            method=_text(request.get("method") or "GET"),
            url=_text(request.get("url") or entry["url"]),
            headers={_text(k): _text(v) for k, v in (request.get("headers") or {}).items()},
            body=_bytes(request["body"]) if request.get("body") is not None else None,
        ),
        history=[_response(item) for item in entry.get("history") or []],
    )


def _body(entry: dict[str, Any]) -> bytes:
    """The body: ``_content`` (bytes, or base64 in JSON), or requests-cache's decoded form."""
    if entry.get("_content") is not None:
        return _bytes(entry["_content"])
    decoded = entry.get("_decoded_content")
    if decoded is None:
        return b""
    return decoded.encode("utf-8") if isinstance(decoded, str) else json.dumps(decoded).encode()


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return base64.b64decode(value, validate=True)
    raise TypeError(f"expected bytes, got {type(value).__name__}")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(_text(value))
