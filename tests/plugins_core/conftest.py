"""Throw-away plugin distributions, installed for real on sys.path, and a local origin.

:func:`install` writes ``<module>.py`` and ``<name>-<version>.dist-info/`` (METADATA and
entry_points.txt) into a directory on sys.path, so ``importlib.metadata`` finds the entry
point exactly as it finds a ``pip install``-ed package's. Every test gets a fresh process-wide
registry, so the session, the spec builder and the config see the installed plugins.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vaultcache import registry as registry_module

PREFIX = "vc_core_"

PLUGIN_TEMPLATE = '''
"""A throw-away vaultcache plugin: rot13 stages and memory backends under new names."""

import pathlib

import vaultcache
from vaultcache.backends import memory_cache

{prelude}

STAGES = {stages!r}
BACKENDS = {backends!r}
_TABLE = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    b"NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)


class Rot13Stage:
    kind = "compression"

    def __init__(self, name):
        self.name = name

    def dumps(self, data):
        return bytes(data).translate(_TABLE)

    def loads(self, data):
        return bytes(data).translate(_TABLE)


def _stage_factory(name):
    def build(options, keys):
        if set(options) - {{"max_size"}}:
            raise vaultcache.ConfigError(f"stage {{name!r}}: unknown option")
        return Rot13Stage(name)

    return build


def _backend(cache_name, options):
    return memory_cache(cache_name, **options)


@vaultcache.hookimpl
def vaultcache_register_stages(registry):
    for name in STAGES:
        registry.add(name, _stage_factory(name), kind="compression", description="rot13 (test)")


@vaultcache.hookimpl
def vaultcache_register_backends(registry):
    for name in BACKENDS:
        registry.add(name, _backend, description="memory, renamed (test)")
'''

Install = Callable[..., Path]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path for throw-away distributions; a fresh process-wide registry."""
    directory = tmp_path / "site-packages"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.setattr(registry_module, "_default_registry", None)
    monkeypatch.delenv("VAULTCACHE_PLUGINS", raising=False)
    _forget_modules()
    yield directory
    _forget_modules()
    importlib.invalidate_caches()


def _forget_modules() -> None:
    for name in [name for name in sys.modules if name.startswith(PREFIX)]:
        del sys.modules[name]


@pytest.fixture
def install(site: Path) -> Install:
    """Install a throw-away plugin distribution; returns the marker file its import writes."""

    def install(
        distribution: str,
        *,
        stages: tuple[str, ...] = (),
        backends: tuple[str, ...] = (),
        api: str | None = "1",
        fail: str | None = None,
        version: str = "1.0",
    ) -> Path:
        module = distribution.replace("-", "_").replace(".", "_")
        assert module.startswith(PREFIX), f"throw-away distributions are named {PREFIX}*"
        marker = site.parent / f"{module}.imported"
        prelude = [f"pathlib.Path({str(marker)!r}).write_text('imported')"]
        if fail is not None:
            prelude.append(f"raise ImportError({fail!r})")
        if api is not None:
            prelude.append(f"VAULTCACHE_PLUGIN_API = {api}")
        source = PLUGIN_TEMPLATE.format(
            prelude="\n".join(prelude), stages=stages, backends=backends
        )
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
        )
        entry_point = (stages + backends + ("plugin",))[0]
        (info / "entry_points.txt").write_text(
            f"[vaultcache]\n{entry_point} = {module}\n", encoding="utf-8"
        )
        importlib.invalidate_caches()
        return marker

    return install


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {self.path}".encode()
        self.server.hits += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Origin:
    """A local HTTP origin on 127.0.0.1 in a background thread; counts the requests it answers."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
        self.server.daemon_threads = True
        self.server.hits = 0  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def hits(self) -> int:
        """Requests answered so far."""
        return int(self.server.hits)  # type: ignore[attr-defined]

    def url(self, path: str) -> str:
        """The URL of `path` on this origin."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"


@pytest.fixture
def origin() -> Iterator[Origin]:
    """A running :class:`Origin`, stopped after the test."""
    served = Origin()
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()
    served.thread.join()
