"""The backend classes requests-cache users import, built the way they build them (issue 18,
item 1): ``SQLiteCache`` / ``FileCache`` with storage options, ``serializer`` and
``expire_after`` for the session they are given to."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from vaultcache import ConfigError
from vaultcache.backends import BaseCache, FileCache, SQLiteCache, sqlite_cache
from vaultcache.session import CachedSession


@pytest.fixture
def sessions(key: str) -> Any:
    made: list[CachedSession] = []

    def make(**kwargs: Any) -> CachedSession:
        made.append(CachedSession(keys=[key], **kwargs))
        return made[-1]

    yield make
    for session in made:
        session.close()


def test_sqlite_cache_with_serializer_and_expire_after(
    sessions: Any, origin: Any, clock: Any, tmp_path: Path
) -> None:
    backend = SQLiteCache(str(tmp_path / "c"), serializer="json", expire_after=60)
    session = sessions(backend=backend)
    url = origin.url("/data/sqlite-class")
    session.get(url)

    hit = session.get(url)

    assert isinstance(backend, BaseCache)
    assert backend.db_path == tmp_path / "c.sqlite"
    assert session.cache.serializer.spec == "json"
    assert hit.from_cache is True
    assert hit.expires == clock.current + timedelta(seconds=60)


def test_session_options_win_over_the_backends(
    sessions: Any, origin: Any, clock: Any, tmp_path: Path
) -> None:
    backend = SQLiteCache(str(tmp_path / "c"), serializer="json", expire_after=60)
    session = sessions(backend=backend, serializer="msgpack", expire_after=10)
    url = origin.url("/data/sqlite-class-override")
    session.get(url)

    assert session.cache.serializer.spec == "msgpack"
    assert session.get(url).expires == clock.current + timedelta(seconds=10)


def test_file_cache_with_a_serializer_and_its_cache_dir(
    sessions: Any, origin: Any, tmp_path: Path
) -> None:
    backend = FileCache(str(tmp_path / "files"), serializer="json")
    session = sessions(backend=backend)
    url = origin.url("/data/file-class")
    session.get(url)

    assert session.get(url).from_cache is True
    assert backend.cache_dir == tmp_path / "files"
    assert (backend.cache_dir / "responses").is_dir()


def test_file_cache_refuses_decode_content(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exact bytes received"):
        FileCache(str(tmp_path / "files"), decode_content=True)


def test_the_factory_takes_the_same_options(tmp_path: Path) -> None:
    cache = sqlite_cache(str(tmp_path / "f"), serializer="json", use_temp=False)
    try:
        assert isinstance(cache, SQLiteCache)
        assert cache.session_options["serializer"] == "json"
    finally:
        cache.close()


def test_a_bad_expire_after_on_the_backend_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        SQLiteCache(str(tmp_path / "c"), expire_after=object())


@pytest.mark.parametrize("cls", [SQLiteCache, FileCache])
def test_use_temp_and_use_cache_dir_place_the_cache(
    cls: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    (tmp_path / "tmp").mkdir()
    for option, root in (("use_temp", tmp_path / "tmp"), ("use_cache_dir", tmp_path / "xdg")):
        cache = cls("placed", serializer="json", **{option: True})
        try:
            cache.storage["k"] = b"v"
            where = Path(getattr(cache.storage, "path", None) or cache.cache_dir)
            assert root in where.parents, (option, where)
        finally:
            cache.close()


@pytest.mark.parametrize(
    ("name", "instead"),
    [
        ("SQLiteDict", "SQLiteStorage"),
        ("FileDict", "FileStorage"),
        ("RedisCache", "vaultcache_redis.RedisCache"),
        ("MongoCache", "backend plugin"),
    ],
)
def test_requests_cache_backend_names_say_what_to_use(name: str, instead: str) -> None:
    with pytest.raises(ImportError, match=rf"no {name} \(a requests-cache name\): use .*{instead}"):
        exec(f"from vaultcache.backends import {name}", {})
