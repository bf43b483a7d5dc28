"""Fixtures: real ``redis-server`` processes on free loopback ports, in temporary directories.

``redis_url`` starts one server for the whole test session (no persistence: ``--save ""
--appendonly no``) and stops it at the end; ``redis_cluster_url`` starts three servers with
``--cluster-enabled yes`` and joins them with ``redis-cli --cluster create``. Tests keep apart
by key prefix, never by flushing. Without ``redis-server`` on PATH the tests that need it
skip, saying so, except when ``CI=true``: then they fail, so CI cannot pass without them.

Ports are valid by construction: each is drawn from :data:`PORT_RANGE`, below the kernel's
ephemeral ports (so no outgoing connection holds it), with the cluster bus port (port + 10000)
inside it too and both checked free. A skip is reported once per module, not once per test;
a fixture that fails is one error (the first test that asks for it), and the other tests that
need it skip with a pointer to that error.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import redis

#: How long a server may take to answer its first PING.
START_SECONDS = 20.0


#: Ports servers listen on: below Linux's ephemeral range (32768-60999), and leaving room
#: for a cluster node's bus port (port + 10000), which must be at most 65535 and is kept
#: below the ephemeral range too.
PORT_RANGE = range(12000, 22768)
#: A cluster node also listens on its port plus this ("cluster bus"); redis-server refuses
#: a port whose bus port would pass 65535.
BUS_OFFSET = 10000
#: How many ports a server start tries before it gives up (another process may take one).
START_ATTEMPTS = 5


_Skipped: type[BaseException] = pytest.skip.Exception


class ServerMissing(_Skipped):  # type: ignore[valid-type, misc]
    """A skip because a Redis program is not installed; reported once per module."""


class FixtureBroken(_Skipped):  # type: ignore[valid-type, misc]
    """A skip because a shared fixture already failed; reported once per module."""


def _binary(name: str) -> str:
    """The path of `name`, or skip (fail on CI) with how to install it."""
    path = shutil.which(name)
    if path is None:
        reason = (
            f"{name} is not installed (Debian/Ubuntu: apt-get install redis-server); "
            "the redis backend tests need a real server"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        raise ServerMissing(reason)
    return path


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, cluster: bool = False) -> int:
    """A port of :data:`PORT_RANGE` that is free now (with its bus port, for a cluster node)."""
    candidates = list(PORT_RANGE)
    random.shuffle(candidates)
    for port in candidates:
        if _is_free(port) and (not cluster or _is_free(port + BUS_OFFSET)):
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Report this file's skips at the module, so ``-ra`` prints each reason once per module."""
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, ServerMissing | FixtureBroken):
        report.longrepr = (str(item.path), 0, str(call.excinfo.value.msg))
    return report


class RedisServer:
    """One ``redis-server`` process, listening on 127.0.0.1 only."""

    def __init__(self, directory: Path, *, cluster: bool = False) -> None:
        self.directory = directory
        self.port = free_port(cluster=cluster)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = directory / "redis.log"
        directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                _binary("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
                "--logfile",
                str(self.log),
                "--daemonize",
                "no",
                *(
                    ("--cluster-enabled", "yes", "--cluster-node-timeout", "5000")
                    if cluster
                    else ()
                ),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self) -> None:
        """Return once the server answers PING; raise with its log if it exits or hangs."""
        deadline = time.monotonic() + START_SECONDS
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited: {self._log_tail()}")
                with contextlib.suppress(redis.exceptions.ConnectionError):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {self._log_tail()}")
                time.sleep(0.02)  # waiting for a process to start, not timing a test
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-5:])
        except OSError:
            return "(no log)"


def start_server(directory: Path, *, cluster: bool = False) -> RedisServer:
    """A running server; retried on a new port if another process took the free one."""
    for attempt in range(START_ATTEMPTS):
        server = RedisServer(directory / f"try-{attempt}", cluster=cluster)
        try:
            server.wait_ready()
        except RuntimeError:
            server.stop()
            if attempt == START_ATTEMPTS - 1:
                raise
            continue
        return server
    raise AssertionError("unreachable")


class SharedFixture:
    """A session-wide resource whose failure is reported once, not by every test using it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failed_in: str | None = None

    @contextlib.contextmanager
    def starting(self, request: pytest.FixtureRequest) -> Iterator[None]:
        """Run the start-up; on error, fail this test and make the later ones skip."""
        if self.failed_in is not None:
            raise FixtureBroken(
                f"{self.name} did not start; the error is reported once, at {self.failed_in}"
            )
        try:
            yield
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            self.failed_in = request.node.nodeid
            message = f"{self.name} did not start: {error}"
            raise pytest.fail.Exception(message, pytrace=False) from None


_SERVER = SharedFixture("redis-server")
_CLUSTER = SharedFixture("the Redis Cluster")


@pytest.fixture(scope="session")
def _redis_server() -> Iterator[list[RedisServer]]:
    servers: list[RedisServer] = []  # filled by the first test that asks
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def redis_url(
    _redis_server: list[RedisServer],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> str:
    """The URL of a redis-server started for this test session (stopped at its end)."""
    if not _redis_server:
        _binary("redis-server")
        with _SERVER.starting(request):
            _redis_server.append(start_server(tmp_path_factory.mktemp("redis-server")))
    return _redis_server[0].url


@pytest.fixture(scope="session")
def _redis_cluster() -> Iterator[list[RedisServer]]:
    servers: list[RedisServer] = []  # filled by the first test that asks
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def redis_cluster_url(
    _redis_cluster: list[RedisServer],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> str:
    """The URL of one node of a three-node Redis Cluster (no replicas) for this session."""
    if not _redis_cluster:
        _binary("redis-server")
        redis_cli = _binary("redis-cli")
        with _CLUSTER.starting(request):
            _start_cluster(tmp_path_factory.mktemp("redis-cluster"), redis_cli, _redis_cluster)
    return _redis_cluster[0].url


def _start_cluster(base: Path, redis_cli: str, servers: list[RedisServer]) -> None:
    """Start three nodes into `servers` and join them; on failure stop them, leaving it empty."""
    try:
        for number in range(3):
            servers.append(start_server(base / f"node-{number}", cluster=True))
        nodes = [f"127.0.0.1:{server.port}" for server in servers]
        joined = subprocess.run(
            [redis_cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if joined.returncode != 0:
            output = " | ".join((joined.stdout + joined.stderr).strip().splitlines()[-5:])
            raise RuntimeError(f"redis-cli --cluster create failed: {output}")
        _wait_for_cluster([server.port for server in servers])
    except BaseException:
        for server in servers:
            server.stop()
        servers.clear()  # later tests see "did not start", not a half-made cluster
        raise


def _wait_for_cluster(ports: list[int]) -> None:
    deadline = time.monotonic() + START_SECONDS
    for port in ports:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        try:
            while client.cluster("info").get("cluster_state") != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cluster node {port} did not reach cluster_state:ok")
                time.sleep(0.05)  # waiting for the nodes to agree, not timing a test
        finally:
            client.close()
