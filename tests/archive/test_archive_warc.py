"""WARC export: decrypted responses as WARC/1.1 records, read back by a small reader.

test_archive_warc_replay.py checks the same kind of file with warcio and pywb.
"""

from __future__ import annotations

import base64
import hashlib
import re
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from vaultcache.archive import ArchiveError, export_warc
from vaultcache.session import CachedSession

SessionFactory = Callable[..., CachedSession]
Record = tuple[dict[str, str], bytes]


def read_warc(data: bytes) -> list[Record]:
    """Split WARC/1.1 records; check each one's framing on the way."""
    records = []
    position = 0
    while position < len(data):
        end = data.index(b"\r\n\r\n", position)
        lines = data[position:end].decode("utf-8").split("\r\n")
        assert lines[0] == "WARC/1.1"
        headers = dict(line.split(": ", 1) for line in lines[1:])
        assert len(headers) == len(lines) - 1, "a header appears twice"
        start = end + 4
        length = int(headers["Content-Length"])
        block = data[start : start + length]
        assert len(block) == length
        assert data[start + length : start + length + 4] == b"\r\n\r\n"
        position = start + length + 4
        records.append((headers, block))
    return records


def gzip_members(data: bytes) -> list[bytes]:
    """Each gzip member of a .warc.gz, decompressed separately."""
    members = []
    while data:
        decompressor = zlib.decompressobj(wbits=31)
        members.append(decompressor.decompress(data))
        assert decompressor.eof
        data = decompressor.unused_data
    return members


def sha256_label(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode()


def parse_http(block: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = block.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}, body


def _filled(
    make_session: SessionFactory, origin: Any, key: str
) -> tuple[CachedSession, dict[str, Any]]:
    session = make_session("warc", [key])
    paths = ["/page/warc-a", "/page/warc-zipped?gzip=1&size=3000", "/bin/warc-blob?size=9000"]
    originals = {}
    for path in paths:
        response = session.get(origin.url(path), timeout=10)
        originals[response.url] = response
    return session, originals


@pytest.mark.parametrize("name", ["out.warc", "out.warc.gz"])
def test_records_parse_back_with_correct_headers_and_digests(
    make_session: SessionFactory, origin: Any, tmp_path: Path, old_key: str, name: str
) -> None:
    session, originals = _filled(make_session, origin, old_key)
    path = tmp_path / name

    report = export_warc(session.cache, path)

    assert (report.records, report.unreadable) == (3, ())
    assert (report.requests, report.revisits, report.redirects) == (3, 0, 0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    if name.endswith(".gz"):
        members = gzip_members(raw)
        assert len(members) == 7  # one gzip member per record
        raw = b"".join(members)
    info, *records = read_warc(raw)
    requests = {h["WARC-Concurrent-To"]: (h, block) for h, block in records[1::2]}
    records = records[::2]  # each response is followed by its request
    assert info[0]["WARC-Type"] == "warcinfo"
    assert info[0]["Content-Type"] == "application/warc-fields"
    assert b"software: vaultcache/" in info[1]
    ids = {info[0]["WARC-Record-ID"]}
    seen = {}
    for headers, block in records:
        assert headers["WARC-Type"] == "response"
        assert headers["Content-Type"] == "application/http;msgtype=response"
        assert re.fullmatch(r"<urn:uuid:[0-9a-f-]{36}>", headers["WARC-Record-ID"])
        assert headers["WARC-Warcinfo-ID"] == info[0]["WARC-Record-ID"]
        ids.add(headers["WARC-Record-ID"])
        assert headers["WARC-Block-Digest"] == sha256_label(block)
        request, request_block = requests[headers["WARC-Record-ID"]]
        assert request["WARC-Type"] == "request"
        assert request["Content-Type"] == "application/http;msgtype=request"
        assert request["WARC-Target-URI"] == headers["WARC-Target-URI"]
        assert request["WARC-Block-Digest"] == sha256_label(request_block)
        assert request_block.startswith(b"GET /")
        ids.add(request["WARC-Record-ID"])
        status, http_headers, body = parse_http(block)
        assert headers["WARC-Payload-Digest"] == sha256_label(body)
        assert int(http_headers["content-length"]) == len(body)
        assert "content-encoding" not in http_headers  # the stored body is decoded
        original = originals[headers["WARC-Target-URI"]]
        assert status == f"HTTP/1.1 {original.status_code} {original.reason}"
        assert body == original.content
        assert http_headers["content-type"] == original.headers["Content-Type"]
        cached = session.cache.get_response(original.cache_key)
        assert headers["WARC-Date"] == cached.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        seen[headers["WARC-Target-URI"]] = body
    assert len(ids) == 7
    assert set(seen) == set(originals)


def test_unreadable_entries_are_reported_not_exported(
    make_session: SessionFactory, origin: Any, tmp_path: Path, old_key: str
) -> None:
    session, originals = _filled(make_session, origin, old_key)
    victim = next(iter(originals.values())).cache_key
    stored = bytearray(session.cache.storage[victim])
    stored[-3] ^= 0x10
    session.cache.storage[victim] = bytes(stored)

    report = export_warc(session.cache, tmp_path / "partial.warc")

    assert report.records == 2
    assert [entry.key for entry in report.unreadable] == [victim]
    assert victim in session.cache.storage  # export never deletes
    assert len(read_warc((tmp_path / "partial.warc").read_bytes())) == 5  # info, 2 x 2


def test_an_existing_file_is_refused(
    make_session: SessionFactory, tmp_path: Path, old_key: str
) -> None:
    target = tmp_path / "exists.warc"
    target.write_bytes(b"previous")
    with pytest.raises(ArchiveError, match="already exists"):
        export_warc(make_session("empty", [old_key]).cache, target)
    assert target.read_bytes() == b"previous"


def test_every_redirect_hop_is_a_response_record_before_the_final_one(
    make_session: SessionFactory, origin: Any, tmp_path: Path, old_key: str
) -> None:
    session = make_session("hops", [old_key])
    session.get(origin.url("/hop/chain"), timeout=10)  # /hop -> /redirect -> /page
    path = tmp_path / "hops.warc"

    report = export_warc(session.cache, path)

    assert (report.records, report.redirects, report.requests) == (1, 2, 3)
    _, *records = read_warc(path.read_bytes())
    kinds = [(h["WARC-Type"], h["WARC-Target-URI"]) for h, _ in records]
    assert kinds == [
        ("response", origin.url("/hop/chain")),
        ("request", origin.url("/hop/chain")),
        ("response", origin.url("/redirect/chain")),
        ("request", origin.url("/redirect/chain")),
        ("response", origin.url("/page/chain")),
        ("request", origin.url("/page/chain")),
    ]
    first, second = (parse_http(records[i][1]) for i in (0, 2))
    assert (first[0], first[1]["location"]) == ("HTTP/1.1 302 Found", "/redirect/chain")
    assert (second[0], second[1]["location"]) == ("HTTP/1.1 302 Found", "/page/chain")
    for index in (1, 3, 5):
        assert records[index][0]["WARC-Concurrent-To"] == records[index - 1][0]["WARC-Record-ID"]


def test_copies_of_an_entry_share_its_hops_and_payload(
    make_session: SessionFactory, origin: Any, tmp_path: Path, old_key: str
) -> None:
    session = make_session("copies", [old_key])
    stored = session.cache.get_response(
        session.get(origin.url("/redirect/copied"), timeout=10).cache_key
    )
    copy = attrs.evolve(stored, cache_key="f" * 32)  # as a Vary copy is stored
    session.cache.save_response(copy)
    path = tmp_path / "copies.warc"

    report = export_warc(session.cache, path)

    assert (report.records, report.revisits, report.redirects, report.requests) == (2, 1, 1, 3)
    _, *records = read_warc(path.read_bytes())
    assert [h["WARC-Type"] for h, _ in records] == [
        "response", "request", "response", "request", "revisit", "request",
    ]  # fmt: skip
    revisit, head = records[4]
    original = records[2][0]
    assert revisit["WARC-Refers-To"] == original["WARC-Record-ID"]
    assert revisit["WARC-Payload-Digest"] == original["WARC-Payload-Digest"]
    assert revisit["WARC-Block-Digest"] == sha256_label(head)
    assert head.endswith(b"\r\n\r\n")
    assert parse_http(head)[2] == b""
