"""A CachedSession against a real origin: misses, hits, and what a response says about itself."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vaultcache.serializers import SerializerPipeline
from vaultcache.serializers.preconf import msgpack_converter
from vaultcache.session import CachedSession

#: A string that appears in every body of the origin's /data routes (the key "path").
BODY_MARKER = b'"path": "/data/'


def test_miss_then_hit_reaches_the_origin_once(session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/miss-hit", size=308)

    first = session.get(url)
    second = session.get(url)

    assert (first.from_cache, second.from_cache) == (False, True)
    assert first.content == second.content
    assert len(second.content) == 308
    assert origin.hits("/data/miss-hit") == 1


def test_fresh_response_has_unset_cache_attributes_but_a_cache_key(
    session: CachedSession, origin: Any
) -> None:
    response = session.get(origin.url("/data/fresh-attributes"))

    assert response.from_cache is False
    assert response.created_at is None
    assert response.expires is None
    assert response.is_expired is None  # as requests-cache: False None None None
    assert response.revalidated is False
    assert re.fullmatch(r"[0-9a-f]{32}", response.cache_key)


def test_cached_response_carries_cache_attributes(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60)
    first = session.get(origin.url("/data/cached-attributes"))

    cached = session.get(origin.url("/data/cached-attributes"))

    assert cached.from_cache is True
    assert cached.created_at == clock.current
    assert cached.expires == clock.current + timedelta(seconds=60)
    assert cached.is_expired is False
    assert cached.revalidated is False
    assert cached.cache_key == first.cache_key


def test_str_of_a_cached_response(make_session: Any, origin: Any) -> None:
    session = make_session(expire_after=3600)
    url = origin.url("/data/str", size=308)
    session.get(url)

    text = str(session.get(url))

    match = re.fullmatch(
        r"request: GET, response: 200 \(308 bytes\), created: (\S+), expires: (\S+) \(fresh\)",
        text,
    )
    assert match, text
    created, expires = (datetime.fromisoformat(value) for value in match.groups())
    assert (expires - created).total_seconds() == 3600


def test_str_of_a_never_expiring_response_says_never(session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/str-never", size=10)
    session.get(url)

    assert str(session.get(url)).endswith("expires: never (fresh)")


def test_each_backend_serves_a_hit(backend_session: CachedSession, origin: Any) -> None:
    url = origin.url("/data/backend", size=2000)

    first = backend_session.get(url)
    second = backend_session.get(url)

    assert not first.from_cache
    assert second.from_cache
    assert second.json() == first.json()
    assert origin.hits("/data/backend") == 1


# -- serializers ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["signed+zstd+fernet", "zstd+aesgcm", "json"])
def test_serializer_spec_string(make_session: Any, origin: Any, spec: str) -> None:
    session = make_session(serializer=spec)
    url = origin.url(f"/data/spec-{spec}", size=1000)

    first = session.get(url)
    second = session.get(url)

    assert second.from_cache
    assert second.content == first.content
    assert second.headers["Content-Type"] == "application/json"


def test_serializer_as_a_serializer_pipeline(make_session: Any, origin: Any) -> None:
    import gzip

    import msgpack

    from vaultcache.serializers import Stage

    pipeline = SerializerPipeline(
        [msgpack_converter, msgpack, Stage(gzip, dumps="compress", loads="decompress")]
    )
    session = make_session(serializer=pipeline)
    url = origin.url("/data/pipeline", size=500)

    first = session.get(url)
    second = session.get(url)

    assert second.from_cache
    assert second.content == first.content
    assert session.cache.serializer is pipeline


class _PickleSerializer:
    """Any object with dumps/loads is accepted as a serializer."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def dumps(self, value: Any) -> bytes:
        import pickle

        self.calls.append("dumps")
        return pickle.dumps(value)

    def loads(self, value: bytes) -> Any:
        import pickle

        self.calls.append("loads")
        return pickle.loads(value)


def test_serializer_as_a_plain_object_with_dumps_and_loads(make_session: Any, origin: Any) -> None:
    serializer = _PickleSerializer()
    session = make_session(serializer=serializer)
    url = origin.url("/data/plain-object", size=400)

    first = session.get(url)
    second = session.get(url)

    assert second.from_cache
    assert second.content == first.content
    assert serializer.calls[:1] == ["dumps"]
    assert "loads" in serializer.calls


def test_a_serializer_without_dumps_and_loads_is_refused(make_session: Any) -> None:
    with pytest.raises(TypeError, match="dumps/loads"):
        make_session(serializer=object())


def _stored_values(cache_path: str) -> list[bytes]:
    with closing(sqlite3.connect(Path(cache_path + ".sqlite"))) as connection:
        rows = connection.execute("SELECT value FROM responses").fetchall()
    return [bytes(row[0]) for row in rows]


def test_default_serializer_encrypts_what_sqlite_holds(
    session: CachedSession, origin: Any, cache_path: str
) -> None:
    session.get(origin.url("/data/at-rest", size=3000))

    values = _stored_values(cache_path)

    assert len(values) == 1
    assert BODY_MARKER not in values[0]
    assert b"/data/at-rest" not in values[0]
    assert b"127.0.0.1" not in values[0]


def test_unencrypted_serializer_stores_readable_bodies(
    make_session: Any, origin: Any, cache_path: str
) -> None:
    """The control for the test above: without encryption the body text is visible."""
    session = make_session(serializer="msgpack")
    session.get(origin.url("/data/readable", size=3000))

    (value,) = _stored_values(cache_path)

    assert BODY_MARKER in value
