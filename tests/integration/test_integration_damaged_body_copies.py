"""A stored body that turns out damaged while the session copies it is a failed write, logged.

The session stores a response it read from the cache again when it merges a 304, moves an
entry written under an older key, or gives a Vary variant its own key. Its body then comes
from the store, chunk by chunk; a chunk that has gone missing meanwhile (evicted, deleted by
another process) must end that write as any other failed write does, never reach the caller.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vaultcache import CachedResponse, CachedSession, generate_key
from vaultcache.entries import chunk_keys

URL = "https://example.org/big"


def _session_with_a_chunked_entry(tmp_path: Path) -> CachedSession:
    session = CachedSession(str(tmp_path / "cache"), keys=[generate_key()])
    body = bytes(range(256)) * (10 * 1024)  # 2.5 MiB: three chunks
    session.cache.save_response(CachedResponse(url=URL, content=body, cache_key="big"))
    return session


@pytest.mark.parametrize("copy_to", ["big", "elsewhere"])
@pytest.mark.parametrize("missing", [0, 2])
def test_a_chunk_missing_while_the_session_copies_a_body_is_a_logged_failed_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, copy_to: str, missing: int
) -> None:
    with _session_with_a_chunked_entry(tmp_path) as session:
        chunks = session.cache.chunk_storage
        assert chunks is not None
        cached = session.cache.get_response("big")
        assert cached is not None
        assert not cached.body_loaded
        del chunks[chunk_keys("big", session.cache.storage["big"])[missing]]
        before = sorted(chunks)
        cached.cache_key = copy_to

        with caplog.at_level(logging.WARNING, logger="vaultcache"):
            session._access.write(session.cache.save_response, cached)

        assert "cache write failed, response not stored" in caplog.text
        if copy_to != "big":
            assert copy_to not in session.cache.storage
        assert set(chunks) <= set(before)  # nothing of the failed copy left behind


def _second_entry(session: CachedSession) -> bytes:
    body = b"small and whole"
    url = "https://example.org/small"
    session.cache.save_response(CachedResponse(url=url, content=body, cache_key="small"))
    return body


def test_reset_expiration_goes_past_a_body_with_a_missing_chunk(tmp_path: Path) -> None:
    with _session_with_a_chunked_entry(tmp_path) as session:
        chunks = session.cache.chunk_storage
        assert chunks is not None
        _second_entry(session)
        del chunks[chunk_keys("big", session.cache.storage["big"])[1]]

        count = session.cache.reset_expiration(60)

        assert count == 1
        small = session.cache.get_response("small")
        assert small is not None
        assert small.expires is not None


def test_recreate_keys_leaves_an_entry_whose_body_has_a_missing_chunk(tmp_path: Path) -> None:
    # "big" and "small" are keys of their own, not the ones the key function gives.
    with _session_with_a_chunked_entry(tmp_path) as session:
        chunks = session.cache.chunk_storage
        assert chunks is not None
        body = _second_entry(session)
        head = session.cache.storage["big"]
        del chunks[chunk_keys("big", head)[1]]

        report = session.cache.recreate_keys()

        assert (report.moved, report.skipped) == (1, 1)
        assert session.cache.storage.get("big") == head  # left where it was
        (moved,) = set(session.cache.storage) - {"big"}
        assert moved != "small"
        response = session.cache.get_response(moved)
        assert response is not None
        assert response.content == body
