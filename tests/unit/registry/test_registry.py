"""The registry's built-ins, name look-ups, and lazy loading."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

import vaultcache
from vaultcache import CachedResponse, UnknownPluginError, build_pipeline
from vaultcache.crypto_keys import KeyRing
from vaultcache.errors import SpecError
from vaultcache.registry import BUILTIN_PLUGINS, STAGE_KINDS, PluginRegistry, get_registry

BUILTIN_STAGES = {
    "msgpack": "format",
    "json": "format",
    "yaml": "format",
    "pickle": "format",
    "bson": "format",
    "toml": "format",
    "zstd": "compression",
    "gzip": "compression",
    "zlib": "compression",
    "bz2": "compression",
    "lzma": "compression",
    "signed": "signing",
    "aesgcm": "encryption",
    "fernet": "encryption",
}
BUILTIN_KEY_SOURCES = {"env", "file", "data-dir"}


def test_builtin_stages_are_listed_with_kind_provider_and_description(
    registry: PluginRegistry,
) -> None:
    listed = {r.name: r for r in registry.stages()}
    for name, kind in BUILTIN_STAGES.items():
        registration = listed[name]
        assert registration.category == "stage"
        assert registration.kind == kind
        assert registration.provider.distribution == "vaultcache"
        assert registration.provider.version == vaultcache.__version__
        assert str(registration.provider) == f"vaultcache {vaultcache.__version__}"
        assert registration.description
        assert "\n" not in registration.description
        assert registration.kind in STAGE_KINDS


def test_builtin_key_sources_are_listed(registry: PluginRegistry) -> None:
    listed = {r.name: r for r in registry.key_sources()}
    assert set(listed) >= BUILTIN_KEY_SOURCES
    for name in BUILTIN_KEY_SOURCES:
        assert listed[name].kind == "key source"
        assert listed[name].category == "key source"
        assert listed[name].provider.distribution == "vaultcache"
        assert listed[name].description


def test_listing_is_sorted_and_builtins_have_no_problems(registry: PluginRegistry) -> None:
    names = [r.name for r in registry.stages()]
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert registry.conflicts() == []
    assert registry.failures() == []


def test_authenticating_stages_need_keys(registry: PluginRegistry) -> None:
    for name, kind in BUILTIN_STAGES.items():
        registration = registry.stage(name)
        assert registration.authenticates == (kind in {"signing", "encryption"})
    assert registry.stage("pickle").requires_authentication
    assert not registry.stage("msgpack").requires_authentication


def test_optional_stages_name_their_extra(registry: PluginRegistry) -> None:
    for name, extra in {"yaml": "yaml", "bson": "bson", "toml": "toml"}.items():
        registration = registry.stage(name)
        assert registration.requires
        assert registration.extra == extra


@pytest.mark.parametrize("spelling", ["zstd", "ZSTD", "Zstd", "zStD"])
def test_stage_lookups_are_case_insensitive(registry: PluginRegistry, spelling: str) -> None:
    assert registry.stage(spelling) is registry.stage("zstd")
    assert registry.get("stage", spelling).name == "zstd"


def test_key_source_and_spec_lookups_are_case_insensitive(
    registry: PluginRegistry, keys: KeyRing
) -> None:
    assert registry.key_source("Data-Dir") is registry.key_source("data-dir")
    assert registry.key_source("ENV").name == "env"
    pipeline = build_pipeline("JSON+ZStd+AesGcm", registry=registry, keys=keys)
    assert pipeline.spec == "json+zstd+aesgcm"
    response = CachedResponse(url="https://example.org/", status_code=200, content=b"hello")
    assert pipeline.loads(pipeline.dumps(response)) == response


def test_unknown_name_lists_the_known_ones(registry: PluginRegistry) -> None:
    with pytest.raises(UnknownPluginError) as info:
        registry.stage("brotli")
    assert info.value.name == "brotli"
    assert info.value.category == "stage"
    assert set(info.value.known) >= set(BUILTIN_STAGES)
    assert "zstd" in str(info.value)
    assert info.value.failed == ()
    with pytest.raises(SpecError, match="brotli"):
        build_pipeline("brotli", registry=registry)


def test_unknown_backend_and_key_source(registry: PluginRegistry) -> None:
    with pytest.raises(UnknownPluginError, match="unknown backend 'nope'"):
        registry.backend("nope")
    with pytest.raises(UnknownPluginError, match="unknown key source 'nope'"):
        registry.key_source("nope")


def test_builtins_are_loaded_lazily_and_once(registry: PluginRegistry) -> None:
    # Building a registry does no work; the first look-up loads, later ones reuse.
    first = registry.stage("zstd")
    registry.stages()
    registry.key_source("env")
    assert registry.stage("zstd") is first
    assert [r.name for r in registry.stages()].count("zstd") == 1


def test_concurrent_first_lookups_load_once() -> None:
    registry = PluginRegistry(entry_points=False)
    barrier = threading.Barrier(8)
    found: list[object] = []
    errors: list[BaseException] = []

    def look_up() -> None:
        barrier.wait()
        try:
            found.append(registry.stage("aesgcm"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=look_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(found) == 8
    assert all(item is found[0] for item in found)
    assert registry.conflicts() == []


class _WatchedLock:
    """An RLock that sets `contended` when a thread has to wait for it."""

    def __init__(self, contended: threading.Event) -> None:
        self._lock = threading.RLock()
        self.contended = contended

    def __enter__(self) -> _WatchedLock:
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def test_a_lookup_while_another_thread_loads_waits_for_every_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deterministic: the second look-up starts while the first is inside the loading."""
    registry = PluginRegistry(entry_points=False)
    progressed = threading.Event()  # the second look-up waits on the lock, or has finished
    registry._lock = _WatchedLock(progressed)  # type: ignore[assignment]
    loading, go = threading.Event(), threading.Event()
    real_add = registry._add_plugin

    def slow_add(plugin: object, provider: object) -> None:
        loading.set()
        go.wait()
        real_add(plugin, provider)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "_add_plugin", slow_add)
    first = threading.Thread(target=registry.stage, args=("aesgcm",))
    first.start()
    loading.wait()
    outcome: list[object] = []

    def second_look_up() -> None:
        try:
            outcome.append(registry.stage("zstd"))
        except BaseException as exc:  # reported below
            outcome.append(exc)
        finally:
            progressed.set()

    second = threading.Thread(target=second_look_up)
    second.start()
    progressed.wait()
    go.set()
    first.join()
    second.join()

    assert outcome == [registry.stage("zstd")]


def test_get_registry_is_one_per_process() -> None:
    assert get_registry() is get_registry()


def test_import_vaultcache_does_not_scan_entry_points_or_load_stages() -> None:
    code = textwrap.dedent(
        """
        import importlib.metadata
        import sys

        calls = []
        real = importlib.metadata.entry_points

        def spy(*args, **kwargs):
            calls.append(kwargs.get("group"))
            return real(*args, **kwargs)

        importlib.metadata.entry_points = spy

        import vaultcache
        import vaultcache.registry

        builtins = {builtins!r}
        stage_modules = [name for name in builtins if name.startswith("vaultcache.serializers")]
        loaded = [name for name in stage_modules if name in sys.modules]
        assert calls == [], ("entry points scanned at import", calls)
        assert loaded == [], ("built-in stage modules imported at import", loaded)
        assert "vaultcache.serializers.stages" not in sys.modules

        # The spy does see the scan once something is looked up, so the check above is real.
        vaultcache.registry.get_registry().stage("zstd")
        assert calls == ["vaultcache"], calls
        assert all(name in sys.modules for name in stage_modules)
        print("ok")
        """
    ).format(builtins=BUILTIN_PLUGINS)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_look_up_during_loading_in_another_thread_waits_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = PluginRegistry(entry_points=False)
    loading, release = threading.Event(), threading.Event()
    add_plugin = registry._add_plugin

    def slow_add_plugin(*args: object) -> None:
        loading.set()
        assert release.wait(10)
        add_plugin(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "_add_plugin", slow_add_plugin)
    results: dict[str, object] = {}

    def look_up(name: str) -> None:
        try:
            results[name] = registry.stage("zstd").name
        except Exception as exc:
            results[name] = exc

    first = threading.Thread(target=look_up, args=("first",))
    first.start()
    assert loading.wait(10)
    second = threading.Thread(target=look_up, args=("second",))
    second.start()
    second.join(0.2)
    waited = second.is_alive()  # blocked until loading is done, not failing meanwhile
    release.set()
    first.join(10)
    second.join(10)

    assert waited
    assert results == {"first": "zstd", "second": "zstd"}
