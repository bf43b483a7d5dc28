"""``vaultcache keys list``: key ids and how many entries each wrote, never key material."""

from __future__ import annotations

from typing import Any

from vaultcache import generate_key
from vaultcache.crypto_keys import Key
from vaultcache.session import CachedSession


def test_keys_list_counts_entries_per_key(cache: Any, cli: Any, origin: Any) -> None:
    new = generate_key()
    old_id, new_id = Key.from_text(cache.key).hex_id, Key.from_text(new).hex_id
    rotated = CachedSession(cache.name, keys=[new, cache.key])
    rotated.get(origin.url("/data/written-by-new-key"), timeout=10)
    rotated.close()
    plain = CachedSession(cache.name, serializer="json")
    plain.get(origin.url("/data/not-encrypted"), timeout=10)
    plain.close()

    report = cli("keys", "list", "--json", "--cache", cache.name, keys=f"{new},{cache.key}")
    text = cli("keys", "list", "--cache", cache.name, keys=f"{new},{cache.key}")
    only_new = cli("keys", "list", "--json", "--cache", cache.name, keys=new)

    assert report.status == text.status == only_new.status == 0, report.stderr
    assert report.json() == {
        "keys": [
            {"id": new_id, "primary": True, "entries": 1},
            {"id": old_id, "primary": False, "entries": cache.entries},
        ],
        "unknown_keys": [],
        "unsigned_entries": 1,
        "old_format_entries": 0,
    }
    lines = text.out.splitlines()
    assert lines[1].split() == [new_id, "primary", "1"]
    assert lines[2].split() == [old_id, "read", "only", str(cache.entries)]
    assert lines[3].split() == ["-", "not", "signed", "or", "encrypted", "1"]
    assert only_new.json()["unknown_keys"] == [{"id": old_id, "entries": cache.entries}]
    for result in (report, text, only_new):
        assert new not in result.out + result.stderr
        assert cache.key not in result.out + result.stderr


def test_keys_list_text_marks_unknown_keys(cache: Any, cli: Any) -> None:
    result = cli("keys", "list", "--cache", cache.name, keys=generate_key())

    assert result.status == 0
    assert f"unknown key (cannot be read)  {cache.entries}" in result.out


def test_keys_list_and_stats_tell_old_format_entries_from_unsigned_ones(
    cache: Any, cli: Any
) -> None:
    # An entry of format 1 (encrypted, but its header records no key id this version reads).
    session = cache.session()
    session.cache.storage["format-1-entry"] = b"\x01" + b"\x00" * 8 + b"ciphertext"
    session.close()

    report = cli("keys", "list", "--json", "--cache", cache.name, keys=cache.key)
    text = cli("keys", "list", "--cache", cache.name, keys=cache.key)
    stats = cli("stats", "--json", "--cache", cache.name, keys=cache.key)

    assert report.status == text.status == stats.status == 0, report.stderr
    assert (report.json()["unsigned_entries"], report.json()["old_format_entries"]) == (0, 1)
    assert "not signed" not in text.out
    assert "older entry format (key id not recorded)  1" in text.out
    assert stats.json()["by_key_id"]["no header (old format)"] == 1
    assert "none" not in stats.json()["by_key_id"]
