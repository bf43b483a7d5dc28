"""The HTTP caching conformance suite (cache-tests.fyi), scored per mode against a baseline.

``baseline.json`` holds, for every mode in ``MODES``, every test's result under the website's
rules. A test whose result differs from it fails this module, whichever way it changed, so
each change shows in review; after a deliberate change, rewrite the baseline with
``.venv/bin/python tests/conformance/conformance_support.py --write-baseline``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conformance_support import BASELINE, MODES, baseline_entry, summary

#: Results that count as passing (a "check" test answers yes or no).
_PASSING = frozenset({"pass", "yes"})


@pytest.mark.parametrize("mode", list(MODES))
def test_every_result_is_the_baselines(conformance_scores: Any, mode: str) -> None:
    expected = json.loads(BASELINE.read_text(encoding="utf-8"))[mode]
    current = baseline_entry(conformance_scores[mode])
    lost = {
        test: result
        for test, result in current.items()
        if expected.get(test) in _PASSING and result not in _PASSING
    }
    changed = {
        test: f"{expected.get(test)} -> {result}"
        for test, result in current.items()
        if expected.get(test) != result
    }
    assert not lost, f"{mode} ({summary(conformance_scores[mode])}): tests no longer pass: {lost}"
    assert not changed, (
        f"{mode} ({summary(conformance_scores[mode])}): results changed: {changed}; "
        "if intended, rewrite tests/conformance/baseline.json (see this module's docstring)"
    )
