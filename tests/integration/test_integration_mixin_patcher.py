"""CacheMixin on custom Session classes; install_cache, uninstall_cache, enabled, disabled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from vaultcache import patcher
from vaultcache.session import CachedSession, CacheMixin


class OtherMixin:
    """A cooperative mixin with a keyword argument of its own."""

    def __init__(self, *args: Any, other_option: str = "default", **kwargs: Any) -> None:
        self.other_option = other_option
        super().__init__(*args, **kwargs)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", {})["X-Other"] = self.other_option
        return super().request(method, url, *args, **kwargs)  # type: ignore[misc]


class MixedSession(CacheMixin, OtherMixin, requests.Session):
    pass


def test_cache_mixin_composes_with_another_cooperative_mixin(
    make_session: Any, origin: Any
) -> None:
    session = make_session(session_class=MixedSession, other_option="mine", expire_after=60)
    url = origin.url("/echo/mixin")

    first = session.get(url)
    second = session.get(url)

    assert session.other_option == "mine"
    assert isinstance(session, requests.Session)
    assert first.json()["headers"]["X-Other"] == "mine"
    assert (first.from_cache, second.from_cache) == (False, True)
    assert origin.hits("/echo/mixin") == 1


def test_other_mixin_first_in_the_mro_also_works(make_session: Any, origin: Any) -> None:
    class OtherFirst(OtherMixin, CacheMixin, requests.Session):
        pass

    session = make_session(session_class=OtherFirst, other_option="first")
    url = origin.url("/echo/mixin-other-first")

    session.get(url)
    second = session.get(url)

    assert second.from_cache
    assert second.json()["headers"]["X-Other"] == "first"


# -- install_cache ----------------------------------------------------------------------------


@pytest.fixture
def installed() -> Iterator[None]:
    """Undo any install_cache a test does, and close the installed cache."""
    assert not patcher.is_installed()
    try:
        yield
    finally:
        cache = patcher.get_cache()
        patcher.uninstall_cache()
        if cache is not None:
            cache.close()
    assert requests.Session is patcher._ORIGINAL_SESSION


def test_install_cache_makes_requests_get_cached(
    installed: None, origin: Any, cache_path: str, key: str
) -> None:
    patcher.install_cache(cache_path, keys=[key])
    url = origin.url("/data/installed")

    first = requests.get(url, timeout=10)
    second = requests.get(url, timeout=10)

    assert patcher.is_installed()
    assert (first.from_cache, second.from_cache) == (False, True)
    assert origin.hits("/data/installed") == 1


def test_uninstall_cache_restores_plain_requests(
    installed: None, origin: Any, cache_path: str, key: str
) -> None:
    patcher.install_cache(cache_path, keys=[key])
    url = origin.url("/data/uninstalled")
    requests.get(url, timeout=10)

    patcher.uninstall_cache()
    response = requests.get(url, timeout=10)

    assert not patcher.is_installed()
    assert not hasattr(response, "from_cache")
    assert origin.hits("/data/uninstalled") == 2


class CountingSession(CachedSession):
    """A session_factory that adds behaviour but keeps no state of its own."""

    sends: list[str] = []  # noqa: RUF012 - deliberately class-level: shared by every instance

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sends.append(request.url or "")
        return super().send(request, **kwargs)


def test_install_cache_with_a_session_factory(
    installed: None, origin: Any, cache_path: str, key: str
) -> None:
    CountingSession.sends = []
    patcher.install_cache(cache_path, session_factory=CountingSession, keys=[key])
    url = origin.url("/data/factory")

    requests.get(url, timeout=10)
    second = requests.get(url, timeout=10)

    assert isinstance(requests.Session(), CountingSession)
    assert second.from_cache
    assert CountingSession.sends == [url, url]
    assert origin.hits("/data/factory") == 1


class HeaderSession(CachedSession):
    """A session_factory whose __init__ sets per-instance state (a default header)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers["X-Factory"] = "set-in-init"


def test_install_cache_runs_the_session_factory_init(
    installed: None, origin: Any, cache_path: str, key: str
) -> None:
    patcher.install_cache(cache_path, session_factory=HeaderSession, keys=[key])

    response = requests.get(origin.url("/echo/factory-init"), timeout=10)

    assert response.json()["headers"].get("X-Factory") == "set-in-init"


def test_enabled_context_manager_caches_only_inside(
    installed: None, origin: Any, cache_path: str, key: str
) -> None:
    url = origin.url("/data/enabled")

    with patcher.enabled(cache_path, keys=[key]):
        assert patcher.is_installed()
        cache = patcher.get_cache()
        requests.get(url, timeout=10)
        inside = requests.get(url, timeout=10)
    outside = requests.get(url, timeout=10)
    assert cache is not None
    cache.close()

    assert not patcher.is_installed()
    assert inside.from_cache
    assert not hasattr(outside, "from_cache")
    assert origin.hits("/data/enabled") == 2


def test_disabled_context_manager_bypasses_the_installed_cache(
    installed: None, origin: Any, cache_path: str, key: str
) -> None:
    patcher.install_cache(cache_path, keys=[key])
    url = origin.url("/data/disabled")
    requests.get(url, timeout=10)

    with patcher.disabled():
        assert not patcher.is_installed()
        bypassed = requests.get(url, timeout=10)
    after = requests.get(url, timeout=10)

    assert patcher.is_installed()
    assert not hasattr(bypassed, "from_cache")
    assert after.from_cache
    assert origin.hits("/data/disabled") == 2


def test_installed_sessions_share_one_cache(
    installed: None, origin: Any, cache_path: str, key: str
) -> None:
    patcher.install_cache(cache_path, keys=[key])
    url = origin.url("/data/shared-install")

    with requests.Session() as one:
        one.get(url, timeout=10)
    with requests.Session() as two:
        second = two.get(url, timeout=10)

    assert second.from_cache
    assert patcher.get_cache() is not None
    assert patcher.get_cache().contains(url=url)  # type: ignore[union-attr]
    patcher.clear()
    assert not patcher.get_cache().contains(url=url)  # type: ignore[union-attr]
