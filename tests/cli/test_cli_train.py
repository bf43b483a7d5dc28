"""``vaultcache train``: a dictionary trained from stored bodies, used by new entries."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from vaultcache.entries import parse_header


def test_train_makes_new_entries_use_a_dictionary(cache: Any, cli: Any, origin: Any) -> None:
    session = cache.session()
    for index in range(30):
        session.get(origin.url(f"/data/item-{index}"), timeout=10)
    session.close()

    trained = cli("train", "--cache", cache.name, "--size", "2048", "--json")
    assert trained.status == 0, trained.stderr
    dictionary_id = trained.json()["dictionary"]
    assert trained.json()["samples"] >= 30
    session = cache.session()
    response = session.get(origin.url("/data/after-training"), timeout=10)
    head = session.cache.storage[response.cache_key]
    session.close()
    listed = cli("train", "--list", "--cache", cache.name, "--json")
    text = cli("train", "--list", "--cache", cache.name)

    assert f"zstd(dict={dictionary_id})" in parse_header(head)[0].spec
    assert listed.json() == {
        "dictionaries": [{"id": dictionary_id, "current": True, "entries": 1, "stored": True}]
    }
    assert text.out.splitlines()[1].split() == [dictionary_id, "1", "current"]
    assert cache.marker not in trained.out + text.out


def test_train_refuses_a_cache_with_too_few_bodies(cache: Any, cli: Any) -> None:
    result = cli("train", "--cache", cache.name)

    result.assert_error(2, "at least 8")


def test_verify_reports_entries_of_a_damaged_dictionary_as_kept(
    cache: Any, cli: Any, origin: Any
) -> None:
    session = cache.session()
    for index in range(30):
        session.get(origin.url(f"/data/item-{index}"), timeout=10)
    session.close()
    dictionary_id = cli("train", "--cache", cache.name, "--size", "2048", "--json").json()[
        "dictionary"
    ]
    session = cache.session()
    session.get(origin.url("/data/after-training"), timeout=10)
    stored_key = f"dictionary/{dictionary_id}"
    stored = session.cache.chunk_storage[stored_key]
    session.cache.chunk_storage[stored_key] = stored[:-1] + bytes([stored[-1] ^ 1])
    session.close()

    report = cli("verify", "--json", "--cache", cache.name)

    assert report.status == 0, report.stderr  # kept, not tampered: only tampering fails verify
    document = report.json()
    assert document["outcomes"]["damaged dictionary"] == 1
    assert document["kept"] == 1
    assert cache.marker not in report.out


def _train(cache: Any, cli: Any) -> str:
    trained = cli("train", "--cache", cache.name, "--size", "2048", "--json")
    assert trained.status == 0, trained.stderr
    return str(trained.json()["dictionary"])


def test_prune_deletes_only_dictionaries_no_entry_names(cache: Any, cli: Any, origin: Any) -> None:
    session = cache.session()
    for index in range(30):
        session.get(origin.url(f"/data/item-{index}"), timeout=10)
    session.close()
    first = _train(cache, cli)
    session = cache.session()
    session.get(origin.url("/data/with-the-first"), timeout=10)
    session.close()
    unused = _train(cache, cli)  # current, then replaced before any entry named it
    current = _train(cache, cli)

    held = cli("train", "--prune", "--cache", cache.name)
    session = cache.session()
    # The dictionaries were stored two hours ago, as far as the grace is concerned.
    storage = session.cache.chunk_storage
    with closing(sqlite3.connect(storage.path)) as conn, conn:
        conn.execute("UPDATE chunks SET created = created - 7200 WHERE key LIKE 'dictionary/%'")
    session.close()
    pruned = cli("train", "--prune", "--json", "--cache", cache.name)
    listed = cli("train", "--list", "--json", "--cache", cache.name)

    assert held.status == 0, held.stderr
    assert "no dictionary deleted: the current dictionary was trained less than" in held.out
    assert pruned.status == 0, pruned.stderr
    assert pruned.json() == {
        "deleted": [unused],
        "kept": sorted([first, current]),
        "held_back": None,
    }
    assert {row["id"] for row in listed.json()["dictionaries"]} == {first, current}
    assert cli("train", "--list", "--prune", "--cache", cache.name).status == 2
