"""RedisStorage: a vaultcache byte storage in Redis, shared by many processes and hosts.

Layout. The entry stored under the cache key ``k`` is a Redis hash at
``<prefix><table>:{}<k>`` (``k`` as UTF-8) with three fields: ``v``, the value; ``c``, when
it was written, and ``a``, when it was last used (epoch seconds, for retention's ``max_age``
and least-recently-used eviction). Every operation on one entry touches that one key, so it
is atomic without transactions, and writing a value and its TTL is one Lua script.

Reads are recorded only while :attr:`~vaultcache.plugin.BaseStorage.track_access` is
on (retention switches it on): a hit then notes the time in memory, and the times are
written in one pipeline at the next write or eviction, or after 1024 keys or 30 seconds at
the next read. A hit stays one ``HGET`` either way.

Redis Cluster. A cluster hashes a key to one of 16384 slots by its *first* ``{...}`` with at
least one character inside, else by the whole key. The empty ``{}`` after the table name is
there to be that first brace: it holds nothing, so the whole key is hashed and the entries
spread over every node, whatever braces the cache key itself contains. A prefix that holds a
hash tag (``{myapp}:``) comes first and wins instead: the whole cache then lives in one slot,
on one node. No operation needs two keys in one slot: multi-key deletes are split by slot
(redis-py does this), and listing scans every primary node.

Compare-and-swap (:meth:`RedisStorage.replace`) is a Lua script: Redis runs a script
without interleaving any other command, so no other client can write between the compare
and the swap. The swap keeps the entry's creation time and TTL.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any, cast

import redis
import redis.cluster
import redis.exceptions
from redis.crc import key_slot

from vaultcache.plugin import (
    AccessLog,
    BackendError,
    BaseStorage,
    EntryStats,
    stored_number,
)
from vaultcache_redis.options import (
    DEFAULT_SOCKET_TIMEOUT,
    check_prefix,
    check_url,
    safe_location,
)

__all__ = ["RedisStorage", "entry_ttl", "key_slot"]

logger = logging.getLogger(__name__)

BACKEND = "redis"
_TABLES = ("responses", "redirects", "chunks")
_VALUE, _CREATED, _ACCESSED = b"v", b"c", b"a"
#: Keys per SCAN step, per UNLINK and per pipeline of entry_stats.
_BATCH = 500

# KEYS[1] the entry; ARGV value, creation time, TTL in ms ("0": none). HSET keeps an old
# TTL, so it is set or removed in the same script: a reader never sees one without the other.
_SET = """
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'c', ARGV[2], 'a', ARGV[2])
if ARGV[3] == '0' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"""
# KEYS[1] the entry; ARGV expected value, new value. A missing key reads as false, which
# equals no string, so a missing entry is never created here.
_REPLACE = """
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
return 1
"""

# KEYS[1] the entry; ARGV[1] when it was read. Only an existing entry, and only forwards:
# the entry may have been deleted, or another process may have stored a later read.
_TOUCH = """
if redis.call('HEXISTS', KEYS[1], 'v') == 0 then
  return 0
end
local last = tonumber(redis.call('HGET', KEYS[1], 'a'))
if last == nil or last < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'a', ARGV[1])
end
return 1
"""

_ttl: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "vaultcache_redis_ttl", default=None
)


@contextlib.contextmanager
def entry_ttl(seconds: float | None) -> Iterator[None]:
    """Within this block, writes to any RedisStorage expire after `seconds` (None: never).

    :class:`vaultcache_redis.RedisCache` uses it around ``save_response``, so that the TTL of
    an entry follows the response it holds while BaseCache does the writing. Context
    variables are per thread and per task, so concurrent saves do not see each other's TTL.
    """
    token = _ttl.set(seconds)
    try:
        yield
    finally:
        _ttl.reset(token)


class RedisStorage(BaseStorage):
    """Entries of one table (``responses``, ``redirects`` or ``chunks``) of a cache, in Redis.

    `url` is a ``redis://``, ``rediss://`` (TLS) or ``unix://`` URL; `prefix` starts every
    key of the cache (see the module docs for hash tags). With `cluster`, `url` names any
    node of a Redis Cluster and redis-py's cluster client routes each key to its node.
    Thread-safe (redis-py pools connections), and safe after ``fork`` (the pool notices a
    new process and reconnects). Raises :class:`vaultcache.plugin.BackendError` when the
    server cannot be reached or answers with an error; the message shows the server without
    credentials, and never a key or value.
    """

    def __init__(
        self,
        url: str,
        prefix: str,
        table: str = "responses",
        *,
        cluster: bool = False,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        socket_connect_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    ) -> None:
        if table not in _TABLES:
            raise ValueError(f"table must be one of {', '.join(_TABLES)}, not {table!r}")
        self._url = check_url(url)
        self.prefix = check_prefix(prefix)
        self.table = table
        self.cluster = cluster
        self.location = safe_location(url)
        self._namespace = f"{prefix}{table}:{{}}".encode()
        self._pattern = _glob_escape(self._namespace) + b"*"
        self._socket_timeout = socket_timeout
        self._socket_connect_timeout = socket_connect_timeout
        self._accesses = AccessLog()
        with self._errors("connect"):
            self._client = self._connect()
        self._set = self._client.register_script(_SET)
        self._replace = self._client.register_script(_REPLACE)
        self._touch = self._client.register_script(_TOUCH)

    def _connect(self) -> Any:
        settings: dict[str, Any] = {
            "socket_timeout": self._socket_timeout,
            "socket_connect_timeout": self._socket_connect_timeout,
            # A pooled connection idle for 30 s is PINGed before use, so one that a server
            # restart or a proxy's idle timeout cut is replaced instead of failing a command.
            "health_check_interval": 30,
        }
        if self.cluster:
            # Connects now, to read the slot map; errors become BackendErrors.
            return redis.cluster.RedisCluster.from_url(self._url, **settings)
        return redis.Redis.from_url(self._url, **settings)

    def for_table(self, table: str) -> RedisStorage:
        """Another table of the same cache, on a connection of its own."""
        return RedisStorage(
            self._url,
            self.prefix,
            table,
            cluster=self.cluster,
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._socket_connect_timeout,
        )

    # -- keys -------------------------------------------------------------------------------

    def redis_key(self, key: str) -> bytes:
        """The Redis key that holds the entry of cache key `key`."""
        return self._namespace + key.encode("utf-8", "surrogatepass")

    def slot(self, key: str) -> int:
        """The Redis Cluster slot of `key`'s entry (computed here, no server needed)."""
        return int(key_slot(self.redis_key(key)))

    def _cache_key(self, redis_key: bytes) -> str:
        return redis_key[len(self._namespace) :].decode("utf-8", "surrogatepass")

    def _keys(self) -> list[bytes]:
        """Every Redis key of this table, each once (SCAN may repeat keys)."""
        with self._errors("list its keys"):
            found = self._client.scan_iter(match=self._pattern, count=_BATCH)
            return list(dict.fromkeys(cast(Iterable[bytes], found)))

    # -- the mapping ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise KeyError(key)
        with self._errors("read an entry"):
            value = self._client.hget(self.redis_key(key), _VALUE)
        if value is None:
            raise KeyError(key)
        if self.track_access:
            self.note_access(key)
        return cast(bytes, value)

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_item(key, value)
        self.set(key, value, _ttl.get())

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store `value` under `key`, expiring after `ttl` seconds (None: never)."""
        self._check_item(key, value)
        milliseconds = 0 if ttl is None else max(1, round(ttl * 1000))
        with self._errors("write an entry"):
            self._set(keys=[self.redis_key(key)], args=[value, repr(time.time()), milliseconds])
        if len(self._accesses):
            self._flush_accesses()

    def __delitem__(self, key: str) -> None:
        if not isinstance(key, str):
            raise KeyError(key)
        with self._errors("delete an entry"):
            deleted = self._client.unlink(self.redis_key(key))
        if not deleted:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        with self._errors("read an entry"):
            return bool(self._client.exists(self.redis_key(key)))

    def __iter__(self) -> Iterator[str]:
        return iter([self._cache_key(redis_key) for redis_key in self._keys()])

    def __len__(self) -> int:
        return len(self._keys())

    def ttl(self, key: str) -> float | None:
        """Seconds until `key`'s entry expires; None when it never does or is absent."""
        with self._errors("read an entry"):
            milliseconds = int(self._client.pttl(self.redis_key(key)))
        return milliseconds / 1000 if milliseconds >= 0 else None

    # -- many entries -----------------------------------------------------------------------

    def bulk_delete(self, keys: Iterable[str]) -> int:
        """Delete every key in `keys` that is present; return how many were deleted."""
        doomed = [self.redis_key(key) for key in keys if isinstance(key, str)]
        return self._unlink(doomed)

    def clear(self) -> None:
        """Delete every entry of this table (other tables and prefixes are untouched)."""
        self._accesses.take()
        self._unlink(self._keys())
        self.usage.cleared()

    def _unlink(self, redis_keys: list[bytes]) -> int:
        deleted = 0
        with self._errors("delete entries"):
            for start in range(0, len(redis_keys), _BATCH):
                # On a cluster redis-py splits a multi-key UNLINK by slot.
                deleted += int(self._client.unlink(*redis_keys[start : start + _BATCH]))
        return deleted

    def size_of(self, key: str) -> int | None:
        """The size in bytes of the value under `key`, or None when it is absent."""
        if not isinstance(key, str):
            return None
        redis_key = self.redis_key(key)
        with self._errors("read an entry"):
            size = int(self._client.hstrlen(redis_key, _VALUE))
            if size == 0 and not self._client.exists(redis_key):
                return None
        return size

    def replace(self, key: str, expected: bytes, new: bytes) -> bool:
        """Store `new` under `key` only if it still holds exactly `expected`; True if stored.

        One Lua script, so atomic across every client of the server. The entry keeps its
        creation time and its TTL: a re-encrypted entry is the same entry.
        """
        self._check_item(key, new)
        if not isinstance(expected, bytes):
            raise TypeError(f"expected values must be bytes, not {type(expected).__name__}")
        with self._errors("replace an entry"):
            return bool(self._replace(keys=[self.redis_key(key)], args=[expected, new]))

    # -- retention ----------------------------------------------------------------------------

    def note_access(self, key: str) -> None:
        """Record a read of `key` in memory; store the batch when it is large or old."""
        if self._accesses.note(key):
            self._flush_accesses()

    def entry_stats(self) -> Iterator[EntryStats]:
        """Every entry's key, size, creation and last-use time (including unstored reads)."""
        redis_keys = self._keys()
        for start in range(0, len(redis_keys), _BATCH):
            batch = redis_keys[start : start + _BATCH]
            with self._errors("list its entries"):
                pipeline = self._client.pipeline(transaction=False)
                for redis_key in batch:
                    pipeline.hstrlen(redis_key, _VALUE)
                    pipeline.hmget(redis_key, [_CREATED, _ACCESSED])
                replies = pipeline.execute()
            for index, redis_key in enumerate(batch):
                size, (created, accessed) = replies[2 * index], replies[2 * index + 1]
                if created is None:
                    continue  # deleted or expired since the scan
                key = self._cache_key(redis_key)
                noted = self._accesses.get(key) or 0.0
                # The fields are not authenticated: a planted value is an unknown time.
                born = stored_number(created)
                used = max(stored_number(accessed) or born or 0.0, noted)
                yield EntryStats(key, int(size), born, used)

    def evict(
        self,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        max_age: timedelta | None = None,
        now: float | None = None,
        slack: float = 0.0,
    ) -> int:
        """Delete entries older than `max_age`, then the least recently used.

        See :meth:`BaseStorage.evict`; recorded reads are stored first, so they count.
        """
        self._flush_accesses()
        return super().evict(
            max_entries=max_entries, max_bytes=max_bytes, max_age=max_age, now=now, slack=slack
        )

    def _flush_accesses(self) -> None:
        """Store the recorded reads, one script per key in one pipeline.

        Runs on the read path too, so it never raises: on failure the times go back to the
        log for the next attempt, with a warning.
        """
        times = self._accesses.take()
        if not times:
            return
        try:
            pipeline = self._client.pipeline(transaction=False)
            for key, when in times.items():
                self._touch(keys=[self.redis_key(key)], args=[repr(when)], client=pipeline)
            pipeline.execute()
        except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException) as exc:
            self._accesses.restore(times)
            logger.warning(
                "redis cache %s (prefix %r): could not store %d read times (%s); will retry",
                self.location,
                self.prefix,
                len(times),
                type(exc).__name__,
            )

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Store recorded reads and close this storage's connections; safe to call again."""
        self._flush_accesses()
        with contextlib.suppress(redis.exceptions.RedisError, OSError):
            self._client.close()

    def __repr__(self) -> str:
        return f"<RedisStorage {self.location} prefix={self.prefix!r} table={self.table!r}>"

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn redis-py's errors into BackendErrors that name the server, not the key."""
        try:
            yield
        except redis.exceptions.AuthenticationError:
            raise self._error(action, "authentication failed; check the URL's password") from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, redis.exceptions.TimeoutError) else None
            raise self._error(
                action,
                f"{reason or 'cannot connect'} ({type(exc).__name__}); check that the "
                "server is running and reachable, or raise socket_timeout",
            ) from None
        except redis.exceptions.RedisClusterException as exc:
            # Not a RedisError; its messages may quote a node's address, which is fine, but
            # keep to the type for the same reason as below.
            raise self._error(
                action,
                f"cluster error ({type(exc).__name__}); check that the URL names a reachable "
                "node of a Redis Cluster, or set cluster = false for a single server",
            ) from None
        except redis.exceptions.RedisError as exc:
            # Server replies name the command and never echo values; keep only the first line.
            detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise self._error(action, f"the server answered: {detail}") from None

    def _error(self, action: str, reason: str) -> BackendError:
        return BackendError(
            f"redis cache {self.location} (prefix {self.prefix!r}) could not {action}: {reason}",
            backend=BACKEND,
            path=self.location,
        )


def _glob_escape(text: bytes) -> bytes:
    """`text` as a literal in a Redis MATCH pattern."""
    special = b"\\*?[]^-"
    return b"".join(b"\\" + bytes([c]) if c in special else bytes([c]) for c in text)
