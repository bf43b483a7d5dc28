"""Fixtures for the conformance suite: node and npm found (or a clear skip), the suite scored.

With ``--import-mode=importlib`` test directories are not on ``sys.path``; this one goes on it
so the test module can import ``conformance_support``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from conformance_support import BASELINE, MODES, prepare_suite, score_all  # noqa: E402


def _require(program: str) -> None:
    """Skip (fail when CI=true) without `program`, saying how to get it."""
    if shutil.which(program) is not None:
        return
    reason = (
        f"{program} is not installed (Debian/Ubuntu: apt-get install nodejs npm; node >= 20); "
        "the HTTP caching conformance suite (cache-tests.fyi) runs on node"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def conformance_scores(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, dict[str, dict[str, str]]]:
    """Every mode's classified results: test id -> {kind, result} (one run of the suite, and
    a second of a mode where a result differs from the baseline: see ``score_all``)."""
    _require("node")
    if not os.environ.get("VAULTCACHE_CACHE_TESTS_NODE_MODULES"):
        _require("npm")
    suite = prepare_suite(tmp_path_factory.mktemp("conformance"))
    expected = json.loads(BASELINE.read_text(encoding="utf-8"))
    return score_all(suite, list(MODES), expected)
