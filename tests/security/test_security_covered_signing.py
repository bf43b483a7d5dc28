"""``signed`` before ``aesgcm`` or ``fernet`` is left out of the built pipeline (their
authentication covers it), and entries written with it before that still read.

The attacker can write the store but holds no key: naming the spec with ``signed`` in a new
entry's header, or altering an old entry, is a miss, never a wrong or unverified body.
"""

from __future__ import annotations

from typing import Any

import pytest
from security_support import body_for, flip

from vaultcache import ConfigError, KeyRing
from vaultcache.serializers import build_pipeline

SPECS = ("signed+zstd+fernet", "signed+zstd+aesgcm")
#: An inline body, and one of three chunks.
PATHS = ("/covered/small", "/covered/large?pad=2300000")


def _as_written(spec: str, key: str) -> Any:
    """The pipeline that wrote `spec` before ``signed`` was left out: every stage kept."""
    return build_pipeline(spec, keys=KeyRing([key]), as_written=True)


@pytest.mark.parametrize("spec", SPECS)
def test_signed_is_left_out_only_when_a_cipher_follows(spec: str, key: str) -> None:
    ring = KeyRing([key])
    assert "signed" not in build_pipeline(spec, keys=ring).spec
    assert _as_written(spec, key).spec == f"msgpack+{spec}"
    assert build_pipeline("signed+zstd", keys=ring).spec == "msgpack+signed+zstd"
    assert build_pipeline("aesgcm+signed", keys=ring).spec == "msgpack+aesgcm+signed"


@pytest.mark.parametrize("spec", SPECS)
def test_options_for_a_left_out_signed_are_still_refused(spec: str, key: str) -> None:
    with pytest.raises(ConfigError, match=r"serializer\.signed\.level"):
        build_pipeline(spec, keys=KeyRing([key]), options={"signed": {"level": 1}})


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("spec", SPECS)
def test_entries_written_with_signed_still_read(
    make_session: Any, origin: Any, key: str, spec: str, path: str
) -> None:
    old = make_session(serializer=_as_written(spec, key))
    url = origin.url(path)
    stored_key = old.get(url).cache_key
    assert old.cache.storage[stored_key].startswith(f"vaultcache/2 spec=msgpack+{spec} ".encode())

    session = make_session(serializer=spec)
    response = session.get(url)

    assert response.from_cache
    assert response.content == body_for(path)
    assert session.cache.stats.discarded == 0


@pytest.mark.parametrize("spec", SPECS)
def test_an_altered_old_entry_is_a_miss(
    make_session: Any, origin: Any, key: str, spec: str
) -> None:
    old = make_session(serializer=_as_written(spec, key))
    url = origin.url(PATHS[1])
    old.get(url)
    chunks = old.cache.chunk_storage
    assert chunks is not None
    last = sorted(chunks, key=lambda name: int(name.rsplit("/", 1)[1]))[-1]
    chunks[last] = flip(chunks[last], len(chunks[last]) // 2)

    session = make_session(serializer=spec)
    response = session.get(url)

    assert response.from_cache is False
    assert response.content == body_for(PATHS[1])
    assert session.get(url).from_cache


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("spec", SPECS)
def test_a_header_renamed_to_the_spec_with_signed_is_a_miss(
    make_session: Any, origin: Any, spec: str, path: str
) -> None:
    """Attack: make a reader open a new entry with the pipeline that verifies ``signed``."""
    session = make_session(serializer=spec)
    url = origin.url(path)
    stored_key = session.get(url).cache_key
    stored = session.cache.storage[stored_key]
    written = session.cache.serializer.spec
    session.cache.storage[stored_key] = stored.replace(
        f"spec={written} ".encode(), f"spec=msgpack+{spec} ".encode(), 1
    )

    assert session.get(url).from_cache is False
    assert session.cache.stats.discarded == 1
    assert session.get(url).content == body_for(path)
