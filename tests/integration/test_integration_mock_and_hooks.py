"""Mounted adapters (requests-mock) and response hooks see the cache like a plain Session."""

from __future__ import annotations

from typing import Any

import requests
import requests_mock

from vaultcache.session import CachedSession


def test_requests_mock_adapter_mounted_on_the_session_is_cached(
    session: CachedSession,
) -> None:
    adapter = requests_mock.Adapter()
    adapter.register_uri("GET", "mock://api.test/items", json={"items": [1, 2, 3]})
    session.mount("mock://", adapter)

    first = session.get("mock://api.test/items")
    second = session.get("mock://api.test/items")

    assert first.json() == second.json() == {"items": [1, 2, 3]}
    assert (first.from_cache, second.from_cache) == (False, True)
    assert adapter.call_count == 1


def test_requests_mock_adapter_status_codes_follow_allowable_codes(
    session: CachedSession,
) -> None:
    adapter = requests_mock.Adapter()
    adapter.register_uri("GET", "mock://api.test/missing", status_code=404, text="nope")
    session.mount("mock://", adapter)

    session.get("mock://api.test/missing")
    second = session.get("mock://api.test/missing")

    assert second.status_code == 404
    assert second.from_cache is False
    assert adapter.call_count == 2


def test_global_requests_mock_mocker_works_with_a_cached_session(
    session: CachedSession,
) -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get("https://example.test/resource", text="mocked body")

        first = session.get("https://example.test/resource")
        second = session.get("https://example.test/resource")

    assert first.text == second.text == "mocked body"
    assert (first.from_cache, second.from_cache) == (False, True)
    assert mocker.call_count == 1


# -- response hooks -----------------------------------------------------------------------------


def test_session_response_hook_runs_once_per_request_on_miss_and_hit(
    session: CachedSession, origin: Any
) -> None:
    seen: list[tuple[str, bool]] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.append((response.url, response.from_cache))  # type: ignore[attr-defined]

    session.hooks["response"].append(hook)
    url = origin.url("/data/session-hook")

    session.get(url)
    session.get(url)

    assert seen == [(url, False), (url, True)]


def test_per_request_hook_runs_once_on_miss_and_hit(session: CachedSession, origin: Any) -> None:
    seen: list[bool] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.append(response.from_cache)  # type: ignore[attr-defined]

    url = origin.url("/data/request-hook")

    session.get(url, hooks={"response": hook})
    session.get(url, hooks={"response": [hook]})
    session.get(url)  # no hook on this one

    assert seen == [False, True]


def test_response_hook_runs_once_for_a_redirected_request(
    session: CachedSession, origin: Any
) -> None:
    seen: list[tuple[int, bool]] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.append((response.status_code, response.from_cache))  # type: ignore[attr-defined]

    url = origin.url("/redirect/2/data/hook-redirect")

    session.get(url, hooks={"response": hook})
    session.get(url, hooks={"response": hook})

    assert seen == [(200, False), (200, True)]


def test_a_hook_may_replace_the_response(session: CachedSession, origin: Any) -> None:
    def replace(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        replaced = requests.Response()
        replaced.status_code = 299
        replaced._content = b"replaced"
        return replaced

    url = origin.url("/data/hook-replace")
    session.get(url)

    response = session.get(url, hooks={"response": replace})

    assert response.status_code == 299
    assert session.get(url).status_code == 200  # the stored entry is untouched
