"""requests-cache 1.x code, written as its users write it, runs on vaultcache (issue 18).

Each test names the item of issue 18 it covers. Where vaultcache differs on purpose, the test
checks that the call stops at once with a one-line message naming the vaultcache way.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import requests

from vaultcache import ConfigError
from vaultcache.retention import Retention
from vaultcache.serializers import SerializerPipeline
from vaultcache.session import CachedSession

# -- 2: decode_content ----------------------------------------------------------------------


def test_decode_content_false_is_what_vaultcache_does(make_session: Any, origin: Any) -> None:
    session = make_session(decode_content=False)
    url = origin.url("/data/decode")
    first = session.get(url)

    again = session.get(url)

    assert again.from_cache
    assert again.content == first.content  # the exact bytes received
    assert again.json() == first.json()


def test_decode_content_true_names_the_vaultcache_way(make_session: Any) -> None:
    with pytest.raises(ConfigError, match="exact bytes received") as caught:
        make_session(decode_content=True)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_set_decode_content(make_session: Any) -> None:
    pipeline = make_session().cache.serializer
    assert isinstance(pipeline, SerializerPipeline)
    pipeline.set_decode_content(False)
    with pytest.raises(ConfigError, match="decode_content"):
        pipeline.set_decode_content(True)


# -- 5: compiled patterns in urls_expire_after ----------------------------------------------


def test_urls_expire_after_takes_compiled_patterns(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(
        expire_after=3600,
        urls_expire_after={re.compile(r"/data/short/\d+$"): 60, re.compile(".*"): 600},
    )
    short, other = origin.url("/data/short/1"), origin.url("/data/other")
    session.get(short)
    session.get(other)

    assert session.get(short).expires == clock.current + timedelta(seconds=60)
    assert session.get(other).expires == clock.current + timedelta(seconds=600)


# -- 8: per-request options on send() -------------------------------------------------------


def test_send_only_if_cached_answers_504_when_nothing_is_stored(
    make_session: Any, origin: Any
) -> None:
    session = make_session()
    prepared = requests.Request("GET", origin.url("/data/send-504")).prepare()

    response = session.send(prepared, only_if_cached=True)

    assert response.status_code == 504
    assert origin.hits("/data/send-504") == 0


def test_send_expire_after(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session(expire_after=3600)
    prepared = requests.Request("GET", origin.url("/data/send-expiry")).prepare()

    session.send(prepared, expire_after=30)

    assert session.send(prepared).expires == clock.current + timedelta(seconds=30)


# -- 9: stale_if_error as a maximum staleness -----------------------------------------------


def test_stale_if_error_timedelta_is_a_maximum_staleness(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60, stale_if_error=timedelta(minutes=5))
    url = origin.url("/data/stale-td")
    session.get(url)
    origin.fail("/data/stale-td")

    clock.advance(60 + 4 * 60)
    within = session.get(url)
    clock.advance(2 * 60)

    assert within.from_cache
    assert within.status_code == 200
    assert session.get(url).status_code == 500


# -- 10: cache_disabled() and read_only -----------------------------------------------------


def test_cache_disabled_neither_reads_nor_writes(make_session: Any, origin: Any) -> None:
    session = make_session()
    url, other = origin.url("/data/disabled"), origin.url("/data/disabled-other")
    session.get(url)

    with session.cache_disabled():
        fresh = session.get(url)
        session.get(other)

    assert fresh.from_cache is False
    assert not session.cache.contains(url=other)
    assert session.get(url).from_cache is True  # enabled again after the block


def test_read_only_reads_but_never_writes(make_session: Any, origin: Any) -> None:
    writer = make_session()
    url, other = origin.url("/data/read-only"), origin.url("/data/read-only-other")
    writer.get(url)
    reader = make_session(read_only=True)

    assert reader.get(url).from_cache is True
    reader.get(other)
    assert not reader.cache.contains(url=other)


# -- 11: stale_if_error on a 4xx, and with only_if_cached ------------------------------------


def test_stale_if_error_serves_stale_instead_of_a_404(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60, stale_if_error=True)
    url = origin.url("/data/gone")
    session.get(url)
    origin.fail("/data/gone", 404)
    clock.advance(61)

    response = session.get(url)

    assert response.status_code == 200
    assert response.from_cache is True


def test_a_404_that_allowable_codes_lists_is_not_an_error(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60, stale_if_error=True, allowable_codes=(200, 404))
    url = origin.url("/data/gone-allowed")
    session.get(url)
    origin.fail("/data/gone-allowed", 404)
    clock.advance(61)

    assert session.get(url).status_code == 404


def test_only_if_cached_with_stale_if_error_serves_stale(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session(expire_after=60, stale_if_error=True)
    url = origin.url("/data/only-stale")
    session.get(url)
    clock.advance(61)

    response = session.get(url, only_if_cached=True)

    assert response.status_code == 200
    assert response.from_cache is True
    assert origin.hits("/data/only-stale") == 1


# -- 14: CachedSession.wrap -----------------------------------------------------------------


def test_wrap_keeps_the_original_sessions_settings(
    make_session: Any, origin: Any, key: str
) -> None:
    original = requests.Session()
    original.headers["X-Team"] = "blue"
    original.params = {"lang": "en"}
    original.max_redirects = 3
    session = CachedSession.wrap(original, backend="memory", keys=[key])
    url = origin.url("/echo/wrapped")

    try:
        first = session.get(url)
        again = session.get(url)
    finally:
        session.close()

    assert first.json()["headers"]["X-Team"] == "blue"
    assert first.json()["query"] == {"lang": "en"}
    assert session.max_redirects == 3
    assert again.from_cache is True


# -- 15: the smaller ones -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "value"),
    [("old_data_on_error", "stale_if_error", True), ("include_get_headers", "match_headers", True)],
)
def test_old_option_names_warn_and_apply(make_session: Any, old: str, new: str, value: Any) -> None:
    with pytest.warns(DeprecationWarning, match=f"use {new}="):
        session = make_session(**{old: value})
    assert getattr(session.settings, new) == value


def test_max_cache_bytes_becomes_a_retention(make_session: Any) -> None:
    with pytest.warns(DeprecationWarning, match=r"retention=Retention\(max_bytes=\.\.\.\)"):
        session = make_session(max_cache_bytes=1_000_000)
    assert session.cache.retention == Retention(max_bytes=1_000_000)


def test_autoclose_false_leaves_the_cache_open(make_session: Any, origin: Any) -> None:
    session = make_session(autoclose=False, backend="memory")
    url = origin.url("/data/autoclose")
    session.get(url)
    cache = session.cache
    session.close()

    assert cache.contains(url=url)  # still usable: its storages were not closed


def test_setting_expire_after_later_updates_the_settings(
    make_session: Any, origin: Any, clock: Any
) -> None:
    session = make_session()
    session.expire_after = 60
    url = origin.url("/data/later-expiry")
    session.get(url)

    assert session.settings.expire_after == 60
    assert session.get(url).expires == clock.current + timedelta(seconds=60)


def test_verify_false_is_part_of_the_cache_key(make_session: Any, origin: Any) -> None:
    session = make_session()
    url = origin.url("/data/verify")
    session.get(url)

    assert session.get(url, verify=False).from_cache is False
    assert session.get(url, verify=False).from_cache is True
    assert origin.hits("/data/verify") == 2


def test_repr_shows_cache_name_and_settings(make_session: Any, cache_path: str) -> None:
    text = repr(make_session(expire_after=60))
    assert cache_path in text
    assert "expire_after=60" in text


def test_expires_delta(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session(expire_after=90)
    url = origin.url("/data/delta")
    session.get(url)
    clock.advance(30)

    assert session.get(url).expires_delta == 60
    assert make_session(backend="memory").get(origin.url("/data/never")).expires_delta is None


def test_next_of_an_unfollowed_cached_redirect(make_session: Any, origin: Any) -> None:
    session = make_session(allowable_codes=(200, 302))
    url = origin.url("/redirect/1/data/next-target")
    live = session.get(url, allow_redirects=False)

    cached = session.get(url, allow_redirects=False)

    assert cached.from_cache is True
    assert cached.next is not None
    assert live.next is not None
    assert cached.next.url == live.next.url == origin.url("/data/next-target")
    assert cached.next.method == "GET"


def test_a_filter_fn_set_later_applies_to_stored_responses(make_session: Any, origin: Any) -> None:
    """Not served, and (unlike requests-cache) not deleted: vaultcache deletes an entry only
    when it is proven tampered or purged on purpose (docs/migrating.md)."""
    session = make_session()
    url = origin.url("/data/filtered-later")
    session.get(url)

    session.settings.filter_fn = lambda response: False

    assert session.get(url).from_cache is False
    assert session.cache.contains(url=url)


# -- 3: the final URL of a redirect is its own entry (see also test_integration_redirects) ---


def test_final_url_of_a_redirect_is_a_hit(make_session: Any, origin: Any) -> None:
    session = make_session()
    start = origin.url("/redirect/1/data/final-hit")
    session.get(start)

    final = session.get(origin.url("/data/final-hit"))

    assert final.from_cache is True
    assert session.cache.redirects[session.create_key(requests.Request("GET", start).prepare())]
    assert session.cache.response_count() == 1


# -- 4: save_response on a live response ----------------------------------------------------


def test_save_response_takes_a_live_response(make_session: Any, origin: Any, clock: Any) -> None:
    session = make_session()
    url = origin.url("/data/saved-by-hand", api_key="secret-value")
    live = requests.get(url, timeout=10)
    expires = clock.current + timedelta(hours=1)

    session.cache.save_response(live, cache_key=None, expires=expires)

    hit = session.get(url)
    assert hit.from_cache is True
    assert hit.expires == expires
    assert hit.content == live.content
    assert "secret-value" not in hit.url  # redacted like every stored response


def test_save_response_under_an_explicit_key(make_session: Any, origin: Any) -> None:
    session = make_session()
    live = requests.get(origin.url("/data/explicit-key"), timeout=10)

    session.cache.save_response(live, "my-key")

    assert session.cache.get_response("my-key").content == live.content


def test_save_response_of_a_redirected_live_response(make_session: Any, origin: Any) -> None:
    session = make_session()
    start = origin.url("/redirect/1/data/saved-redirect")
    live = requests.get(start, timeout=10)

    session.cache.save_response(live)

    assert session.get(start).from_cache is True
    assert session.get(origin.url("/data/saved-redirect")).from_cache is True


@pytest.mark.parametrize(
    ("option", "hint"),
    [
        ("fast_save", "always durable"),
        ("use_memory", "backend='memory'"),
        ("content_root_key", "decode_content"),
    ],
)
def test_options_vaultcache_lacks_name_its_way(make_session: Any, option: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(hint)) as caught:
        make_session(**{option: True if option != "content_root_key" else "data"})
    assert "\n" not in str(caught.value)


def test_harmless_values_of_those_options_pass(make_session: Any) -> None:
    make_session(fast_save=False, use_memory=False, content_root_key=None)


def test_session_wide_only_if_cached(make_session: Any, origin: Any) -> None:
    writer = make_session()
    stored, missing = origin.url("/data/offline-stored"), origin.url("/data/offline-missing")
    writer.get(stored)
    offline = make_session(only_if_cached=True)

    assert offline.get(stored).from_cache is True
    assert offline.get(missing).status_code == 504
    assert origin.hits("/data/offline-missing") == 0


def test_install_cache_translates_old_names_once(origin: Any, cache_path: str, key: str) -> None:
    import vaultcache

    with pytest.warns(DeprecationWarning, match="use stale_if_error="):
        vaultcache.install_cache(cache_path, keys=[key], old_data_on_error=True)
    try:
        requests.get(origin.url("/data/installed-once"), timeout=10)  # no warning: an error
    finally:
        vaultcache.uninstall_cache()
