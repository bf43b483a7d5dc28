"""The stage contract: the tests every serializer stage passes, built-in or from a plugin.

Subclass :class:`StageContract` and name the stage as registered; the tests build it through
the plugin registry, so they also prove the plugin is installed and loads::

    from vaultcache.testing import StageContract

    class TestBrotliStage(StageContract):
        stage_name = "brotli"
        stage_options = {"quality": 5}

Override ``make_stage(self, options, keys)`` to build the stage some other way. What is
checked follows the stage's registered kind: round trips, input it cannot accept (only
``IntegrityError``, ``DecodeError`` or ``SizeLimitError``), bounded decompression and a
``max_size`` option for compression stages, every bit flip failing authentication and key
rotation for signing and encryption stages, unknown options, and use in a spec string.
"""

from __future__ import annotations

import random
import string
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultcache.crypto_keys import KeyRing, generate_key
from vaultcache.errors import ConfigError, DecodeError, IntegrityError, SizeLimitError
from vaultcache.models import CachedResponse
from vaultcache.registrars import AUTHENTICATING_KINDS as AUTHENTICATING
from vaultcache.registry import Registration, get_registry
from vaultcache.serializers import build_pipeline

__all__ = ["AUTHENTICATING", "ENTRY_ERRORS", "StageContract"]

#: What a stage's ``loads`` may raise for input it cannot accept; anything else fails the test.
ENTRY_ERRORS = (IntegrityError, DecodeError, SizeLimitError)

_MIB = 1024 * 1024
_SIZES = {"empty": 0, "1 byte": 1, "1 MiB random": _MIB, "1 MiB compressible": _MIB}
#: Specs that put a stage of each kind where it belongs; ``{}`` is the stage's name.
_SPECS = {
    "format": "{}+zstd+aesgcm",
    "compression": "signed+{}+aesgcm",
    "signing": "json+zstd+{}",
    "encryption": "signed+zstd+{}",
}


class StageContract:
    """Base class of the stage contract tests; set :attr:`stage_name` in a ``Test...`` subclass.

    Not collected itself (no ``Test`` prefix). What is checked depends on the stage's
    registered kind: a ``format`` stage turns CachedResponses into bytes, every other kind
    turns bytes into bytes; ``signing`` and ``encryption`` stages get a KeyRing and must reject
    every altered entry with IntegrityError; ``compression`` stages must take a ``max_size``
    option and respect it with bounded memory.
    """

    #: The name the stage is registered under.
    stage_name: ClassVar[str]
    #: Options the stage is built with (a ``[serializer.<name>]`` table's contents).
    stage_options: ClassVar[dict[str, Any]] = {}
    #: Examples per property test.
    max_examples: ClassVar[int] = 50
    #: The ``max_size`` the bounded-decompression test builds the stage with.
    bomb_max_size: ClassVar[int] = _MIB
    #: How many times ``bomb_max_size`` the bomb decompresses to.
    bomb_ratio: ClassVar[int] = 32
    #: Peak memory allowed while refusing the bomb: this many times ``bomb_max_size`` ...
    bomb_memory_factor: ClassVar[int] = 4
    #: ... plus this much for the codec's own working memory (lzma's dictionary is 8 MiB).
    bomb_memory_allowance: ClassVar[int] = 12 * _MIB
    #: CPU seconds the bomb may take to be refused (this process's CPU time, so other
    #: processes busy on a shared CI machine do not count; generous all the same).
    bomb_seconds: ClassVar[float] = 2.0

    def make_stage(self, options: dict[str, Any], keys: KeyRing) -> Any:
        """Build the stage; by default through the process-wide registry, by name."""
        return get_registry().build_stage(self.stage_name, options, keys)

    # -- fixtures and helpers ---------------------------------------------------------------

    @property
    def registration(self) -> Registration:
        """The stage's registration (its kind decides which tests apply)."""
        return get_registry().stage(self.stage_name)

    @property
    def kind(self) -> str:
        """The stage's registered kind."""
        return self.registration.kind

    @pytest.fixture
    def keys(self) -> KeyRing:
        """A fresh key ring of one key."""
        return KeyRing([generate_key()])

    @pytest.fixture
    def stage(self, keys: KeyRing) -> Any:
        """The stage built with :attr:`stage_options` and `keys`."""
        return self.make_stage(dict(self.stage_options), keys)

    def value(self, body: bytes) -> Any:
        """What the stage's ``dumps`` takes, carrying `body`: bytes, or a response for formats."""
        if self.kind == "format":
            return CachedResponse(url="https://example.org/a?b=c", status_code=200, content=body)
        return body

    def written(self, stage: Any) -> bytes:
        """A small entry as the stage writes it."""
        return bytes(stage.dumps(self.value(b"vaultcache stage contract " * 3)))

    def _skip_unless(self, *kinds: str) -> None:
        if self.kind not in kinds:
            pytest.skip(f"applies to {' and '.join(kinds)} stages; this one is {self.kind}")

    def _check_loads(self, stage: Any, data: bytes, label: str, *, must_fail: bool) -> None:
        """``loads(data)`` raises an entry error or nothing else; `must_fail`: it must raise.

        Unauthenticated stages may accept altered input they cannot tell from real input (a
        codec without a checksum, a format), but must then give back the right type.
        """
        try:
            result = stage.loads(data)
        except ENTRY_ERRORS:
            return
        except Exception as exc:  # the contract: nothing but entry errors
            pytest.fail(f"loads of {label} raised {type(exc).__name__}, not an entry error")
        if must_fail or self.kind in AUTHENTICATING:
            pytest.fail(f"loads of {label} was accepted")
        expected = CachedResponse if self.kind == "format" else bytes
        assert isinstance(result, expected), f"loads of {label} gave {type(result).__name__}"

    # -- round trips ------------------------------------------------------------------------

    @pytest.mark.parametrize("label", list(_SIZES))
    def test_round_trip(self, stage: Any, label: str) -> None:
        value = self.value(_body(label))
        written = stage.dumps(value)
        assert isinstance(written, bytes), f"dumps gave {type(written).__name__}, not bytes"
        assert stage.loads(written) == value

    def test_round_trip_of_text(self, stage: Any) -> None:
        value = self.value("ünïcödé text, 日本語 ✓\n".encode() * 100)
        assert stage.loads(stage.dumps(value)) == value

    def test_round_trip_of_any_bytes(self, stage: Any) -> None:
        @settings(
            max_examples=self.max_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(body=st.binary(max_size=4096))
        def round_trip(body: bytes) -> None:
            value = self.value(body)
            assert stage.loads(stage.dumps(value)) == value

        round_trip()

    # -- input it cannot accept -------------------------------------------------------------

    def test_random_input(self, stage: Any) -> None:
        rng = random.Random(self.stage_name)  # noqa: S311 - reproducible test data
        for size in (0, 1, 2, 7, 16, 31, 64, 100, 1000, 4096):
            for _ in range(5):
                data = rng.randbytes(size)
                self._check_loads(stage, data, f"{size} random bytes", must_fail=False)

    def test_truncated_input(self, stage: Any) -> None:
        written = self.written(stage)
        must_fail = self.kind != "format"
        for length in range(len(written)):
            label = f"the first {length} bytes"
            self._check_loads(stage, written[:length], label, must_fail=must_fail)

    def test_appended_garbage(self, stage: Any) -> None:
        written = self.written(stage)
        must_fail = self.kind != "format"
        for garbage in (b"\x00", b"garbage", written, bytes(range(256))):
            label = f"{len(garbage)} bytes appended"
            self._check_loads(stage, written + garbage, label, must_fail=must_fail)

    def test_bit_flips(self, stage: Any) -> None:
        written = self.written(stage)
        for position, bit in _flips(len(written), every=self.kind in AUTHENTICATING):
            label = f"bit {bit} of byte {position} flipped"
            self._check_loads(stage, _flip(written, position, bit), label, must_fail=False)

    def test_any_input(self, stage: Any) -> None:
        @settings(
            max_examples=self.max_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(data=st.binary(max_size=512))
        def loads_any(data: bytes) -> None:
            self._check_loads(stage, data, "arbitrary bytes", must_fail=False)

        loads_any()

    # -- signing and encryption -------------------------------------------------------------

    def test_every_alteration_fails_authentication(self, stage: Any) -> None:
        self._skip_unless(*AUTHENTICATING)
        written = self.written(stage)
        altered = [written[:length] for length in range(len(written))]
        altered += [_flip(written, p, b) for p, b in _flips(len(written), every=True)]
        altered += [written + b"\x00", written + written]
        for data in altered:
            with pytest.raises(IntegrityError):
                stage.loads(data)

    def test_another_key_fails_authentication(self, stage: Any) -> None:
        self._skip_unless(*AUTHENTICATING)
        stranger = self.make_stage(dict(self.stage_options), KeyRing([generate_key()]))
        with pytest.raises(IntegrityError):
            stranger.loads(self.written(stage))

    def test_rotation(self) -> None:
        self._skip_unless(*AUTHENTICATING)
        old, new = generate_key(), generate_key()
        before = self.make_stage(dict(self.stage_options), KeyRing([old]))
        rotated = self.make_stage(dict(self.stage_options), KeyRing([new, old]))
        retired = self.make_stage(dict(self.stage_options), KeyRing([new]))
        old_entry, new_entry = self.written(before), self.written(rotated)
        value = before.loads(old_entry)
        _must_read(rotated, old_entry, value, "an older key in the ring must still read")
        _must_read(retired, new_entry, value, "the new primary key must write")
        with pytest.raises(IntegrityError):
            before.loads(new_entry)  # written under the new key, which `before` lacks
        with pytest.raises(IntegrityError):
            retired.loads(old_entry)  # the old key is retired

    # -- compression ------------------------------------------------------------------------

    def test_max_size_is_exact(self, keys: KeyRing) -> None:
        self._skip_unless("compression")
        limit = 4096
        stage = self.make_stage({**self.stage_options, "max_size": limit}, keys)
        body = _body("1 MiB compressible")[:limit]
        assert stage.loads(stage.dumps(body)) == body
        with pytest.raises(SizeLimitError):
            stage.loads(stage.dumps(body + b"!"))

    def test_decompression_is_bounded(self, keys: KeyRing) -> None:
        self._skip_unless("compression")
        limit = self.bomb_max_size
        stage = self.make_stage({**self.stage_options, "max_size": limit}, keys)
        bomb = stage.dumps(bytes(limit * self.bomb_ratio))
        assert len(bomb) < limit, "zeros must compress well below max_size"
        peak, seconds = _measure(lambda: _expect_size_limit(stage, bomb))
        allowed = self.bomb_memory_factor * limit + self.bomb_memory_allowance
        assert peak <= allowed, f"refusing a bomb used {peak} bytes at peak; allowed {allowed}"
        assert seconds <= self.bomb_seconds, f"refusing a bomb took {seconds:.2f} s of CPU time"

    # -- options and specs ------------------------------------------------------------------

    def test_unknown_options_are_rejected(self, keys: KeyRing) -> None:
        with pytest.raises(ConfigError):
            self.make_stage({**self.stage_options, "no_such_option_xyz": 1}, keys)

    def test_compression_takes_max_size(self, keys: KeyRing) -> None:
        self._skip_unless("compression")
        stage = self.make_stage({**self.stage_options, "max_size": 12345}, keys)
        assert stage.loads(stage.dumps(b"abc")) == b"abc"

    def test_in_a_spec(self, keys: KeyRing) -> None:
        spec = _SPECS[self.kind].format(self.stage_name)
        pipeline = build_pipeline(
            spec, keys=keys, options={self.stage_name: dict(self.stage_options)}
        )
        response = CachedResponse(
            url="https://example.org/spec", status_code=200, content=_body("1 MiB compressible")
        )
        assert pipeline.loads(pipeline.dumps(response)) == response
        assert self.stage_name.lower() in pipeline.spec.split("+")


def _body(label: str) -> bytes:
    size = _SIZES[label]
    rng = random.Random(label)  # noqa: S311 - reproducible test data
    if "random" in label:
        return rng.randbytes(size)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 9))) for _ in range(200)]
    return " ".join(rng.choices(words, k=size // 3 + 1)).encode("ascii")[:size]


def _flip(data: bytes, position: int, bit: int) -> bytes:
    altered = bytearray(data)
    altered[position] ^= 1 << bit
    return bytes(altered)


def _flips(length: int, *, every: bool) -> Iterator[tuple[int, int]]:
    """Every (byte, bit) of an entry, or for unauthenticated stages a spread-out sample."""
    positions = range(length) if every else sorted({*range(min(length, 16)), length - 1})
    for position in positions:
        for bit in range(8) if every else (0, 7):
            yield position, bit


def _must_read(stage: Any, entry: bytes, value: Any, why: str) -> None:
    try:
        result = stage.loads(entry)
    except IntegrityError:
        pytest.fail(f"{why}, but loads raised IntegrityError")
    assert result == value, f"{why}, but loads gave something else"


def _expect_size_limit(stage: Any, bomb: bytes) -> None:
    with pytest.raises(SizeLimitError):
        stage.loads(bomb)


def _measure(action: Callable[[], None]) -> tuple[int, float]:
    """Peak traced memory (bytes) and CPU seconds this process spent in `action`.

    CPU time (of every thread, a codec's helpers included), not the wall clock: what the
    work cost, however long other processes on a busy machine kept this one from running.
    """
    tracemalloc.start()
    try:
        started = time.process_time()
        action()
        seconds = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, seconds
