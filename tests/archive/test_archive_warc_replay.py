"""A WARC export checked with the standard tools: warcio validates every record and digest,
and pywb replays every exported URL byte for byte.

The responses come from :class:`Site` on 127.0.0.1 (see conftest.py): a page and its assets,
a JSON API with ``Vary`` (stored twice, so exported once plus a revisit), a response to two
credentials (the same), a redirect, a gzip response and a response with two Set-Cookie fields.

pywb cannot be installed beside the test environment (every pywb from 2.8.4 on pins
``redis==2.10.6``; vaultcache-redis needs ``redis>=5.0``), so it runs in its own interpreter:
``VAULTCACHE_PYWB_PYTHON``, else ``.venv-pywb/bin/python`` at the repository root (what
.ci/run makes: ``pip install -e ".[replay]"``), else this one if it has pywb. Without any, the
replay test is skipped, and fails under CI.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.checker import Checker
from warcio.recordloader import ArcWarcRecord

import vaultcache.clock
from vaultcache import generate_key
from vaultcache.archive import WarcReport, export_warc
from vaultcache.archive.warc import IDENTICAL_PAYLOAD
from vaultcache.session import CachedSession

from .conftest import SITE, Site

ROOT = Path(__file__).resolve().parents[2]
REPLAY_SCRIPT = Path(__file__).with_name("pywb_replay.py")
#: Seconds pywb gets to index the file and answer every URL (it takes about two).
REPLAY_TIMEOUT = 120
#: When the responses were stored (the two of /account and /login a minute apart each).
CAPTURED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
COOKIES = [value for name, value in SITE["/login"][1] if name.lower() == "set-cookie"]

#: Every URL the export holds, and what the origin's response to it looked like.
URLS = [
    "/",
    "/style.css",
    "/app.js",
    "/logo.png",
    "/api/items?page=1",
    "/account",
    "/moved",
    "/landing",
    "/zipped",
    "/login",
]


def _body(path: str) -> bytes:
    """The body as requests gives it (the cache stores it decoded)."""
    _, fields, body = SITE[path]
    return gzip.decompress(body) if ("Content-Encoding", "gzip") in fields else body


class Exported:
    """The exported file, its report, and its records as warcio read them."""

    def __init__(self, path: Path, report: WarcReport) -> None:
        self.path = path
        self.report = report
        self.records: list[tuple[ArcWarcRecord, bytes]] = []
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                content = record.content_stream().read()
                self.records.append((record, content))

    def of_type(self, kind: str) -> list[tuple[ArcWarcRecord, bytes]]:
        return [(r, c) for r, c in self.records if r.rec_type == kind]

    def by_id(self) -> dict[str, ArcWarcRecord]:
        return {r.rec_headers.get_header("WARC-Record-ID"): r for r, _ in self.records}


@pytest.fixture(scope="module")
def exported(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    where = tmp_path_factory.mktemp("warc-replay")
    session = CachedSession(str(where / "cache"), serializer="zstd+aesgcm", keys=[generate_key()])
    now = [CAPTURED]
    patch = pytest.MonkeyPatch()
    patch.setattr(vaultcache.clock, "now", lambda: now[0])
    try:
        for path in ("/", "/style.css", "/app.js", "/logo.png", "/moved", "/zipped"):
            session.get(site.url(path), timeout=10).raise_for_status()
        # Vary: stored under the URL's key and its variant's: one payload, two entries.
        session.get(site.url("/api/items?page=1"), headers={"Accept": "application/json"})
        # Two credentials: two entries with the same payload.
        # A minute apart, so pywb replays bob's (the revisit) at its own time.
        for user in ("alice", "bob"):
            session.get(site.url("/account"), headers={"Authorization": f"Bearer {user}"})
            now[0] += timedelta(minutes=1)
        session.get(site.url("/login"), timeout=10)  # last: its cookies join later requests
        report = export_warc(session.cache, where / "site.warc.gz")
        yield Exported(where / "site.warc.gz", report)
    finally:
        patch.undo()
        session.close()


# -- warcio ----------------------------------------------------------------------------------


def test_warcio_check_passes_and_every_digest_is_verified(
    exported: Exported, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Checker(_Arguments([str(exported.path)])).process_all() == 0
    assert capsys.readouterr().out == ""
    counts = Counter(record.rec_type for record, _ in exported.records)
    assert counts == {"warcinfo": 1, "response": 10, "revisit": 2, "request": 12}
    report = exported.report
    assert (report.records, report.revisits, report.redirects, report.requests) == (11, 2, 1, 12)
    for record, _ in exported.records:
        if record.rec_type in {"response", "request"}:
            assert record.digest_checker.passed is True, record.rec_headers
    # A revisit's block is its HTTP head: warcio leaves it unchecked, so check it here.
    with exported.path.open("rb") as stream:
        for record in ArchiveIterator(stream, no_record_parse=True):
            block = record.content_stream().read()
            if record.rec_type == "revisit":
                assert block.startswith(b"HTTP/1.1 200 OK\r\n")
                assert block.endswith(b"\r\n\r\n")
                digest = base64.b32encode(hashlib.sha256(block).digest()).decode()
                assert record.rec_headers.get_header("WARC-Block-Digest") == f"sha256:{digest}"


def test_each_request_record_is_concurrent_to_its_response(exported: Exported) -> None:
    records = exported.by_id()
    for request, content in exported.of_type("request"):
        response = records[request.rec_headers.get_header("WARC-Concurrent-To")]
        assert response.rec_type in {"response", "revisit"}
        target = request.rec_headers.get_header("WARC-Target-URI")
        assert response.rec_headers.get_header("WARC-Target-URI") == target
        assert request.rec_headers.get_header("WARC-Date") == response.rec_headers.get_header(
            "WARC-Date"
        )
        assert (request.http_headers.protocol, content) == ("GET", b"")
        assert request.http_headers.get_header("Host") == target.split("/")[2]
    credentials = [
        r.http_headers.get_header("Authorization")
        for r, _ in exported.of_type("request")
        if r.rec_headers.get_header("WARC-Target-URI").endswith("/account")
    ]
    assert credentials == ["REDACTED", "REDACTED"]  # as stored: never the credential
    assert b"Bearer" not in gzip.decompress(exported.path.read_bytes())


def test_copies_of_one_payload_are_revisits_of_the_first(exported: Exported) -> None:
    records = exported.by_id()
    revisited = []
    for revisit, content in exported.of_type("revisit"):
        headers = revisit.rec_headers
        assert headers.get_header("WARC-Profile") == IDENTICAL_PAYLOAD
        assert content == b""  # the HTTP head only
        first = records[headers.get_header("WARC-Refers-To")]
        assert first.rec_type == "response"
        for mine, theirs in [
            ("WARC-Payload-Digest", "WARC-Payload-Digest"),
            ("WARC-Refers-To-Target-URI", "WARC-Target-URI"),
            ("WARC-Refers-To-Date", "WARC-Date"),
        ]:
            assert headers.get_header(mine) == first.rec_headers.get_header(theirs)
        revisited.append(headers.get_header("WARC-Target-URI").split("/", 3)[3])
    assert sorted(revisited) == ["account", "api/items?page=1"]


def test_the_redirect_hop_comes_first_with_its_status_and_location(exported: Exported) -> None:
    targets = [
        (r.rec_headers.get_header("WARC-Target-URI").split("/", 3)[3], r)
        for r, _ in exported.of_type("response")
    ]
    names = [name for name, _ in targets]
    hop = dict(targets)["moved"]
    assert names.index("moved") + 1 == names.index("landing")  # the hop, then where it led
    assert hop.http_headers.get_statuscode() == "302"
    assert hop.http_headers.get_header("Location") == "/landing"


def test_repeated_fields_are_one_line_each_and_bodies_decoded(exported: Exported) -> None:
    responses = {
        r.rec_headers.get_header("WARC-Target-URI").split("/", 3)[3]: (r, c)
        for r, c in exported.of_type("response")
    }
    login, _ = responses["login"]
    # As sent: one line each, in order, names as they were.
    assert login.http_headers.headers[2:6] == SITE["/login"][1]
    zipped, body = responses["zipped"]
    assert body == _body("/zipped")
    assert zipped.http_headers.get_header("Content-Encoding") is None
    assert zipped.http_headers.get_header("Content-Length") == str(len(body))
    for path in URLS:
        if path not in {"/api/items?page=1", "/account"}:  # maybe revisits, checked above
            assert responses[path.lstrip("/")][1] == _body(path)


class _Arguments:
    """What warcio's command line would give its Checker."""

    def __init__(self, inputs: list[str]) -> None:
        self.inputs = inputs
        self.verbose = False


# -- pywb ------------------------------------------------------------------------------------


def _pywb_python() -> str | None:
    configured = os.environ.get("VAULTCACHE_PYWB_PYTHON")
    candidates = (
        [configured] if configured else [str(ROOT / ".venv-pywb/bin/python"), sys.executable]
    )
    for candidate in candidates:
        if not Path(candidate).exists():
            continue
        probe = [
            candidate,
            "-c",
            "import importlib.util as u, sys; sys.exit(not u.find_spec('pywb'))",
        ]
        if subprocess.run(probe, check=False, timeout=60).returncode == 0:
            return candidate
    return None


def _replay(python: str, exported: Exported, work: Path) -> list[dict[str, Any]]:
    captures = {
        (r.rec_headers.get_header("WARC-Target-URI"), r.rec_headers.get_header("WARC-Date"))
        for r, _ in exported.records
        if r.rec_type in {"response", "revisit"}
    }
    asked = [
        {"url": url, "timestamp": "".join(ch for ch in date if ch.isdigit())}
        for url, date in sorted(captures)
    ]
    done = subprocess.run(
        [python, str(REPLAY_SCRIPT), str(work), str(exported.path)],
        input=json.dumps(asked),
        capture_output=True,
        text=True,
        timeout=REPLAY_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    replies = json.loads((work / "replies.json").read_text(encoding="utf-8"))
    return [{**reply, **one} for one, reply in zip(asked, replies, strict=True)]


def test_pywb_replays_every_url_byte_for_byte(
    exported: Exported, site: Site, tmp_path: Path
) -> None:
    python = _pywb_python()
    if python is None:
        message = "pywb not found: set VAULTCACHE_PYWB_PYTHON or make .venv-pywb (see .ci/run)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    every = _replay(python, exported, tmp_path)
    # Each capture of each URL: the two credentials' entries of /account are a minute apart.
    assert sorted(reply["url"] for reply in every) == sorted(
        [*(site.url(path) for path in URLS), site.url("/account")]
    )
    for reply in every:
        path = reply["url"].removeprefix(site.base_url)
        status, fields, _ = SITE[path]
        assert (path, reply["status"]) == (path, status)
        assert base64.b64decode(reply["body"]) == _body(path), path
        headers = [(name.lower(), value) for name, value in reply["headers"]]
        # The capture asked for, not another: a revisit is replayed as itself.
        served = parsedate_to_datetime(dict(headers)["memento-datetime"])
        assert served.strftime("%Y%m%d%H%M%S") == reply["timestamp"]
        content_type = dict(fields).get("Content-Type")
        if content_type:
            assert ("content-type", content_type) in headers, path
    replies = {reply["url"]: reply for reply in every}
    moved = {n.lower(): v for n, v in replies[site.url("/moved")]["headers"]}
    assert moved["location"] == "/landing"  # identity mode: as archived, not rewritten
    login = replies[site.url("/login")]["headers"]
    assert [value for name, value in login if name.lower() == "set-cookie"] == COOKIES
