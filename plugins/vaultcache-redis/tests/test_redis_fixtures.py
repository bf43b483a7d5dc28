"""The fixtures of conftest.py: ports valid by construction, one report per failure or skip.

These run pytest in a subprocess, with ``PATH`` pointing at stand-in Redis programs (or none),
on this package's own test modules.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def _conftest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redis_fixtures_under_test", HERE / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pytest(path_dir: Path, *targets: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(path_dir)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *targets],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.stdout + result.stderr


def test_cluster_ports_leave_room_for_the_bus_port() -> None:
    conftest = _conftest()
    for _ in range(200):
        port = conftest.free_port(cluster=True)
        assert port in conftest.PORT_RANGE
        assert port + conftest.BUS_OFFSET <= 65535
        assert port + conftest.BUS_OFFSET < 32768  # below Linux's ephemeral ports too


def test_without_redis_server_each_module_says_so_once(tmp_path: Path) -> None:
    output = _pytest(tmp_path, "plugins/vaultcache-redis/tests/test_redis_storage.py")
    lines = [line for line in output.splitlines() if "redis-server is not installed" in line]
    assert len(lines) == 1, output
    assert re.match(
        r"SKIPPED \[\d+\] plugins/vaultcache-redis/tests/test_redis_storage.py:", lines[0]
    )


def test_a_cluster_that_cannot_start_is_one_error(tmp_path: Path) -> None:
    for name in ("redis-server", "redis-cli"):
        program = tmp_path / name
        program.write_text("#!/bin/sh\nexit 1\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
    output = _pytest(tmp_path, "plugins/vaultcache-redis/tests/test_redis_cluster.py")
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\b1 error\b", summary), output
    assert "skipped" in summary
    assert output.count("the Redis Cluster did not start: redis-server exited") == 1, output


def test_a_cluster_that_cannot_be_joined_is_one_error(tmp_path: Path) -> None:
    real = shutil.which("redis-server")
    if real is None:
        pytest.skip("redis-server is not installed")
    (tmp_path / "redis-server").symlink_to(real)
    program = tmp_path / "redis-cli"
    program.write_text("#!/bin/sh\necho 'ERR cannot join' >&2\nexit 1\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    output = _pytest(tmp_path, "plugins/vaultcache-redis/tests/test_redis_cluster.py")
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\b1 error\b", summary), output
    assert "failed" not in summary, output
    assert output.count("redis-cli --cluster create failed: ERR cannot join") == 1, output


@pytest.mark.parametrize("port", [55536, 60999])
def test_a_node_port_whose_bus_port_is_too_high_is_never_chosen(port: int) -> None:
    assert port not in _conftest().PORT_RANGE
