"""Key rotation: the new primary writes, every key in the ring still reads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serializer_support import AUTH_STAGES, key, stage

from vaultcache import CachedResponse, IntegrityError, KeyRing, build_pipeline, generate_key
from vaultcache.crypto_keys import KEY_ID_SIZE

PAYLOAD = b"rotation payload"
RESPONSE = CachedResponse(url="https://example.org/r", status_code=200, content=b"rotate me")
#: Pipelines whose last stage authenticates, so the stored bytes start with its key id.
SPECS = ("zstd+aesgcm", "signed+zstd+fernet", "json+gzip+signed", "pickle+lzma+aesgcm")


@pytest.mark.parametrize("name", AUTH_STAGES)
def test_rotated_stage_writes_under_the_new_key_and_reads_the_old(name: str) -> None:
    old, new = key(), key()
    old_ring = KeyRing([old])
    rotated = old_ring.rotated(new)
    assert rotated.primary == new
    assert rotated.ids == [new.hex_id, old.hex_id]

    old_entry = stage(name, old_ring).dumps(PAYLOAD)
    new_entry = stage(name, rotated).dumps(PAYLOAD)
    assert old_entry[:KEY_ID_SIZE] == old.id
    assert new_entry[:KEY_ID_SIZE] == new.id

    assert stage(name, rotated).loads(old_entry) == PAYLOAD
    assert stage(name, rotated).loads(new_entry) == PAYLOAD
    with pytest.raises(IntegrityError):
        stage(name, old_ring).loads(new_entry)


@pytest.mark.parametrize("spec", SPECS)
def test_rotated_pipeline_writes_under_the_new_key_and_reads_the_old(spec: str) -> None:
    old, new = key(), key()
    old_ring = KeyRing([old])
    rotated = old_ring.rotated(new)
    old_entry = build_pipeline(spec, keys=old_ring).dumps(RESPONSE)
    new_entry = build_pipeline(spec, keys=rotated).dumps(RESPONSE)
    assert new_entry[:KEY_ID_SIZE] == new.id
    assert old_entry[:KEY_ID_SIZE] == old.id
    reader = build_pipeline(spec, keys=rotated)
    assert reader.loads(old_entry) == RESPONSE
    assert reader.loads(new_entry) == RESPONSE
    with pytest.raises(IntegrityError):
        build_pipeline(spec, keys=old_ring).loads(new_entry)


@pytest.mark.parametrize("name", AUTH_STAGES)
def test_rotation_accepts_key_text(name: str) -> None:
    old_ring = KeyRing([generate_key()])
    new_text = generate_key()
    rotated = old_ring.rotated(new_text)
    assert stage(name, rotated).dumps(b"")[:KEY_ID_SIZE] == key(new_text).id


@pytest.mark.parametrize("name", AUTH_STAGES)
@settings(max_examples=10, deadline=None)
@given(rotations=st.integers(1, 4), payload=st.binary(max_size=64))
def test_every_generation_stays_readable_until_retired(
    name: str, rotations: int, payload: bytes
) -> None:
    keys = [key()]
    ring = KeyRing(keys)
    entries = [stage(name, ring).dumps(payload)]
    for _ in range(rotations):
        keys.append(key())
        ring = ring.rotated(keys[-1])
        entries.append(stage(name, ring).dumps(payload))
    reader = stage(name, ring)
    assert [reader.loads(entry) for entry in entries] == [payload] * len(entries)
    # Retire the oldest key: only what it wrote becomes unreadable.
    ring = ring.retired(keys[0].hex_id)
    reader = stage(name, ring)
    with pytest.raises(IntegrityError):
        reader.loads(entries[0])
    assert [reader.loads(entry) for entry in entries[1:]] == [payload] * rotations


def test_rotating_to_a_key_already_in_the_ring_moves_it_first() -> None:
    first, second = key(), key()
    ring = KeyRing([first, second]).rotated(second)
    assert ring.ids == [second.hex_id, first.hex_id]
    assert stage("aesgcm", ring).dumps(b"")[:KEY_ID_SIZE] == second.id
