"""``vaultcache get``: body to stdout, ``-i`` headers, cache modes, exit statuses."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any


def _split(stdout: bytes) -> tuple[list[str], bytes]:
    head, _, body = stdout.partition(b"\r\n\r\n")
    return head.decode("latin-1").split("\r\n"), body


def test_miss_then_hit_with_headers(origin: Any, cli: Any, tmp_path: Path) -> None:
    url = origin.url("/data/get-page")
    cache = str(tmp_path / "getcache")

    first = cli("get", "-i", url, "--cache", cache)
    second = cli("get", url, "--include", "--cache", cache)
    plain = cli("get", url, "--cache", cache)

    assert (first.status, second.status, plain.status) == (0, 0, 0), first.stderr
    head, body = _split(first.stdout)
    assert head[0] == "HTTP/1.1 200 OK"
    assert "X-Vaultcache: miss" in head
    assert "Content-Type: application/json" in head
    assert json.loads(body)["path"] == "/data/get-page"
    head, again = _split(second.stdout)
    assert "X-Vaultcache: hit" in head
    assert again == body
    assert plain.stdout == body  # no headers without -i
    assert origin.hits("/data/get-page") == 1
    # The pseudo header is only shown, never sent.
    assert not any("x-vaultcache" in {n.lower() for n in r} for r in origin.requests)
    assert (tmp_path / "getcache.sqlite").is_file()


def test_binary_body_is_written_byte_for_byte(origin: Any, cli: Any, tmp_path: Path) -> None:
    result = cli("get", origin.url("/binary"), "--cache", str(tmp_path / "bin"))

    assert result.status == 0
    assert result.stdout == origin.binary_body


def test_refresh_revalidates_and_force_refresh_refetches(
    origin: Any, cli: Any, tmp_path: Path
) -> None:
    url = origin.url("/data/get-refresh")
    cache = str(tmp_path / "refresh")
    assert cli("get", url, "--cache", cache).status == 0

    refreshed = cli("get", "-i", "--refresh", url, "--cache", cache)
    forced = cli("get", "-i", "--force-refresh", url, "--cache", cache)

    assert "X-Vaultcache: revalidated" in _split(refreshed.stdout)[0]
    assert json.loads(_split(refreshed.stdout)[1])["path"] == "/data/get-refresh"
    assert "X-Vaultcache: miss" in _split(forced.stdout)[0]
    assert origin.hits("/data/get-refresh") == 3
    assert origin.requests[-2].get("If-None-Match") == '"v1-/data/get-refresh"'
    conflicting = cli("get", "--refresh", "--only-if-cached", url, "--cache", cache)
    assert conflicting.status == 2  # argparse: not allowed together


def test_http_errors_exit_1_with_the_body(origin: Any, cli: Any, tmp_path: Path) -> None:
    result = cli("get", "-i", origin.url("/status/503"), "--cache", str(tmp_path / "c"))

    assert result.status == 1
    head, body = _split(result.stdout)
    assert head[0] == "HTTP/1.1 503 Service Unavailable"
    assert body == b"status 503"
    assert result.stderr == ""


def test_only_if_cached_miss_is_a_504_and_exit_1(origin: Any, cli: Any, tmp_path: Path) -> None:
    path = "/data/never-fetched"
    result = cli("get", "-i", "--only-if-cached", origin.url(path), "--cache", str(tmp_path / "c"))

    assert result.status == 1
    head, body = _split(result.stdout)
    assert head[0].startswith("HTTP/1.1 504")
    assert "X-Vaultcache: miss" in head
    assert body == b""
    assert origin.hits(path) == 0
    assert "not in the cache" in result.stderr


def test_only_if_cached_miss_says_so_without_include(origin: Any, cli: Any, tmp_path: Path) -> None:
    url = origin.url("/data/never-fetched-either")
    result = cli("get", "--only-if-cached", url, "--cache", str(tmp_path / "c"))

    assert result.status == 1
    assert result.stdout == b""
    assert result.stderr.splitlines() == [
        f"vaultcache: not in the cache: {url} (--only-if-cached: the origin was not contacted; "
        "answered 504)"
    ]


def test_network_error_is_one_line_exit_1(cli: Any, tmp_path: Path) -> None:
    with socket.socket() as unused:
        # Bound but not listening, for as long as the command runs: connections to it are
        # refused, and no other socket can take the port meanwhile (once closed, another
        # process could listen on it, or the command's own connection could get it as its
        # source port and connect to itself).
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        result = cli("get", f"http://127.0.0.1:{port}/x", "--cache", str(tmp_path / "c"))

    result.assert_error(1, f"could not connect to 127.0.0.1:{port}")
    assert result.stdout == b""


def test_bad_url_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    result = cli("get", "example.com/no-scheme", "--cache", str(tmp_path / "c"))

    result.assert_error(2, "http://")
    assert not (tmp_path / "c.sqlite").exists()


def test_rfc9111_makes_a_response_without_freshness_stale(
    origin: Any, cli: Any, tmp_path: Path
) -> None:
    """/data has an ETag and no Cache-Control: kept by default, revalidated under RFC 9111."""
    url = origin.url("/data/get-rfc9111")
    cache = str(tmp_path / "rfc9111")
    assert cli("get", url, "--cache", cache, "--rfc9111", "private").status == 0

    again = cli("get", "-i", url, "--cache", cache, "--rfc9111", "private")
    wrong = cli("get", url, "--cache", cache, "--rfc9111", "public")

    assert "X-Vaultcache: revalidated" in _split(again.stdout)[0]
    assert wrong.status == 2
    assert "--rfc9111" in wrong.stderr
