"""Retention: validation, when after_write counts and evicts, slack, age sweeps, BaseCache."""

from __future__ import annotations

import logging
import pickle
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from vaultcache.backends.base import BackendError, BaseStorage
from vaultcache.backends.filesystem import FileStorage
from vaultcache.backends.memory import MemoryStorage
from vaultcache.backends.sqlite import SQLiteStorage
from vaultcache.cache import BaseCache
from vaultcache.errors import ConfigError
from vaultcache.models import CachedResponse
from vaultcache.retention import Retention
from vaultcache.serializers import build_pipeline


class CountingStorage(MemoryStorage):
    """A MemoryStorage that counts evictions (each one is a full count of the store)."""

    def __init__(self) -> None:
        super().__init__()
        self.evictions = 0

    def evict(self, **options: Any) -> int:
        self.evictions += 1
        return super().evict(**options)


class FailingStorage(MemoryStorage):
    def evict(self, **options: Any) -> int:
        raise BackendError("locked for too long", backend="test")


def fill(storage: BaseStorage, retention: Retention, count: int, *, prefix: str = "key") -> None:
    for number in range(count):
        storage[f"{prefix}-{number}"] = b"value"
        retention.after_write(storage)


# -- validation ------------------------------------------------------------------------------


def test_defaults_keep_everything() -> None:
    retention = Retention()
    assert (retention.max_entries, retention.max_bytes, retention.max_age) == (None, None, None)
    assert not retention.bounded
    assert (retention.check_every, retention.slack) == (100, 0.01)


def test_good_values() -> None:
    retention = Retention(10, 2**40, timedelta(days=30), check_every=1, slack=0)
    assert retention.bounded
    assert retention.max_bytes == 2**40


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_entries", 0),
        ("max_entries", -1),
        ("max_entries", 1.5),
        ("max_entries", "10"),
        ("max_entries", True),
        ("max_bytes", 0),
        ("max_bytes", -100),
        ("max_bytes", 1e9),
        ("max_bytes", False),
        ("max_age", timedelta(0)),
        ("max_age", timedelta(seconds=-1)),
        ("max_age", 3600),
        ("max_age", "1h"),
        ("check_every", 0),
        ("check_every", None),
        ("slack", 1),
        ("slack", -0.1),
        ("slack", "0.1"),
        ("slack", True),
    ],
)
def test_bad_values_are_config_errors(field: str, value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        Retention(**{field: value})
    assert caught.value.key == f"retention.{field}"
    assert isinstance(caught.value, ValueError)


def test_is_frozen_hashable_and_picklable() -> None:
    retention = Retention(max_entries=5, max_age=timedelta(hours=1))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        retention.max_entries = 6  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(retention)) == retention
    assert hash(retention) == hash(Retention(max_entries=5, max_age=timedelta(hours=1)))


# -- access tracking -------------------------------------------------------------------------


def test_no_bounds_is_a_no_op() -> None:
    storage = CountingStorage()
    fill(storage, Retention(), 5)
    assert Retention().apply(storage) == 0
    assert not storage.track_access
    assert storage.evictions == 0


def test_after_write_and_attach_switch_on_access_tracking() -> None:
    storage = MemoryStorage()
    assert not storage.track_access
    Retention(max_entries=5).attach(storage)
    assert storage.track_access
    other = MemoryStorage()
    fill(other, Retention(max_entries=5), 1)
    assert other.track_access


def test_apply_does_not_switch_on_tracking() -> None:
    storage = MemoryStorage()
    fill(storage, Retention(), 3)
    assert Retention(max_entries=2).apply(storage) == 1
    assert not storage.track_access


# -- when after_write counts -----------------------------------------------------------------


def test_under_the_bounds_writes_do_not_count_the_store() -> None:
    storage = CountingStorage()
    retention = Retention(max_entries=1000, max_bytes=10**9, check_every=50)
    fill(storage, retention, 49)
    assert storage.evictions == 1  # the first write: this process had never counted
    fill(storage, retention, 1, prefix="more")
    assert storage.evictions == 1
    fill(storage, retention, 1, prefix="fifty")  # 50 writes since the count
    assert storage.evictions == 2


def test_recount_interval_grows_with_the_store() -> None:
    storage = CountingStorage()
    retention = Retention(max_entries=10**6, check_every=5)
    storage.update({f"old-{number}": b"v" for number in range(2000)})
    fill(storage, retention, 1)
    assert storage.evictions == 1
    fill(storage, retention, 19, prefix="b")  # 1% of 2000 entries: 20 writes between counts
    assert storage.evictions == 1
    fill(storage, retention, 1, prefix="c")
    assert storage.evictions == 2


def test_exceeding_a_bound_evicts_at_once() -> None:
    storage = CountingStorage()
    retention = Retention(max_entries=10, check_every=1000)
    fill(storage, retention, 10)
    assert storage.evictions == 1
    fill(storage, retention, 1, prefix="eleventh")
    assert storage.evictions == 2
    assert len(storage) == 10


@pytest.mark.parametrize("kind", ["memory", "sqlite", "filesystem"])
def test_a_large_write_is_noticed_without_a_recount(tmp_path: Path, kind: str) -> None:
    storage: BaseStorage = {
        "memory": MemoryStorage,
        "sqlite": lambda: SQLiteStorage(tmp_path / "cache"),
        "filesystem": lambda: FileStorage(tmp_path / "files"),
    }[kind]()
    retention = Retention(max_bytes=10_000, check_every=1000, slack=0)
    with storage:
        fill(storage, retention, 5)
        storage["huge"] = b"v" * 20_000
        retention.after_write(storage)
        assert len(storage) == 0  # larger than the bound: nothing can stay


def test_overwrites_do_not_count_as_new_entries(tmp_path: Path) -> None:
    with SQLiteStorage(tmp_path / "cache") as storage:
        retention = Retention(max_entries=3, check_every=1000, slack=0)
        fill(storage, retention, 3)
        before = storage.usage.snapshot()
        for _ in range(5):
            storage["key-0"] = b"other value"
            retention.after_write(storage)
        after = storage.usage.snapshot()
        assert after.entries == before.entries == 3
        assert after.bytes == before.bytes + len(b"other value") - len(b"value")
        assert len(storage) == 3


# -- slack -----------------------------------------------------------------------------------


def test_a_full_cache_evicts_below_the_bound_then_writes_freely() -> None:
    storage = CountingStorage()
    retention = Retention(max_entries=200, check_every=1000, slack=0.05)
    fill(storage, retention, 200)
    assert len(storage) == 200
    assert storage.evictions == 1
    fill(storage, retention, 1, prefix="over")
    assert len(storage) == 190  # 5% below the bound
    assert storage.evictions == 2
    fill(storage, retention, 10, prefix="room")
    assert len(storage) == 200
    assert storage.evictions == 2  # no count while there was room
    fill(storage, retention, 1, prefix="over-again")
    assert len(storage) == 190


def test_apply_is_exact() -> None:
    storage = MemoryStorage()
    storage.update({f"key-{number}": b"v" for number in range(300)})
    assert Retention(max_entries=200, slack=0.5).apply(storage) == 100
    assert len(storage) == 200


def test_slack_only_applies_once_a_bound_is_exceeded() -> None:
    storage = MemoryStorage()
    storage.update({f"key-{number}": b"v" for number in range(195)})
    assert storage.evict(max_entries=200, slack=0.05) == 0
    assert len(storage) == 195


# -- max_age ---------------------------------------------------------------------------------


def test_age_sweeps_run_while_writes_happen() -> None:
    storage = CountingStorage()
    retention = Retention(max_age=timedelta(seconds=160), check_every=1000)  # sweep every 10 s
    start = time.time()
    storage["old"] = b"value"
    retention.after_write(storage, now=start)
    assert storage.evictions == 1
    storage["newer"] = b"value"
    retention.after_write(storage, now=start + 9)
    assert storage.evictions == 1
    storage["newest"] = b"value"
    retention.after_write(storage, now=start + 200)
    assert storage.evictions == 2
    assert sorted(storage) == []  # written at the real time, long before `now`


def test_sweep_interval_is_clamped() -> None:
    assert Retention(max_age=timedelta(seconds=2))._sweep_interval == 1.0
    assert Retention(max_age=timedelta(days=365))._sweep_interval == 3600.0
    assert Retention(max_age=timedelta(minutes=16))._sweep_interval == 60.0


# -- failures --------------------------------------------------------------------------------


def test_failed_eviction_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    storage = FailingStorage()
    storage["key"] = b"value"
    with caplog.at_level(logging.WARNING, logger="vaultcache.retention"):
        assert Retention(max_entries=1).after_write(storage) == 0
    assert "could not evict" in caplog.text
    with pytest.raises(BackendError):
        Retention(max_entries=1).apply(storage)


# -- BaseCache -------------------------------------------------------------------------------


def _unencrypted_cache(**kwargs: Any) -> BaseCache:
    cache = BaseCache(**kwargs)
    cache.serializer = build_pipeline("msgpack")
    return cache


def test_base_cache_applies_retention_after_each_save() -> None:
    cache = _unencrypted_cache(retention=Retention(max_entries=2, slack=0))
    for key in ("a", "b", "c"):
        cache.save_response(CachedResponse(cache_key=key))
    assert sorted(cache.storage) == ["b", "c"]
    assert cache.storage.track_access
    assert not cache.redirect_storage.track_access


def test_base_cache_retention_can_be_set_later() -> None:
    cache = _unencrypted_cache()
    assert cache.retention is None
    cache.save_response(CachedResponse(cache_key="a"))
    cache.retention = Retention(max_entries=1)
    cache.save_response(CachedResponse(cache_key="b"))
    assert list(cache.storage) == ["b"]
