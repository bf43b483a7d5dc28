"""RedisStorage against a real redis-server: the storage contract, TTLs, errors, key layout."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
import redis
from redis.crc import key_slot

from vaultcache import ConfigError, Retention
from vaultcache.plugin import BackendError, CacheNotFoundError
from vaultcache.testing import StorageContract, StorageFactory
from vaultcache_redis import RedisStorage, entry_ttl, parse_options


def _prefix(tmp_path: Path) -> str:
    # tmp_path is unique in the test session, and so is each test's share of the server.
    return f"test:{tmp_path}:"


class TestRedisStorageContract(StorageContract):
    """The contract every vaultcache storage passes, on one redis-server."""

    persistent: ClassVar[bool] = True
    multiprocess: ClassVar[bool] = True
    url: str

    @pytest.fixture(autouse=True)
    def _server(self, redis_url: str) -> None:
        self.url = redis_url

    def storage_args(self, tmp_path: Path) -> StorageFactory:
        return RedisStorage, (self.url, _prefix(tmp_path))


@pytest.fixture
def storage(redis_url: str, tmp_path: Path) -> RedisStorage:
    return RedisStorage(redis_url, _prefix(tmp_path))


def test_the_layout_is_one_hash_per_entry(storage: RedisStorage, redis_url: str) -> None:
    storage["key"] = b"value"
    client = redis.Redis.from_url(redis_url)
    try:
        fields = client.hgetall(storage.redis_key("key"))
    finally:
        client.close()
    assert fields[b"v"] == b"value"
    assert float(fields[b"c"]) > 0
    assert fields[b"a"] == fields[b"c"]  # written counts as used
    assert storage.redis_key("key").endswith(b"responses:{}key")


def test_tables_and_prefixes_keep_apart(redis_url: str, tmp_path: Path) -> None:
    responses = RedisStorage(redis_url, _prefix(tmp_path))
    redirects = responses.for_table("redirects")
    neighbour = RedisStorage(redis_url, _prefix(tmp_path) + "x:")
    responses["key"] = b"response"
    redirects["key"] = b"redirect"
    neighbour["key"] = b"neighbour"
    # A glob character in a prefix is matched literally when listing.
    starred = RedisStorage(redis_url, f"test:{tmp_path}:*:")
    assert list(starred) == []
    assert responses["key"] == b"response"
    assert redirects["key"] == b"redirect"
    responses.clear()
    assert list(responses) == []
    assert list(redirects) == ["key"]
    assert list(neighbour) == ["key"]


def test_writes_take_the_ttl_of_their_context(storage: RedisStorage) -> None:
    storage["plain"] = b"value"
    assert storage.ttl("plain") is None
    with entry_ttl(120):
        storage["expiring"] = b"value"
    ttl = storage.ttl("expiring")
    assert ttl is not None
    assert 119 < ttl <= 120
    storage["expiring"] = b"rewritten outside the context"
    assert storage.ttl("expiring") is None  # an overwrite sets (or removes) the TTL


def test_replace_keeps_the_ttl(storage: RedisStorage) -> None:
    storage.set("key", b"old", ttl=300)
    assert storage.replace("key", b"old", b"new")
    ttl = storage.ttl("key")
    assert ttl is not None
    assert 299 < ttl <= 300


def test_entries_expire(storage: RedisStorage) -> None:
    storage.set("key", b"value", ttl=0.001)
    # Redis removes an expired key when it is next touched: no waiting needed beyond 1 ms.
    reads = 0
    while "key" in storage:
        reads += 1
        assert reads < 100_000, "the entry never expired"
    assert storage.get("key") is None
    assert list(storage) == []


def test_an_unreachable_server_is_a_backend_error_without_the_password(tmp_path: Path) -> None:
    with closed_port() as port:
        url = f"redis://user:s3cret-password@127.0.0.1:{port}/0"
        storage = RedisStorage(url, "test:", socket_connect_timeout=2)
        with pytest.raises(BackendError) as caught:
            storage["key"] = b"value"
    message = str(caught.value)
    assert "s3cret" not in message
    assert "user" not in message
    assert f"redis://127.0.0.1:{port}/0" in message
    assert caught.value.backend == "redis"
    assert "key" not in message.replace("keys", "")


def test_cluster_mode_needs_a_cluster(redis_url: str) -> None:
    with pytest.raises(BackendError, match="Redis Cluster") as caught:
        RedisStorage(redis_url, "test:", cluster=True)
    assert caught.value.backend == "redis"
    with closed_port() as port, pytest.raises(BackendError, match="cluster error"):
        RedisStorage(f"redis://:pw@127.0.0.1:{port}/0", "test:", cluster=True)


def test_recorded_reads_never_recreate_a_deleted_entry(storage: RedisStorage) -> None:
    storage.track_access = True
    storage["key"] = b"value"
    assert storage["key"] == b"value"  # noted in memory
    del storage["key"]
    storage["other"] = b"value"  # a write stores the noted reads
    assert list(storage) == ["other"]
    (entry,) = storage.entry_stats()
    assert entry.accessed is not None
    assert entry.created is not None
    assert entry.accessed >= entry.created


def test_foreign_data_under_the_prefix_is_a_backend_error(
    storage: RedisStorage, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.set(storage.redis_key("key"), b"not a hash")
    finally:
        client.close()
    with pytest.raises(BackendError, match="WRONGTYPE"):
        storage["key"]


# -- Redis Cluster slots: computed locally, no server needed -------------------------------


def test_every_key_is_hashed_whole_despite_braces_in_it() -> None:
    storage = RedisStorage("redis://127.0.0.1:1/0", "vaultcache:demo:")
    for key in ("plain", "{user}a", "{user}b", "x{}y", "{", "}{a}"):
        assert storage.slot(key) == key_slot(storage.redis_key(key))
        # The empty {} right after the table is the first brace pair, so no tag applies:
        # the slot is the CRC16 of the whole key.
        assert storage.redis_key(key).index(b"{") == len(b"vaultcache:demo:responses:")
    # Cache keys that share a "{tag}" still spread over slots.
    slots = {storage.slot(f"{{user}}{number}") for number in range(100)}
    assert len(slots) > 90


def test_a_hash_tag_in_the_prefix_keeps_the_cache_in_one_slot() -> None:
    storage = RedisStorage("redis://127.0.0.1:1/0", "{myapp}:cache:")
    redirects = storage.for_table("redirects")
    slots = {storage.slot(f"key-{number}") for number in range(50)}
    slots |= {redirects.slot(f"key-{number}") for number in range(50)}
    assert slots == {key_slot(b"myapp")}


@pytest.mark.parametrize("prefix", ["{}:", "a{b", "a}b", "{a}{b}:", "}a{", ""])
def test_prefixes_with_stray_braces_are_refused(prefix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_options("demo", {"prefix": prefix})
    assert caught.value.key == "backend.redis.prefix"


# -- options --------------------------------------------------------------------------------


def test_default_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULTCACHE_REDIS_URL", raising=False)
    options = parse_options("demo", {})
    assert options.url == "redis://localhost:6379/0"
    assert options.prefix == "vaultcache:demo:"
    assert options.use_ttl is True
    assert options.ttl_grace == 7 * 24 * 3600
    assert options.cluster is False


def test_the_url_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTCACHE_REDIS_URL", "redis://:pw@cache.internal:6380/2")
    options = parse_options("demo", {})
    assert options.location == "redis://cache.internal:6380/2"
    assert "pw" not in repr(options)
    monkeypatch.setenv("VAULTCACHE_REDIS_URL", "http://:pw@cache.internal/")
    with pytest.raises(ConfigError, match="VAULTCACHE_REDIS_URL") as caught:
        parse_options("demo", {})
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"urll": "redis://localhost"}, "backend.redis.urll"),
        ({"url": "http://user:secret@localhost"}, "backend.redis.url"),
        ({"url": 6379}, "backend.redis.url"),
        ({"cluster": "yes"}, "backend.redis.cluster"),
        ({"use_ttl": 1}, "backend.redis.use_ttl"),
        ({"ttl_grace": -1}, "backend.redis.ttl_grace"),
        ({"ttl_grace": "1d"}, "backend.redis.ttl_grace"),
        ({"ttl_grace": float("inf")}, "backend.redis.ttl_grace"),
        ({"socket_timeout": 0}, "backend.redis.socket_timeout"),
        ({"socket_connect_timeout": True}, "backend.redis.socket_connect_timeout"),
        ({"prefix": 42}, "backend.redis.prefix"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_options("demo", options)
    assert caught.value.key == key
    assert "secret" not in str(caught.value)


def test_a_typo_gets_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="did you mean 'ttl_grace'"):
        parse_options("demo", {"ttl_grase": 10})


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that nothing listens on, for as long as the block runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        yield int(bound.getsockname()[1])


@pytest.mark.parametrize("field", [b"c", b"a"])
@pytest.mark.parametrize("value", [b"not a time", b"nan", b"inf", b"-5"])
def test_planted_times_are_unknown_not_an_exception(
    storage: RedisStorage, redis_url: str, field: bytes, value: bytes
) -> None:
    """Attack (security item 3): write text into an entry's created or accessed field, so that
    every eviction, and every miss that triggers one, raises ValueError."""
    for name in ("a", "b", "c"):
        storage[name] = b"value"
    client = redis.Redis.from_url(redis_url)
    try:
        client.hset(storage.redis_key("a"), field, value)
    finally:
        client.close()

    stats = {entry.key: entry for entry in storage.entry_stats()}
    evicted = Retention(max_entries=2, max_age=timedelta(days=1)).apply(storage)

    assert set(stats) == {"a", "b", "c"}
    assert evicted == 1
    assert len(storage) == 2


@pytest.mark.parametrize("option", ["create", "read_only"])
def test_a_prefix_without_entries_is_no_cache_to_open(
    redis_url: str, tmp_path: Path, option: str
) -> None:
    from vaultcache_redis.cache import redis_cache

    prefix = _prefix(tmp_path)
    with pytest.raises(CacheNotFoundError, match="key prefix"):
        redis_cache("x", url=redis_url, prefix=prefix, **{option: option == "read_only"})
    redis_cache("x", url=redis_url, prefix=prefix).storage["k"] = b"v"
    opened = redis_cache("x", url=redis_url, prefix=prefix, **{option: option == "read_only"})
    assert list(opened.storage) == ["k"]
    opened.close()
