"""``vaultcache verify``, ``purge`` and ``vacuum``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vaultcache import generate_key


def test_verify_passes_on_an_intact_cache(cache: Any, cli: Any) -> None:
    text = cli("verify", "--cache", cache.name)
    report = cli("verify", "--json", "--cache", cache.name)

    assert text.status == report.status == 0, text.stderr
    assert text.out.strip() == f"checked {cache.entries} entries: {cache.entries} ok"
    document = report.json()
    assert (document["checked"], document["ok"], document["bad"]) == (cache.entries, 6, [])
    assert document["outcomes"] == {
        "ok": 6,
        "tampered": 0,
        "unknown key": 0,
        "missing stage": 0,
        "refused spec": 0,
        "old format": 0,
        "missing dictionary": 0,
        "damaged dictionary": 0,
        "too large": 0,
    }


def test_verify_reports_corrupt_entries_and_deletes_them(cache: Any, cli: Any) -> None:
    corrupted = cache.corrupt("one", "three")

    report = cli("verify", "--json", "--cache", cache.name)
    text = cli("verify", "--cache", cache.name)
    deleting = cli("verify", "--delete", "--cache", cache.name)
    after = cli("verify", "--cache", cache.name)

    assert report.status == text.status == 1
    bad = report.json()["bad"]
    assert {entry["key"] for entry in bad} == set(corrupted)
    assert all(entry["error"] == "IntegrityError at stage 'aesgcm'" for entry in bad)
    assert all(entry["outcome"] == "tampered" for entry in bad)
    assert all(key in text.out for key in corrupted)
    assert "4 ok, 2 tampered" in text.out
    assert cache.marker not in text.out + report.out
    assert deleting.status == 1  # bad entries were found, even though they are gone now
    assert "deleted 2 entries" in deleting.out
    assert after.status == 0
    assert set(cache.raw()).isdisjoint(corrupted)
    assert len(cache.raw()) == cache.entries - 2


def test_verify_catches_an_entry_moved_to_another_key(cache: Any, cli: Any) -> None:
    session = cache.session()
    storage = session.cache.storage
    first, second = sorted(storage)[:2]
    storage[first] = storage[second]  # authentic bytes, under the wrong key
    session.close()

    result = cli("verify", "--json", "--cache", cache.name)

    assert result.status == 1
    assert result.json()["bad"] == [
        {
            "key": first,
            "key_id": result.json()["bad"][0]["key_id"],
            "spec": "msgpack+zstd+aesgcm",
            "stored_bytes": len(cache.raw()[first]),
            "error": "entry belongs to another key",
            "outcome": "tampered",
        }
    ]


def test_verify_with_a_wrong_key_reports_all_and_keeps_them(cache: Any, cli: Any) -> None:
    wrong = generate_key()

    report = cli("verify", "--json", "--cache", cache.name, keys=wrong)
    keeping = cli("verify", "--delete", "--cache", cache.name, keys=wrong)

    # Nothing is tampered: the entries are readable with the right key, so exit status 0.
    assert report.status == keeping.status == 0
    document = report.json()
    assert document["ok"] == 0
    assert document["outcomes"]["unknown key"] == cache.entries
    assert len(document["bad"]) == cache.entries
    assert all(entry["outcome"] == "unknown key" for entry in document["bad"])
    assert "deleted 0 entries" in keeping.out
    assert f"kept {cache.entries} entries that another key, plugin or release" in keeping.out
    assert len(cache.raw()) == cache.entries

    removing = cli("verify", "--delete", "--delete-kept", "--cache", cache.name, keys=wrong)
    assert removing.status == 0
    assert f"deleted {cache.entries} entries" in removing.out
    assert cache.raw() == {}


def test_purge_needs_a_filter_and_a_valid_duration(cache: Any, cli: Any) -> None:
    cli("purge", "--cache", cache.name).assert_error(2, "at least one filter")
    cli("purge", "--older-than", "3 fortnights", "--cache", cache.name).assert_error(
        2, "'3 fortnights' is not a duration"
    )
    assert len(cache.raw()) == cache.entries


def test_purge_expired_with_dry_run_first(cache: Any, cli: Any) -> None:
    dry = cli("purge", "--expired", "--dry-run", "--cache", cache.name)
    real = cli("purge", "--expired", "--json", "--cache", cache.name)
    again = cli("purge", "--expired", "--cache", cache.name)

    assert dry.status == real.status == again.status == 0
    assert "would remove 1 entry" in dry.out
    assert cache.urls["old"] in dry.out
    document = real.json()
    assert document["removed"] == 1
    assert [entry["url"] for entry in document["matched"]] == [cache.urls["old"]]
    assert again.out.strip() == "removed 0 entries"
    urls = {cache.urls[n] for n in ("one", "two", "binary", "missing", "three")}
    session = cache.session()
    assert {response.url for response in session.cache.filter()} == urls
    session.close()


def test_purge_by_url_and_age(cache: Any, cli: Any) -> None:
    by_url = cli("purge", "--url", "*/data/t*", "--cache", cache.name)
    by_age = cli("purge", "--older-than", "30d", "--cache", cache.name)

    assert by_url.status == by_age.status == 0
    assert by_url.out.strip() == "removed 2 entries"
    assert by_age.out.strip() == "removed 1 entry"
    session = cache.session()
    remaining = {response.url for response in session.cache.filter()}
    redirects = len(session.cache.redirect_storage)
    session.close()
    assert remaining == {cache.urls[n] for n in ("one", "binary", "missing")}
    assert redirects == 0  # the redirect to "three" went with it


def test_purge_leaves_unreadable_entries_alone(cache: Any, cli: Any) -> None:
    result = cli("purge", "--url", "*", "--cache", cache.name, keys=generate_key())

    assert result.status == 0
    assert result.out.strip() == "removed 0 entries"
    assert f"left alone {cache.entries} unreadable entries" in result.stderr
    assert len(cache.raw()) == cache.entries


def test_vacuum_sqlite_and_filesystem(cache: Any, fs_cache: Any, cli: Any, tmp_path: Path) -> None:
    assert cli("purge", "--url", "*", "--cache", cache.name).status == 0

    sqlite = cli("vacuum", "--cache", cache.name)
    files = cli("vacuum", "--config", "fs.toml")

    assert sqlite.status == 0, sqlite.stderr
    assert sqlite.out.startswith(f"vacuumed {cache.name}.sqlite: ")
    assert files.status == 0, files.stderr
    assert files.out.startswith("nothing to vacuum: it frees an entry's space")
