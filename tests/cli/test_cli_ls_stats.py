"""``vaultcache ls`` and ``vaultcache stats``: listings that never change the cache."""

from __future__ import annotations

from typing import Any

from vaultcache import generate_key
from vaultcache.entries import peek_key_id


def test_ls_lists_every_entry_as_text_and_json(cache: Any, cli: Any) -> None:
    text = cli("ls", "--cache", cache.name)
    listing = cli("ls", "--json", "--cache", cache.name)

    assert text.status == 0, text.stderr
    lines = text.out.splitlines()
    header = ["METHOD", "URL", "STATUS", "STORED", "CREATED", "EXPIRES", "SPEC", "KEY", "ID"]
    assert lines[0].split() == header
    assert len(lines) == 1 + cache.entries
    assert any(cache.urls["missing"] in line and " 404 " in line for line in lines)
    assert any(cache.urls["old"] in line and "(expired)" in line for line in lines)
    assert cache.marker not in text.out

    assert listing.status == 0
    document = listing.json()
    assert document["unreadable"] == []
    entries = {entry["url"]: entry for entry in document["entries"]}
    assert set(entries) == set(cache.urls.values())
    one = entries[cache.urls["one"]]
    raw = cache.raw()[one["key"]]
    assert one["status"] == 200
    assert one["method"] == "GET"
    assert one["stored_bytes"] == len(raw)
    assert one["body_bytes"] > 0
    assert one["created"].endswith("Z")
    assert one["expires"] > one["created"]
    assert one["expired"] is False
    assert one["key_id"] == peek_key_id(raw)
    assert one["spec"] == "msgpack+zstd+aesgcm"
    assert entries[cache.urls["old"]]["expired"] is True
    assert entries[cache.urls["binary"]]["body_bytes"] == 1024


def test_ls_filters(cache: Any, cli: Any) -> None:
    def urls(*args: str) -> set[str]:
        result = cli("ls", "--json", "--cache", cache.name, *args)
        assert result.status == 0, result.stderr
        return {entry["url"] for entry in result.json()["entries"]}

    everything = set(cache.urls.values())
    assert urls("--url", "*/data/*") == {cache.urls[n] for n in ("one", "two", "three", "old")}
    assert urls("--expired") == {cache.urls["old"]}
    assert urls("--fresh") == everything - {cache.urls["old"]}
    assert urls("--older-than", "30d") == {cache.urls["old"]}
    assert urls("--older-than", "41d") == set()
    assert urls("--fresh", "--url", "*/data/t*") == {cache.urls["two"], cache.urls["three"]}


def test_ls_reports_unreadable_entries_and_changes_nothing(cache: Any, cli: Any) -> None:
    corrupted = cache.corrupt("one", "three")
    before = cache.raw()

    text = cli("ls", "--cache", cache.name)
    listing = cli("ls", "--json", "--cache", cache.name)
    filtered = cli("ls", "--json", "--url", "*", "--cache", cache.name)

    assert text.status == listing.status == filtered.status == 0
    assert "2 unreadable entries" in text.out
    assert all(key in text.out for key in corrupted)
    document = listing.json()
    assert len(document["entries"]) == cache.entries - 2
    assert {e["key"] for e in document["unreadable"]} == set(corrupted)
    assert all(e["error"].startswith("IntegrityError") for e in document["unreadable"])
    assert len(filtered.json()["entries"]) == cache.entries - 2
    assert "not shown: 2 unreadable entries" in filtered.stderr
    assert cache.raw() == before  # nothing deleted or rewritten


def test_ls_with_a_wrong_key_shows_every_entry_unreadable(cache: Any, cli: Any) -> None:
    result = cli("ls", "--json", "--cache", cache.name, keys=generate_key())

    assert result.status == 0
    document = result.json()
    assert document["entries"] == []
    assert len(document["unreadable"]) == cache.entries
    assert {e["outcome"] for e in document["unreadable"]} == {"unknown key"}
    assert all("not in your key ring" in e["error"] for e in document["unreadable"])
    assert len(cache.raw()) == cache.entries


def test_ls_bad_duration_is_one_line(cache: Any, cli: Any) -> None:
    cli("ls", "--older-than", "soon", "--cache", cache.name).assert_error(2, "--older-than")
    cli("ls", "--older-than", "never", "--cache", cache.name).assert_error(2, "30d")


def test_stats_text_and_json(cache: Any, cli: Any) -> None:
    cache.corrupt("two")
    text = cli("stats", "--cache", cache.name)
    report = cli("stats", "--json", "--cache", cache.name)

    assert text.status == report.status == 0, text.stderr
    document = report.json()
    raw = cache.raw()
    key_id = peek_key_id(next(iter(raw.values())))
    assert document == {
        "location": cache.name + ".sqlite",
        "backend": "sqlite",
        "serializer": "msgpack+zstd+aesgcm",
        "entries": cache.entries,
        "redirects": 2,
        "stored_bytes": sum(len(v) for v in raw.values()),
        "expired": 1,
        "unreadable": 1,
        "by_status": {"200": cache.entries - 2, "404": 1},
        "by_key_id": {key_id: cache.entries},
        "by_spec": {"msgpack+zstd+aesgcm": cache.entries},
    }
    assert f"{key_id} (primary): {cache.entries}" in text.out
    assert f"{cache.entries} (1 expired, 1 unreadable)" in text.out
    assert cache.marker not in text.out


def test_ls_and_stats_on_a_filesystem_cache_via_config(fs_cache: Any, cli: Any) -> None:
    listing = cli("ls", "--json", "--config", "fs.toml")
    report = cli("stats", "--json", "--config", "fs.toml")

    assert listing.status == report.status == 0, listing.stderr
    assert len(listing.json()["entries"]) == fs_cache.entries
    assert report.json()["backend"] == "filesystem"
    assert report.json()["location"] == fs_cache.name
    assert report.json()["redirects"] == 2
