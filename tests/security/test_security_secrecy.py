"""Keys and plaintext never appear in logs, exception messages or reprs.

A full session run at DEBUG level (every logger) with tampered, moved, foreign and damaged
entries; then every forbidden string is searched for in the captured log, in the messages
of every error raised along the way, and in the reprs of the objects that hold keys.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from security_support import BODY_MARKER, flip

from vaultcache import CachedSession, EntryError, KeyRing, KeyRingError, generate_key
from vaultcache.crypto_keys import Key
from vaultcache.errors import SpecError
from vaultcache.serializers import build_pipeline

TOKEN = "bearer-token-9c2d"
PURPOSES = ("aesgcm", "fernet", "signed", "cache-key")


def _forbidden(key_text: str) -> list[str]:
    """Every form of `key_text` and of its subkeys a leak could take, and the markers."""
    secret = base64.urlsafe_b64decode(key_text)
    key = Key.from_text(key_text)
    raw = [secret, *(key.subkey(purpose) for purpose in PURPOSES)]
    forms = [key_text, key_text.rstrip("=")]
    for value in raw:
        forms += [
            value.hex(),
            base64.b64encode(value).decode().rstrip("="),
            base64.urlsafe_b64encode(value).decode().rstrip("="),
            repr(value)[2:-1],
        ]
    return [*forms, BODY_MARKER, TOKEN]


def _run_everything(make_session: Any, origin: Any, key: str, cache_path: str) -> list[str]:
    """A session run with every kind of bad entry; returns the error messages met."""
    messages: list[str] = []
    session = make_session(serializer="signed+zstd+fernet")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    urls = [origin.url(f"/secrecy/{n}") for n in range(4)]
    keys = [session.get(url, headers=auth).cache_key for url in urls]
    session.get(urls[0], headers=auth)  # a hit

    stored = session.cache.storage[keys[0]]
    session.cache.storage[keys[0]] = flip(stored, len(stored) // 2)  # tampered
    session.cache.storage[keys[1]] = session.cache.storage[keys[2]]  # moved
    with closing(sqlite3.connect(cache_path + ".sqlite")) as db, db:  # not a blob
        db.execute("UPDATE responses SET value = 'x' WHERE key = ?", (keys[3],))
    for url in urls:
        session.get(url, headers=auth)

    for spec, ring in (("signed+zstd+fernet", [generate_key()]), ("zstd+aesgcm", [key])):
        other = build_pipeline(spec, keys=ring)
        for data in (stored, stored[:-3], flip(stored, 0), b"garbage"):
            with pytest.raises(EntryError) as caught:
                other.loads(data)
            messages.append(str(caught.value))
    for bad in (key[:-2], key + "AA", "not a key " + key):
        with pytest.raises(KeyRingError) as failed:
            KeyRing([bad])
        messages.append(str(failed.value))
    retired = make_session(cache_name=cache_path, keys=[generate_key()])
    for url in urls:
        retired.get(url, headers=auth)
    return messages


def test_no_key_or_plaintext_in_logs_errors_or_reprs(
    make_session: Any,
    origin: Any,
    key: str,
    cache_path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Attack: read logs, error reports and debug output to recover keys or cached data."""
    with caplog.at_level(logging.DEBUG):
        messages = _run_everything(make_session, origin, key, cache_path)
    session = make_session(serializer="signed+zstd+fernet")
    pipeline = session.cache.serializer
    reprs = [repr(session.key_ring), repr(pipeline), *map(repr, pipeline.stages)]
    reprs += [repr(Key.from_text(key)), str(Key.from_text(key)), repr(session.cache)]

    assert "discarded" in caplog.text  # the run did log what it discarded
    haystacks = {"log": caplog.text, "errors": "\n".join(messages), "reprs": "\n".join(reprs)}
    for where, text in haystacks.items():
        for secret in _forbidden(key):
            assert secret not in text, f"{where} holds {secret!r}"


@pytest.mark.parametrize("position", ["serializer", "spec"])
def test_a_key_passed_as_the_serializer_is_not_echoed(
    tmp_path: Path, key: str, position: str
) -> None:
    """Careless user: ``CachedSession(path, "sqlite", key)`` puts the key where the spec goes;
    the error must say so without quoting it (in any case: names are lowercased)."""

    def attempt() -> None:
        if position == "serializer":
            CachedSession(str(tmp_path / "cache"), "sqlite", key)
        else:
            build_pipeline(f"zstd+{key}")

    with pytest.raises(SpecError) as caught:
        attempt()

    text = f"{caught.value} {caught.value.spec} {caught.value.reason} {caught.value!r}"
    assert key not in text
    assert key.lower() not in text
    assert key[:20].lower() not in text.lower()
    assert "looks like a key" in str(caught.value)
