"""WARC export: decrypted responses as WARC/1.1 ``response`` records (a plaintext file)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs

from vaultcache import clock
from vaultcache._version import __version__
from vaultcache.archive.common import (
    ArchiveError,
    Progress,
    SkippedEntry,
    _decode,
    _no_progress,
    _pipeline,
    _private_file,
    _unreadable,
    untracked,
)
from vaultcache.models import CachedResponse

if TYPE_CHECKING:
    from vaultcache.cache import BaseCache

__all__ = ["WarcReport", "export_warc"]


@attrs.define
class WarcReport:
    """What :func:`export_warc` wrote, and the entries it could not read."""

    path: Path
    records: int = 0
    unreadable: tuple[SkippedEntry, ...] = ()


#: Headers that describe the encoding on the wire: the stored body is decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


def export_warc(
    cache: BaseCache,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> WarcReport:
    """Write every readable response, DECRYPTED, as a WARC/1.1 response record (mode 0600).

    A name ending in ``.gz`` gets one gzip member per record (``.warc.gz``). The file holds
    plaintext: treat it as you would the responses themselves.
    """
    _pipeline(cache)  # a cache with no serializer cannot read anything
    path = Path(path)
    report = WarcReport(path=path)
    unreadable: list[SkippedEntry] = []
    compress = path.suffix == ".gz"
    try:
        with untracked(cache.storage), _private_file(path, force=force) as out:
            info_id = _record_id()
            _put(out, _warcinfo_record(info_id, path.name), compress)
            keys = list(cache.storage)
            for key in (progress or _no_progress)(keys, len(keys), "export warc"):
                data = cache.storage.get(key)
                if data is None:
                    continue
                response = _decode(cache, key, data)
                if isinstance(response, str):
                    unreadable.append(_unreadable(key, data, response))
                    continue
                _put(out, _response_record(response, info_id), compress)
                report.records += 1
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {exc.strerror or exc}", path=path) from None
    report.unreadable = tuple(unreadable)
    return report


def _put(out: IO[bytes], record: bytes, compress: bool) -> None:
    out.write(gzip.compress(record, compresslevel=6, mtime=0) if compress else record)


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _digest(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(text: str) -> str:
    """A header value on one line, whatever it held."""
    return text.replace("\r", " ").replace("\n", " ")


def _record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    lines = ["WARC/1.1", *(f"{name}: {_line(value)}" for name, value in headers)]
    lines.append(f"Content-Length: {len(block)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def _warcinfo_record(record_id: str, filename: str) -> bytes:
    fields = (
        f"software: vaultcache/{__version__}\r\n"
        "format: WARC File Format 1.1\r\n"
        "conformsTo: https://iipc.github.io/warc-specifications/specifications/"
        "warc-format/warc-1.1/\r\n"
    ).encode()
    return _record(
        [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", _warc_date(clock.now())),
            ("WARC-Filename", filename),
            ("Content-Type", "application/warc-fields"),
        ],
        fields,
    )


def _response_record(response: CachedResponse, info_id: str) -> bytes:
    body = response.content or b""
    head = [f"HTTP/1.1 {response.status_code} {_line(response.reason or '')}"]
    head += [
        f"{_line(name)}: {_line(value)}"
        for name, value in response.headers.items()
        if name.lower() not in _WIRE_HEADERS
    ]
    head.append(f"Content-Length: {len(body)}")
    block = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace") + body
    return _record(
        [
            ("WARC-Type", "response"),
            ("WARC-Record-ID", _record_id()),
            ("WARC-Warcinfo-ID", info_id),
            ("WARC-Date", _warc_date(response.created_at)),
            ("WARC-Target-URI", response.url or response.request.url),
            ("Content-Type", "application/http;msgtype=response"),
            ("WARC-Payload-Digest", _digest(body)),
            ("WARC-Block-Digest", _digest(block)),
        ],
        block,
    )
