"""WARC export: decrypted responses as WARC/1.1 records (a plaintext file).

Each cached response is written as the exchange that produced it: every redirect hop as a
``response`` record and its ``request`` record, then the final response and its request.
Each request record names its response with ``WARC-Concurrent-To``. A payload already
written is not written again: the later response is a ``revisit`` record (profile
identical-payload-digest) that refers to the first.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

import attrs

from vaultcache import clock
from vaultcache._version import __version__
from vaultcache.archive.common import (
    ArchiveError,
    Progress,
    SkippedEntry,
    _decode,
    _no_progress,
    _private_file,
    _unreadable,
    untracked,
)
from vaultcache.models import CachedRequest, CachedResponse

if TYPE_CHECKING:
    from vaultcache.cache import BaseCache

__all__ = ["WarcReport", "export_warc"]


@attrs.define
class WarcReport:
    """What :func:`export_warc` wrote, and the entries it could not read.

    ``records`` counts the cached responses exported, ``revisits`` those of them written as
    revisit records; ``redirects`` and ``requests`` count the redirect hops' response
    records and the request records.
    """

    path: Path
    records: int = 0
    unreadable: tuple[SkippedEntry, ...] = ()
    revisits: int = 0
    redirects: int = 0
    requests: int = 0


#: Headers that describe the encoding on the wire: the stored body is decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
#: WARC/1.1 §6.7.2: a revisit record whose payload is identical to an earlier record's.
IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def export_warc(
    cache: BaseCache,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> WarcReport:
    """Write every readable response, DECRYPTED, as WARC/1.1 records (mode 0600).

    A name ending in ``.gz`` gets one gzip member per record (``.warc.gz``). The file holds
    plaintext: treat it as you would the responses themselves.
    """
    path = Path(path)
    report = WarcReport(path=path)
    unreadable: list[SkippedEntry] = []
    try:
        with untracked(cache.storage), _private_file(path, force=force) as out:
            writer = _Writer(out, report, compress=path.suffix == ".gz")
            writer.put(_warcinfo_record(writer.info_id, path.name))
            keys = list(cache.storage)
            for key in (progress or _no_progress)(keys, len(keys), "export warc"):
                data = cache.storage.get(key)
                if data is None:
                    continue
                response = _decode(cache, key, data)
                if isinstance(response, str):
                    unreadable.append(_unreadable(key, data, response))
                    continue
                writer.exchange(response)
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {exc.strerror or exc}", path=path) from None
    report.unreadable = tuple(unreadable)
    return report


@attrs.frozen
class _Capture:
    """A response record's id, target URI and date (revisit records refer to all three)."""

    record_id: str
    target: str
    date: str


class _Writer:
    """Writes the records of one WARC file and remembers what it holds (one export)."""

    def __init__(self, out: IO[bytes], report: WarcReport, *, compress: bool) -> None:
        self.info_id = _record_id()
        self._out = out
        self._report = report
        self._compress = compress
        # Payload digest -> its first record: one small entry per distinct payload.
        self._payloads: dict[str, _Capture] = {}
        # Hops already written (target, date, block digest): the Vary and credential copies
        # of a response repeat its history, and a hop with the same bytes and date is the
        # same capture.
        self._hops: set[tuple[str, str, str]] = set()

    def put(self, record: bytes) -> None:
        """Append one record (its own gzip member when compressing)."""
        self._out.write(
            gzip.compress(record, compresslevel=6, mtime=0) if self._compress else record
        )

    def exchange(self, response: CachedResponse) -> None:
        """The records of one cached response: its redirect hops, then itself."""
        # One capture: every record of it carries the time the entry was stored.
        date = _warc_date(response.created_at)
        for hop in response.history:
            self._hop(hop, date)
        self._response(response, date)
        self._report.records += 1

    def _hop(self, hop: CachedResponse, date: str) -> None:
        target = _target(hop)
        head, body = _http_response(hop)
        seen = (target, date, _digest(head + body))
        if seen in self._hops:
            return
        self._hops.add(seen)
        capture = _Capture(_record_id(), target, date)
        self.put(self._response_record(capture, head, body))
        self._request(hop.request, capture)
        self._report.redirects += 1

    def _response(self, response: CachedResponse, date: str) -> None:
        capture = _Capture(_record_id(), _target(response), date)
        head, body = _http_response(response)
        payload = _digest(body)
        first = self._payloads.get(payload) if body else None
        if first is None:
            if body:  # an empty payload is not worth a reference
                self._payloads[payload] = capture
            self.put(self._response_record(capture, head, body))
        else:
            self.put(self._revisit_record(capture, head, payload, first))
            self._report.revisits += 1
        self._request(response.request, capture)

    def _request(self, request: CachedRequest, response: _Capture) -> None:
        if not request.url:
            return  # nothing to say what was asked
        block = _http_request(request)
        body = request.body or b""
        self.put(
            _record(
                [
                    ("WARC-Type", "request"),
                    ("WARC-Record-ID", _record_id()),
                    ("WARC-Warcinfo-ID", self.info_id),
                    ("WARC-Date", response.date),
                    ("WARC-Target-URI", request.url),
                    ("WARC-Concurrent-To", response.record_id),
                    ("Content-Type", "application/http;msgtype=request"),
                    ("WARC-Payload-Digest", _digest(body)),
                    ("WARC-Block-Digest", _digest(block)),
                ],
                block,
            )
        )
        self._report.requests += 1

    def _response_record(self, this: _Capture, head: bytes, body: bytes) -> bytes:
        block = head + body
        return _record(
            [
                ("WARC-Type", "response"),
                ("WARC-Record-ID", this.record_id),
                ("WARC-Warcinfo-ID", self.info_id),
                ("WARC-Date", this.date),
                ("WARC-Target-URI", this.target),
                ("Content-Type", "application/http;msgtype=response"),
                ("WARC-Payload-Digest", _digest(body)),
                ("WARC-Block-Digest", _digest(block)),
            ],
            block,
        )

    def _revisit_record(self, this: _Capture, head: bytes, payload: str, first: _Capture) -> bytes:
        # The block is the HTTP head only; the payload is the first record's (WARC/1.1 §6.7.2).
        return _record(
            [
                ("WARC-Type", "revisit"),
                ("WARC-Record-ID", this.record_id),
                ("WARC-Warcinfo-ID", self.info_id),
                ("WARC-Date", this.date),
                ("WARC-Target-URI", this.target),
                ("WARC-Profile", IDENTICAL_PAYLOAD),
                ("WARC-Refers-To", first.record_id),
                ("WARC-Refers-To-Target-URI", first.target),
                ("WARC-Refers-To-Date", first.date),
                ("Content-Type", "application/http;msgtype=response"),
                ("WARC-Payload-Digest", payload),
                ("WARC-Block-Digest", _digest(head)),
            ],
            head,
        )


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _digest(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(text: str) -> str:
    """A header value on one line, whatever it held."""
    return text.replace("\r", " ").replace("\n", " ")


def _target(response: CachedResponse) -> str:
    return response.url or response.request.url


def _record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    lines = ["WARC/1.1", *(f"{name}: {_line(value)}" for name, value in headers)]
    lines.append(f"Content-Length: {len(block)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def _http_head(start: str, fields: list[tuple[str, str]]) -> bytes:
    lines = [start, *(f"{_line(name)}: {_line(value)}" for name, value in fields)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _http_response(response: CachedResponse) -> tuple[bytes, bytes]:
    """The HTTP message's head and body: each header field on its own line, as received."""
    body = response.content or b""
    fields = [
        (name, value) for name, value in response.header_fields if name.lower() not in _WIRE_HEADERS
    ]
    fields.append(("Content-Length", str(len(body))))
    # RFC 9112 §4: the space before the reason stays when the reason is empty.
    status = f"HTTP/1.1 {response.status_code} {response.reason or ''}"
    return _http_head(status, fields), body


def _http_request(request: CachedRequest) -> bytes:
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    fields = list(request.headers.items())
    if "Host" not in request.headers and parts.netloc:
        fields.insert(0, ("Host", parts.netloc.rpartition("@")[2]))
    return _http_head(f"{request.method} {target} HTTP/1.1", fields) + (request.body or b"")


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
