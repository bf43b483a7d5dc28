"""Responses to requests with credentials stay reachable after a key rotation."""

from __future__ import annotations

from typing import Any

from vaultcache import KeyRing, generate_key

TOKEN = {"Authorization": "Bearer rotation-test-token"}


def test_credentialed_entry_is_found_and_moved_after_rotation(
    make_session: Any, origin: Any
) -> None:
    old, new = generate_key(), generate_key()
    url = origin.url("/data/rotation-credentials")
    before = make_session(keys=[old])
    assert not before.get(url, headers=TOKEN).from_cache
    old_key = before.get(url, headers=TOKEN).cache_key

    after = make_session(keys=KeyRing([new, old]))
    response = after.get(url, headers=TOKEN)

    assert response.from_cache
    assert response.cache_key != old_key
    assert old_key not in after.cache.responses  # moved, not copied
    assert after.get(url, headers=TOKEN).from_cache
    assert origin.hits("/data/rotation-credentials") == 1


def test_another_users_token_still_misses_after_rotation(make_session: Any, origin: Any) -> None:
    old, new = generate_key(), generate_key()
    url = origin.url("/data/rotation-other-user")
    make_session(keys=[old]).get(url, headers=TOKEN)

    after = make_session(keys=[new, old])
    assert not after.get(url, headers={"Authorization": "Bearer someone-else"}).from_cache


def test_a_retired_key_leaves_credentialed_entries_behind(make_session: Any, origin: Any) -> None:
    old, new = generate_key(), generate_key()
    url = origin.url("/data/rotation-retired")
    make_session(keys=[old]).get(url, headers=TOKEN)

    assert not make_session(keys=[new]).get(url, headers=TOKEN).from_cache
