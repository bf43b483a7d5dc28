"""RedisStorage on a real three-node Redis Cluster: the storage contract, and where keys land."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import ClassVar

import pytest
import redis.cluster

from vaultcache.testing import StorageContract, StorageFactory
from vaultcache_redis import RedisStorage


class TestRedisClusterContract(StorageContract):
    """The storage contract, with entries spread over three cluster nodes."""

    persistent: ClassVar[bool] = True
    multiprocess: ClassVar[bool] = True
    url: str

    @pytest.fixture(autouse=True)
    def _cluster(self, redis_cluster_url: str) -> None:
        self.url = redis_cluster_url

    def storage_args(self, tmp_path: Path) -> StorageFactory:
        # A partial of an importable class pickles, so spawned processes can rebuild it.
        return functools.partial(RedisStorage, cluster=True), (self.url, f"cluster:{tmp_path}:")


def _nodes_holding(storage: RedisStorage, url: str) -> set[str]:
    client = redis.cluster.RedisCluster.from_url(url)
    try:
        return {
            client.get_node_from_key(storage.redis_key(key)).name  # type: ignore[no-untyped-call]
            for key in storage
        }
    finally:
        client.close()


def test_entries_spread_over_every_node(redis_cluster_url: str, tmp_path: Path) -> None:
    storage = RedisStorage(redis_cluster_url, f"spread:{tmp_path}:", cluster=True)
    storage.update({f"{{same-tag}}{number}": b"value" for number in range(60)})
    assert len(storage) == 60
    assert len(_nodes_holding(storage, redis_cluster_url)) == 3
    assert storage.bulk_delete(list(storage)) == 60  # one UNLINK split by slot


def test_a_hash_tag_prefix_keeps_the_cache_on_one_node(
    redis_cluster_url: str, tmp_path: Path
) -> None:
    storage = RedisStorage(redis_cluster_url, f"{{tagged}}:{tmp_path.name}:", cluster=True)
    storage.update({f"key-{number}": b"value" for number in range(30)})
    assert len(_nodes_holding(storage, redis_cluster_url)) == 1
    storage.clear()
    assert len(storage) == 0
