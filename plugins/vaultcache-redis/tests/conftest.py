"""Fixtures: real ``redis-server`` processes on free loopback ports, in temporary directories.

``redis_url`` starts one server for the whole test session (no persistence: ``--save ""
--appendonly no``) and stops it at the end; ``redis_cluster_url`` starts three servers with
``--cluster-enabled yes`` and joins them with ``redis-cli --cluster create``. Tests keep apart
by key prefix, never by flushing. Without ``redis-server`` on PATH the tests that need it
skip, saying so, except when ``CI=true``: then they fail, so CI cannot pass without them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

#: How long a server may take to answer its first PING.
START_SECONDS = 20.0


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
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process, listening on 127.0.0.1 only."""

    def __init__(self, directory: Path, extra: tuple[str, ...] = ()) -> None:
        self.directory = directory
        self.port = _free_port()
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
                *extra,
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


def start_server(directory: Path, extra: tuple[str, ...] = ()) -> RedisServer:
    """A running server; retried on a new port if another process took the free one."""
    for attempt in range(3):
        server = RedisServer(directory / f"try-{attempt}", extra)
        try:
            server.wait_ready()
        except RuntimeError:
            server.stop()
            if attempt == 2:
                raise
            continue
        return server
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server started for this test session (stopped at its end)."""
    server = start_server(tmp_path_factory.mktemp("redis-server"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of one node of a three-node Redis Cluster (no replicas) for this session."""
    redis_cli = _binary("redis-cli")
    base = tmp_path_factory.mktemp("redis-cluster")
    servers: list[RedisServer] = []
    try:
        for number in range(3):
            servers.append(
                start_server(
                    base / f"node-{number}",
                    ("--cluster-enabled", "yes", "--cluster-node-timeout", "5000"),
                )
            )
        nodes = [f"127.0.0.1:{server.port}" for server in servers]
        subprocess.run(
            [redis_cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        _wait_for_cluster([server.port for server in servers])
        yield servers[0].url
    finally:
        for server in servers:
            server.stop()


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
