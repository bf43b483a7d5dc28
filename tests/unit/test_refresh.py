"""Background refreshes (stale-while-revalidate): one per cache key at a time, failures
logged by type only."""

from __future__ import annotations

import logging
import threading

import pytest

from vaultcache.refresh import Refresher


def test_one_refresh_per_key_at_a_time() -> None:
    refresher = Refresher()
    release = threading.Event()
    calls: list[str] = []

    def slow(name: str) -> None:
        calls.append(name)
        release.wait(10)

    refresher.submit("k", lambda: slow("first"))
    refresher.submit("k", lambda: slow("second"))  # dropped: "k" is being refreshed
    refresher.submit("other", lambda: slow("other"))
    release.set()
    refresher.shutdown()
    assert sorted(calls) == ["first", "other"]
    refresher.submit("k", lambda: calls.append("again"))  # done: may run again
    refresher.shutdown()
    assert calls[-1] == "again"


def test_a_failed_refresh_is_logged_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    refresher = Refresher()

    def fail() -> None:
        raise ValueError("https://user:secret@example.org/")

    with caplog.at_level(logging.WARNING, logger="vaultcache.refresh"):
        refresher.submit("k", fail)
        refresher.shutdown()
    assert "background refresh of k failed: ValueError" in caplog.text
    assert "secret" not in caplog.text
