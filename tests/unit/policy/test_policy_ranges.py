"""Which byte range of a stored response a Range request gets (RFC 9110 §14.1.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultcache.policy.ranges import requested_range


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes=0-1", (0, 1)),
        ("bytes=1-", (1, 10)),
        ("bytes=-1", (10, 10)),
        ("bytes=-50", (0, 10)),  # a suffix longer than the body: all of it
        ("bytes=5-50", (5, 10)),  # a last position past the end: up to the end
        ("BYTES=2-3", (2, 3)),
        ("bytes=11-", None),  # unsatisfiable: the whole response instead
        ("bytes=3-2", None),
        ("bytes=-0", None),
        ("bytes=-", None),
        ("bytes=0-1,3-4", None),  # several ranges: the whole response
        ("items=0-1", None),
        ("bytes=a-b", None),
    ],
)
def test_requested_range(value: str, expected: tuple[int, int] | None) -> None:
    assert requested_range({"Range": value}, {}, 11) == expected


def test_no_range_for_if_range_or_a_coded_body() -> None:
    assert requested_range({"Range": "bytes=0-1", "If-Range": '"v1"'}, {}, 11) is None
    assert requested_range({"Range": "bytes=0-1"}, {"Content-Encoding": "gzip"}, 11) is None
    assert requested_range({}, {}, 11) is None


@given(st.text(max_size=40), st.integers(min_value=0, max_value=100))
def test_a_range_is_always_inside_the_body(value: str, length: int) -> None:
    found = requested_range({"Range": value}, {}, length)
    assert found is None or 0 <= found[0] <= found[1] < length
