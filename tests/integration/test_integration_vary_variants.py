"""Several Vary variants of one URL stored side by side (RFC 9111 §4.1).

The newest response is stored under the request's key; each response with Vary is also kept
under its variant's own key, tied to the primary entry by a variant group, so no variant
evicts another and none outlives an invalidation of its URL.
"""

from __future__ import annotations

from typing import Any

import pytest

from vaultcache.session import CachedSession

JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}
HTML = {"Accept": "text/html"}


def test_variants_are_kept_side_by_side(backend_session: CachedSession, origin: Any) -> None:
    session = backend_session
    path = f"/data/variants-{session.cache.storage.__class__.__name__}"
    url = origin.url(path, vary="Accept")

    for headers in (JSON, TEXT, HTML):
        assert session.get(url, headers=headers).from_cache is False
    answers = {
        accept: session.get(url, headers={"Accept": accept})
        for accept in ("application/json", "text/plain", "text/html")
    }

    assert origin.hits(path) == 3
    for accept, response in answers.items():
        assert response.from_cache
        assert response.json()["vary:accept"] == accept


def test_a_variant_is_answered_from_its_own_entry_after_another_replaced_the_primary(
    session: CachedSession, origin: Any
) -> None:
    path = "/data/variants-order"
    url = origin.url(path, vary="Accept")

    session.get(url, headers=JSON)
    session.get(url, headers=TEXT)  # now the newest, under the request's own key
    json_again = session.get(url, headers=JSON)
    text_again = session.get(url, headers=TEXT)

    assert json_again.from_cache
    assert json_again.json()["vary:accept"] == "application/json"
    assert text_again.from_cache
    assert text_again.json()["vary:accept"] == "text/plain"
    assert origin.hits(path) == 2


def test_variants_of_different_fields(session: CachedSession, origin: Any) -> None:
    """A response varying on two fields matches only a request equal on both."""
    path = "/data/variants-two-fields"
    url = origin.url(path, vary="Accept, Accept-Language")
    english = {**JSON, "Accept-Language": "en"}
    french = {**JSON, "Accept-Language": "fr"}

    session.get(url, headers=english)
    session.get(url, headers=french)
    hits = [session.get(url, headers=english), session.get(url, headers=french)]
    other = session.get(url, headers={**TEXT, "Accept-Language": "fr"})

    assert [r.json()["vary:accept-language"] for r in hits] == ["en", "fr"]
    assert all(r.from_cache for r in hits)
    assert other.from_cache is False
    assert origin.hits(path) == 3


def test_an_invalidation_ends_every_variant(make_session: Any, origin: Any) -> None:
    """RFC 9111 §4.4: after a successful POST, no variant stored before it is served."""
    session = make_session(cache_control=True)
    path = "/data/variants-invalidated"
    url = origin.url(path, vary="Accept", cc="max-age=600")
    session.get(url, headers=JSON)
    session.get(url, headers=TEXT)
    origin.bump(path)

    assert session.post(url, data=b"change").ok
    after = [session.get(url, headers=JSON), session.get(url, headers=TEXT)]

    assert [r.from_cache for r in after] == [False, False]
    assert [r.json()["version"] for r in after] == [2, 2]


def test_deleting_the_url_ends_every_variant(session: CachedSession, origin: Any) -> None:
    path = "/data/variants-deleted"
    url = origin.url(path, vary="Accept")
    session.get(url, headers=JSON)
    session.get(url, headers=TEXT)
    origin.bump(path)

    session.cache.delete(urls=[url])
    first = session.get(url, headers=JSON)
    old_variant = session.get(url, headers=TEXT)

    assert first.from_cache is False
    assert old_variant.from_cache is False
    assert old_variant.json()["version"] == 2


def test_a_revalidated_variant_is_refreshed_in_place(make_session: Any, origin: Any) -> None:
    session = make_session(cache_control=True)
    path = "/data/variants-revalidated"
    url = origin.url(path, vary="Accept", cc="max-age=600", etag=1)
    session.get(url, headers=JSON)
    session.get(url, headers=TEXT)

    revalidated = session.get(url, headers={**JSON, "Cache-Control": "no-cache"})
    fresh_again = session.get(url, headers=JSON)
    other = session.get(url, headers=TEXT)

    assert revalidated.revalidated
    assert revalidated.json()["vary:accept"] == "application/json"
    assert fresh_again.from_cache
    assert fresh_again.revalidated is False
    assert fresh_again.json()["vary:accept"] == "application/json"
    assert other.from_cache
    assert other.json()["vary:accept"] == "text/plain"
    assert origin.hits(path) == 3


@pytest.mark.parametrize("cache_control", [True, False], ids=["cc-on", "cc-off"])
def test_stale_if_error_never_serves_another_variant(
    make_session: Any, origin: Any, clock: Any, cache_control: bool
) -> None:
    session = make_session(cache_control=cache_control, stale_if_error=True, expire_after=60)
    path = "/data/variants-stale-if-error"
    url = origin.url(path, vary="Accept", cc="max-age=60")
    session.get(url, headers=JSON)
    clock.advance(120)
    origin.fail(path)

    other_variant = session.get(url, headers=TEXT)
    same_variant = session.get(url, headers=JSON)

    assert other_variant.status_code == 500
    assert same_variant.status_code == 200
    assert same_variant.from_cache


def test_variants_separate_users_on_a_credential_field(session: CachedSession, origin: Any) -> None:
    """Vary: Authorization keeps each user's variant apart, and each is found again."""
    path = "/data/variants-users"
    url = origin.url(path, vary="Authorization")
    alice = {"Authorization": "Bearer alice-token"}
    bob = {"Authorization": "Bearer bob-token"}

    session.get(url, headers=alice)
    session.get(url, headers=bob)
    answers = [session.get(url, headers=alice), session.get(url, headers=bob)]

    assert all(r.from_cache for r in answers)
    assert [r.json()["vary:authorization"] for r in answers] == [
        "Bearer alice-token",
        "Bearer bob-token",
    ]
    assert origin.hits(path) == 2


def test_a_url_with_n_variants_takes_n_plus_one_entries(
    session: CachedSession, origin: Any
) -> None:
    """The newest variant is stored twice: under the URL's key and under its variant key."""
    url = origin.url("/data/variants-count", vary="Accept")

    for headers in (JSON, TEXT, HTML):
        session.get(url, headers=headers)

    assert session.cache.response_count() == 4
    assert session.cache.urls == [url]
