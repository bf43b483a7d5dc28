"""vaultcache benchmarks: ``python bench/bench.py <benchmark> [options]``.

Benchmarks:

- ``serializers``: dumps/loads throughput of vaultcache pipelines against hand-written
  baselines built from the same libraries, plus peak memory of Fernet and AES-GCM.
- ``dictionary``: on-disk size of 1000 JSON API responses with and without a trained zstd
  dictionary, and the 1 KiB / 16 KiB hit latency of each, paired in one run.
- ``session``: end-to-end ``session.get`` latency of cache hits and misses against a local
  HTTP server, for vaultcache's ``CachedSession`` (several serializers, sqlite and filesystem
  backends), requests-cache's ``CachedSession`` (the anchor) and a plain ``requests.Session``
  (the floor), plus on-disk bytes per entry and peak memory of one 16 MiB hit. With the
  ``vaultcache-redis`` plugin installed, also the ``redis`` backend, on a ``redis-server``
  the script starts on a free loopback port (or the one ``--redis-url`` names).

Timing method, shared by every benchmark: each candidate is timed in batches of calls with
``time.perf_counter_ns`` (the garbage collector paused during a batch), the batch size chosen
so one batch lasts about a set time (a benchmark's ``Plan``); candidates take turns batch by
batch (round-robin, the starting candidate rotating every round) so that drift in machine load
hits them all alike. A candidate's figure is the median over rounds of its time per call, with the
interquartile range; a ratio between two candidates is the median of their per-round ratios.

Only the standard library and vaultcache's own dependencies are used, so the script runs
wherever vaultcache is installed. ``session`` also measures requests-cache when it is installed
(``pip install 'vaultcache[bench]'``) and skips it, saying so, when it is not.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import io
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

KIB = 1024
MIB = 1024 * KIB
MB = 1_000_000  # throughput is reported in decimal megabytes per second


# -- shared timing machinery -------------------------------------------------------------------


@dataclass
class Candidate:
    """One thing to time: `run` is called with no arguments, `size` bytes per call."""

    label: str
    run: Callable[[], object]
    size: int
    samples: list[float] = field(default_factory=list)  # nanoseconds per call, one per round
    batch: int = 1
    #: Called after each batch, outside the timing (e.g. to delete what the batch stored).
    reset: Callable[[], None] | None = None


_T = TypeVar("_T")


def calling(function: Callable[[_T], object], argument: _T) -> Callable[[], object]:
    """A Candidate's `run` that calls ``function(argument)``, both bound now (a lambda made in
    a loop would see the loop's last values)."""
    return lambda: function(argument)


@dataclass(frozen=True)
class Plan:
    """How long to measure: rounds of batches, each batch lasting about `batch_ms`."""

    rounds: int
    batch_ms: float


def _time_batch(run: Callable[[], object], calls: int) -> float:
    """Nanoseconds per call over one batch of `calls` calls, with the GC paused."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(calls):
            run()
        elapsed = time.perf_counter_ns() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / calls


def _calibrate(candidate: Candidate, batch_ns: float) -> None:
    """Pick the batch size that makes one batch last about `batch_ns` (also warms up)."""
    calls = 1
    per_call = _time_batch(candidate.run, calls)
    while per_call * calls < batch_ns / 4:
        calls = max(calls * 2, int(batch_ns / 4 / max(per_call, 1.0)))
        per_call = _time_batch(candidate.run, calls)
    candidate.batch = max(1, round(batch_ns / per_call))


def measure_round_robin(candidates: Sequence[Candidate], plan: Plan) -> None:
    """Fill each candidate's `samples`, taking turns batch by batch."""
    batch_ns = plan.batch_ms * 1e6
    for candidate in candidates:
        _calibrate(candidate, batch_ns)
        if candidate.reset is not None:
            candidate.reset()
    count = len(candidates)
    for round_number in range(plan.rounds):
        start = round_number % count
        for candidate in [*candidates[start:], *candidates[:start]]:
            candidate.samples.append(_time_batch(candidate.run, candidate.batch))
            if candidate.reset is not None:
                candidate.reset()


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def paired_ratio(numerator: Candidate, denominator: Candidate) -> tuple[float, float, float]:
    """Quartiles of the per-round time ratio numerator / denominator."""
    ratios = [a / b for a, b in zip(numerator.samples, denominator.samples, strict=True)]
    return quartiles(ratios)


def mb_per_s(size: int, ns_per_call: float) -> float:
    """Throughput in decimal MB/s for `size` bytes processed in `ns_per_call`."""
    return size / MB / (ns_per_call / 1e9)


def peak_memory(run: Callable[[], object], repeat: int = 3) -> int:
    """Median peak of Python-allocated memory (tracemalloc) above the level before `run`."""
    run()  # warm caches (derived subkeys, compression contexts) outside the measurement
    peaks = []
    for _ in range(repeat):
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            run()
            peaks.append(tracemalloc.get_traced_memory()[1] - before)
        finally:
            tracemalloc.stop()
    return int(statistics.median(peaks))


def environment(started: dt.datetime, extra: Sequence[str] = ()) -> dict[str, Any]:
    """What the figures depend on: start time, interpreter, library versions, CPUs, load.

    `extra` names more packages whose versions matter; one that is not installed gets None.
    """
    packages = ("vaultcache", "cryptography", "zstandard", "msgpack", "itsdangerous", "cattrs")
    info: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "versions": {name: version(name) for name in packages},
    }
    for name in extra:
        try:
            info["versions"][name] = version(name)
        except PackageNotFoundError:
            info["versions"][name] = None
    revision = _git_revision()
    if revision:
        info["git"] = revision
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(value, 2) for value in os.getloadavg()]
    return info


def _git_revision() -> str | None:
    """The checkout's commit, with "+changes" when files differ from it; None outside git."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", "-C", root, *arguments],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", "vaultcache")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+changes" if changed else commit


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- serializers benchmark ---------------------------------------------------------------------

_WORDS_SEED = 1
_SYLLABLES = ("ka", "lo", "mi", "ner", "sto", "va", "qui", "dre", "pon", "ta", "zel", "or")


def _vocabulary(rng: random.Random, count: int = 300) -> list[str]:
    return ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(count)]


def make_body(size: int, seed: int) -> bytes:
    """A JSON-like API response of exactly `size` bytes, reproducible from `seed`.

    Records mix repeated keys and vocabulary (which compress well) with random ids, hex
    tokens, numbers and timestamps (which do not), so compression is neither trivial nor
    useless: zstd level 3 shrinks 1 MiB of it about 3.5 times.
    """
    rng = random.Random(seed)
    words = _vocabulary(random.Random(_WORDS_SEED))
    records: list[str] = []
    length = len('{"items":[]}')
    while length < size:
        record = {
            "id": rng.randrange(10**9),
            "uuid": rng.randbytes(16).hex(),
            "name": " ".join(rng.choice(words) for _ in range(2)).title(),
            "email": f"{rng.choice(words)}.{rng.choice(words)}@example.org",
            "score": round(rng.random() * 100, 4),
            "active": rng.random() < 0.7,
            "tags": rng.sample(words[:40], k=rng.randint(0, 4)),
            "updated": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
            "bio": " ".join(rng.choice(words) for _ in range(rng.randint(5, 25))),
        }
        text = json.dumps(record, separators=(",", ":"))
        records.append(text)
        length += len(text) + 1
    body = ('{"items":[' + ",".join(records) + "]}").encode("ascii")
    return body[:size]


def make_response(body: bytes) -> Any:
    """A CachedResponse such as a JSON API would produce, carrying `body`."""
    from vaultcache import CachedRequest, CachedResponse

    created = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
    url = "https://api.example.org/v2/items?page=3&per_page=100"
    return CachedResponse(
        url=url,
        status_code=200,
        reason="OK",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": str(len(body)),
            "Cache-Control": "public, max-age=300",
            "Date": "Sun, 01 Jun 2025 12:00:00 GMT",
            "ETag": '"5d8c72a5edda8d6a"',
            "Server": "nginx",
            "Vary": "Accept-Encoding",
        },
        content=body,
        encoding="utf-8",
        elapsed=dt.timedelta(milliseconds=87),
        created_at=created,
        expires=created + dt.timedelta(minutes=5),
        request=CachedRequest(
            method="GET",
            url=url,
            headers={"Accept": "application/json", "User-Agent": "python-requests/2.32"},
        ),
        cache_key="5f1c0a3e9b7d4c21",
    )


@dataclass
class Codec:
    """A pair of dumps/loads functions, and what dumps takes."""

    label: str
    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]
    takes_response: bool


def build_codecs() -> list[Codec]:
    """The candidates, in comparison pairs: vaultcache pipeline, then its baseline."""
    import zstandard
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from vaultcache import KeyRing, build_pipeline, generate_key

    ring = KeyRing([generate_key()])
    fernet_pipeline = build_pipeline("signed+zstd+fernet", keys=ring)
    aesgcm_pipeline = build_pipeline("zstd+aesgcm", keys=ring)

    # Baselines keep their contexts between calls, as the vaultcache stages do.
    fernet = Fernet(Fernet.generate_key())
    aesgcm = AESGCM(AESGCM.generate_key(bit_length=256))
    compressor = zstandard.ZstdCompressor(level=3)
    decompressor = zstandard.ZstdDecompressor()

    def aesgcm_encrypt(data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + aesgcm.encrypt(nonce, data, None)

    def aesgcm_decrypt(token: bytes) -> bytes:
        return aesgcm.decrypt(token[:12], token[12:], None)

    return [
        Codec("vaultcache signed+zstd+fernet", fernet_pipeline.dumps, fernet_pipeline.loads, True),
        Codec(
            "baseline zstd+Fernet",
            lambda body: fernet.encrypt(compressor.compress(body)),
            lambda token: decompressor.decompress(fernet.decrypt(token)),
            False,
        ),
        Codec("vaultcache zstd+aesgcm", aesgcm_pipeline.dumps, aesgcm_pipeline.loads, True),
        Codec(
            "baseline zstd+AESGCM",
            lambda body: aesgcm_encrypt(compressor.compress(body)),
            lambda token: decompressor.decompress(aesgcm_decrypt(token)),
            False,
        ),
        Codec("raw Fernet", fernet.encrypt, fernet.decrypt, False),
        Codec("raw AESGCM", aesgcm_encrypt, aesgcm_decrypt, False),
    ]


#: (numerator, denominator, what the ratio shows), by codec label.
RATIOS = (
    ("vaultcache signed+zstd+fernet", "baseline zstd+Fernet", "pipeline vs its baseline"),
    ("vaultcache zstd+aesgcm", "baseline zstd+AESGCM", "pipeline vs its baseline"),
    ("raw Fernet", "raw AESGCM", "Fernet vs AES-GCM, cipher alone"),
)

#: Peak-memory candidates: label, spec of a vaultcache pipeline or None for a raw cipher.
MEMORY_CANDIDATES = (
    ("raw Fernet", None),
    ("raw AESGCM", None),
    ("vaultcache msgpack+fernet", "fernet"),
    ("vaultcache msgpack+aesgcm", "aesgcm"),
    ("vaultcache signed+zstd+fernet", "signed+zstd+fernet"),
    ("vaultcache zstd+aesgcm", "zstd+aesgcm"),
)


def _round_trip(codec: Codec, body: bytes, response: Any) -> bytes:
    """Check that `codec` gives back what it was given; return its output for `loads`."""
    value = response if codec.takes_response else body
    token = codec.dumps(value)
    restored = codec.loads(token)
    restored_body = restored.content if codec.takes_response else restored
    if restored_body != body:
        raise SystemExit(f"{codec.label}: round trip changed the body")
    return token


def _size_label(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB and size % MIB == 0 else f"{size // KIB} KiB"


def serializers_timings(
    codecs: Sequence[Codec], sizes: Sequence[int], plan: Plan
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Time dumps and loads of every codec at every size; return rows and ratios."""
    rows: list[dict[str, Any]] = []
    ratios: list[dict[str, Any]] = []
    for index, size in enumerate(sizes):
        body = make_body(size, seed=1000 + index)
        response = make_response(body)
        candidates: dict[tuple[str, str], Candidate] = {}
        out_sizes: dict[str, int] = {}
        for codec in codecs:
            token = _round_trip(codec, body, response)
            out_sizes[codec.label] = len(token)
            value = response if codec.takes_response else body
            dumps, loads = calling(codec.dumps, value), calling(codec.loads, token)
            candidates[codec.label, "dumps"] = Candidate(codec.label, dumps, size)
            candidates[codec.label, "loads"] = Candidate(codec.label, loads, size)
        _progress(f"serializers: {_size_label(size)}, {len(candidates)} candidates ...")
        measure_round_robin(list(candidates.values()), plan)
        for (label, operation), candidate in candidates.items():
            q1, median, q3 = quartiles(candidate.samples)
            rows.append(
                {
                    "size": size,
                    "candidate": label,
                    "operation": operation,
                    "ns_per_call": median,
                    "ns_q1": q1,
                    "ns_q3": q3,
                    "mb_per_s": mb_per_s(size, median),
                    "mb_per_s_q1": mb_per_s(size, q3),
                    "mb_per_s_q3": mb_per_s(size, q1),
                    "calls_per_batch": candidate.batch,
                    "rounds": len(candidate.samples),
                    "output_bytes": out_sizes[label],
                }
            )
        for numerator, denominator, meaning in RATIOS:
            for operation in ("dumps", "loads"):
                q1, median, q3 = paired_ratio(
                    candidates[numerator, operation], candidates[denominator, operation]
                )
                ratios.append(
                    {
                        "size": size,
                        "operation": operation,
                        "numerator": numerator,
                        "denominator": denominator,
                        "meaning": meaning,
                        "time_ratio": median,
                        "q1": q1,
                        "q3": q3,
                    }
                )
    return rows, ratios


def serializers_memory(size: int) -> list[dict[str, Any]]:
    """Peak Python memory of one dumps+loads of a `size`-byte body per memory candidate."""
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from vaultcache import KeyRing, build_pipeline, generate_key

    body = make_body(size, seed=2000)
    response = make_response(body)
    ring = KeyRing([generate_key()])
    fernet = Fernet(Fernet.generate_key())
    aesgcm = AESGCM(AESGCM.generate_key(bit_length=256))

    def raw_fernet() -> None:
        fernet.decrypt(fernet.encrypt(body))

    def raw_aesgcm() -> None:
        nonce = os.urandom(12)
        aesgcm.decrypt(nonce, aesgcm.encrypt(nonce, body, None), None)

    results = []
    for label, spec in MEMORY_CANDIDATES:
        if spec is None:
            run = raw_fernet if "Fernet" in label else raw_aesgcm
        else:
            pipeline = build_pipeline(spec, keys=ring)

            def run(pipeline: Any = pipeline) -> None:
                pipeline.loads(pipeline.dumps(response))

        peak = peak_memory(run)
        results.append(
            {"size": size, "candidate": label, "peak_bytes": peak, "multiple": peak / size}
        )
    return results


def print_environment(report: dict[str, Any]) -> None:
    """The first lines of every benchmark's output: what its figures depend on."""
    env = report["environment"]
    versions = ", ".join(
        f"{name} {ver if ver is not None else '(not installed)'}"
        for name, ver in env["versions"].items()
    )
    print(f"vaultcache {report['benchmark']} benchmark, started {env['date']}")
    print(f"Python {env['python']} on {env['machine']}, {env['cpus']} CPUs; {versions}")
    if "git" in env:
        edited = " (+changes: files under vaultcache/ differ from it)" if "+" in env["git"] else ""
        print(f"vaultcache checkout: commit {env['git']}{edited}")
    if "load_average" in env:
        print(f"load average at the end of the run: {env['load_average']}")


def print_serializers(report: dict[str, Any]) -> None:
    """The human-readable tables."""
    print_environment(report)
    plan = report["plan"]
    print(
        f"{plan['rounds']} rounds of ~{plan['batch_ms']:g} ms batches per candidate, "
        "candidates interleaved round-robin."
    )
    print()
    print("Throughput = body bytes / median time per call, in MB/s where 1 MB = 10^6 bytes.")
    print("IQR = 25th to 75th percentile over rounds. out/in = output bytes / body bytes.")
    print("vaultcache pipelines (msgpack is their format: 'zstd+aesgcm' is msgpack+zstd+aesgcm)")
    print("take a CachedResponse carrying the body, so their time includes cattrs + msgpack")
    print("encoding of the body, headers and metadata; baselines and raw ciphers take the body")
    print("bytes alone. Baselines reuse their Fernet/AESGCM/zstd objects between calls.")
    for size in report["sizes"]:
        print()
        print(f"Body {_size_label(size)} ({size:,} bytes)")
        header = f"  {'candidate':<31} {'op':<5} {'MB/s':>8} {'IQR MB/s':>17} {'us/call':>9}"
        print(header + f" {'out/in':>6}")
        for row in report["timings"]:
            if row["size"] != size:
                continue
            iqr = f"{row['mb_per_s_q1']:.1f}-{row['mb_per_s_q3']:.1f}"
            print(
                f"  {row['candidate']:<31} {row['operation']:<5} {row['mb_per_s']:>8.1f} "
                f"{iqr:>17} {row['ns_per_call'] / 1000:>9.1f} "
                f"{row['output_bytes'] / size:>6.2f}"
            )
    print()
    print("Time ratios, median of per-round ratios (IQR): numerator time / denominator time,")
    print("equal to denominator MB/s / numerator MB/s; 1.25 means the numerator takes 25% longer.")
    columns = [(size, op) for size in report["sizes"] for op in ("dumps", "loads")]
    print(
        f"  {'ratio':<54}" + "".join(f" {op + ' ' + _size_label(size):>19}" for size, op in columns)
    )
    for numerator, denominator, _ in RATIOS:
        cells = []
        for size, op in columns:
            ratio = next(
                r
                for r in report["ratios"]
                if r["numerator"] == numerator and r["size"] == size and r["operation"] == op
            )
            cells.append(f"{ratio['time_ratio']:.2f} ({ratio['q1']:.2f}-{ratio['q3']:.2f})")
        print(f"  {numerator + ' / ' + denominator:<54}" + "".join(f" {c:>19}" for c in cells))
    memory = report["memory"]
    if memory:
        size = memory[0]["size"]
        print()
        print(f"Peak memory of one dumps+loads of the {_size_label(size)} body (tracemalloc:")
        print("Python-level allocations only; buffers inside OpenSSL or zstd are not seen).")
        print(f"  {'candidate':<31} {'peak MiB':>9} {'x body':>7}")
        for row in memory:
            print(
                f"  {row['candidate']:<31} {row['peak_bytes'] / MIB:>9.2f} {row['multiple']:>7.2f}"
            )


def run_serializers(args: argparse.Namespace) -> dict[str, Any]:
    """The ``serializers`` benchmark."""
    plan = Plan(rounds=25, batch_ms=8) if args.quick else Plan(rounds=101, batch_ms=25)
    if args.rounds:
        plan = Plan(rounds=args.rounds, batch_ms=plan.batch_ms)
    sizes = (KIB, MIB)
    env = environment(dt.datetime.now(dt.UTC))  # before timing: the code that is measured
    started = time.perf_counter()
    timings, ratios = serializers_timings(build_codecs(), sizes, plan)
    _progress("serializers: peak memory ...")
    memory = serializers_memory(MIB)
    if hasattr(os, "getloadavg"):
        env["load_average"] = [round(value, 2) for value in os.getloadavg()]
    report = {
        "benchmark": "serializers",
        "quick": args.quick,
        "environment": env,
        "plan": {"rounds": plan.rounds, "batch_ms": plan.batch_ms},
        "sizes": list(sizes),
        "units": {"throughput": "MB/s, 1 MB = 10^6 bytes of body", "time": "ns per call"},
        "timings": timings,
        "ratios": ratios,
        "memory": memory,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print_serializers(report)
    print(f"\n(run took {report['seconds']} s)")
    return report


# -- session benchmark -------------------------------------------------------------------------

SESSION_SIZES = (KIB, 64 * KIB, MIB, 16 * MIB)
LARGE_SIZE = 16 * MIB  # sizes from here on get fewer rounds, and the peak-memory figure
VAULTCACHE_SPECS = ("msgpack", "zstd", "zstd+aesgcm", "signed+zstd+fernet", "signed+zstd+aesgcm")
VAULTCACHE_BACKENDS = ("sqlite", "filesystem")
#: vaultcache specs whose peak memory of one large hit is measured, on sqlite.
MEMORY_SPECS = ("zstd+aesgcm", "signed+zstd+aesgcm", "signed+zstd+fernet")
NO_CACHE = "no cache (requests.Session)"
REQUESTS_CACHE = "requests-cache CachedSession"
#: The ratio of a hit with retention (LRU tracking) to the same hit without it.
RETENTION_COST = "hit with retention / without"
#: Specs measured on the redis backend too (when vaultcache-redis and a server are there).
REDIS_SPECS = ("msgpack", "signed+zstd+aesgcm")
REDIS_VS_SQLITE = "redis / sqlite, same spec"


@dataclass(frozen=True)
class SessionPlan:
    """Rounds and batch lengths for hits and misses, below and at LARGE_SIZE.

    `large_miss` None skips miss timing at LARGE_SIZE (``--quick``).
    """

    hit: Plan
    miss: Plan
    large_hit: Plan
    large_miss: Plan | None
    #: entries written to a fresh cache to measure disk use, per body size
    writes: dict[int, int]

    def as_dict(self) -> dict[str, Any]:
        """The plan for the JSON report."""
        plans = {
            "hit": self.hit,
            "miss": self.miss,
            "large_hit": self.large_hit,
            "large_miss": self.large_miss,
        }
        return {
            **{
                name: None if plan is None else {"rounds": plan.rounds, "batch_ms": plan.batch_ms}
                for name, plan in plans.items()
            },
            "writes": {str(size): count for size, count in self.writes.items()},
        }


def session_plan(quick: bool, rounds: int | None) -> SessionPlan:
    """The default plan; `rounds` sets the hit rounds below LARGE_SIZE and scales the rest."""
    if quick:
        writes = dict(zip(SESSION_SIZES, (100, 30, 5, 1), strict=True))
        plan = SessionPlan(Plan(11, 6), Plan(5, 6), Plan(5, 1), None, writes)
    else:
        writes = dict(zip(SESSION_SIZES, (500, 100, 20, 3), strict=True))
        plan = SessionPlan(Plan(61, 25), Plan(21, 25), Plan(15, 1), Plan(7, 1), writes)
    if not rounds:
        return plan
    scale = rounds / plan.hit.rounds

    def scaled(part: Plan) -> Plan:
        return Plan(max(3, round(part.rounds * scale)), part.batch_ms)

    return SessionPlan(
        Plan(rounds, plan.hit.batch_ms),
        scaled(plan.miss),
        scaled(plan.large_hit),
        None if plan.large_miss is None else scaled(plan.large_miss),
        plan.writes,
    )


class _BodyServer(ThreadingHTTPServer):
    """Answers ``GET /body/<size>`` (any query string) with the prepared body of that size."""

    def __init__(self, bodies: dict[int, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _BodyHandler)
        self.bodies = bodies


class _BodyHandler(BaseHTTPRequestHandler):
    # Keep-alive, so a session reuses its connection as it would with a real API.
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes; with Nagle the body would wait for the client's
    # delayed ACK of the headers (about 40 ms on Linux).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        prefix, _, size = urllib.parse.urlsplit(self.path).path.rpartition("/")
        bodies: dict[int, bytes] = self.server.bodies  # type: ignore[attr-defined]
        body = bodies.get(int(size)) if prefix == "/body" and size.isdigit() else None
        if body is None:
            self.send_error(404)
            return
        # No Cache-Control, Expires, ETag or Last-Modified: both caches store it for good.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """No request log."""


@contextlib.contextmanager
def body_server(bodies: dict[int, bytes]) -> Iterator[str]:
    """Serve `bodies` from a thread on a free port of 127.0.0.1; yield the base URL."""
    server = _BodyServer(bodies)
    thread = threading.Thread(target=server.serve_forever, name="bench-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass(frozen=True)
class SessionCandidate:
    """A session to measure; `make` builds one whose cache lives in the folder it is given."""

    label: str
    library: str  # "requests", "requests-cache" or "vaultcache"
    backend: str  # "-" for no cache
    serializer: str
    make: Callable[[Path], Any]

    @property
    def name(self) -> str:
        """Unique among candidates."""
        return self.label if self.backend == "-" else f"{self.label} [{self.backend}]"

    @property
    def cached(self) -> bool:
        """Whether the session has a cache (all but the plain requests.Session)."""
        return self.library != "requests"


def requests_cache_available() -> bool:
    """Whether requests-cache can be imported."""
    try:
        import requests_cache  # noqa: F401
    except ImportError:
        return False
    return True


def session_candidates(
    with_requests_cache: bool, redis_url: str | None = None
) -> list[SessionCandidate]:
    """Plain requests, requests-cache (when installed), then every vaultcache combination.

    With `redis_url`, also the redis backend for each of REDIS_SPECS.
    """
    import requests

    from vaultcache import CachedSession, generate_key

    candidates = [
        SessionCandidate(NO_CACHE, "requests", "-", "-", lambda folder: requests.Session())
    ]
    if with_requests_cache:
        import requests_cache

        candidates.append(
            SessionCandidate(
                REQUESTS_CACHE,
                "requests-cache",
                "sqlite",
                "default (pickle)",
                lambda folder: requests_cache.CachedSession(
                    str(folder / "http_cache"), backend="sqlite"
                ),
            )
        )
    for backend in VAULTCACHE_BACKENDS:
        for spec in VAULTCACHE_SPECS:

            def make(folder: Path, backend: str = backend, spec: str = spec) -> Any:
                return CachedSession(
                    str(folder / "http_cache"),
                    backend=backend,
                    serializer=spec,
                    keys=[generate_key()],
                )

            candidates.append(
                SessionCandidate(f"vaultcache {spec}", "vaultcache", backend, spec, make)
            )
    candidates.append(_retention_candidate())
    if redis_url is not None:
        candidates += _redis_candidates(redis_url)
    return candidates


def _redis_candidates(redis_url: str) -> list[SessionCandidate]:
    """vaultcache on the redis backend (the vaultcache-redis plugin), one per REDIS_SPECS."""
    from vaultcache import CachedSession, generate_key

    run = f"{os.getpid()}-{time.time_ns()}"  # keys of this run apart on a shared server
    candidates = []
    for spec in REDIS_SPECS:

        def make(folder: Path, spec: str = spec) -> Any:
            return CachedSession(
                str(folder / "http_cache"),
                backend="redis",
                serializer=spec,
                keys=[generate_key()],
                url=redis_url,
                prefix=f"vaultcache-bench:{run}:{folder.name}:",
            )

        candidates.append(SessionCandidate(f"vaultcache {spec}", "vaultcache", "redis", spec, make))
    return candidates


@contextlib.contextmanager
def redis_server(url: str | None, enabled: bool) -> Iterator[str | None]:
    """The redis URL to measure: `url`, else a redis-server started here; None to skip.

    A server started here listens on a Unix socket of its own folder (no TCP port, so none
    to race for), keeps nothing on disk (``--save "" --appendonly no``) and is stopped on
    exit.
    """
    import importlib.util

    if not enabled:
        yield None
        return
    if importlib.util.find_spec("vaultcache_redis") is None:
        _progress("session: vaultcache-redis is not installed; skipping the redis backend")
        yield None
        return
    if url is not None:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        _progress("session: redis-server is not installed; skipping the redis backend")
        yield None
        return
    import redis

    with tempfile.TemporaryDirectory(prefix="vaultcache-bench-redis-") as folder:
        socket_path = os.path.join(folder, "redis.sock")
        arguments = ["--port", "0", "--unixsocket", socket_path, "--save", "", "--appendonly"]
        process = subprocess.Popen(
            [binary, *arguments, "no", "--dir", folder, "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(unix_socket_path=socket_path)
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(redis.exceptions.ConnectionError):
                    if client.ping():
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("session: the redis-server started for the benchmark failed")
                time.sleep(0.02)
            client.close()
            _progress(f"session: started redis-server on {socket_path}")
            yield f"unix://{socket_path}?db=0"
        finally:
            process.terminate()
            process.wait(10)


def _redis_info(url: str, *, given: bool) -> dict[str, Any]:
    """The server's version and where it came from, for the report (never the URL)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        server_version = client.info("server").get("redis_version")
    finally:
        client.close()
    return {"version": server_version, "server": "--redis-url" if given else "started here"}


def _retention_candidate() -> SessionCandidate:
    """The recommended spec on sqlite with retention bounds, for the cost of LRU tracking."""
    from vaultcache import CachedSession, generate_key
    from vaultcache.retention import Retention

    spec = "signed+zstd+aesgcm"

    def make(folder: Path) -> Any:
        return CachedSession(
            str(folder / "http_cache"),
            serializer=spec,
            keys=[generate_key()],
            retention=Retention(max_entries=1_000_000, max_bytes=1 << 40),
        )

    return SessionCandidate(f"vaultcache {spec} +retention", "vaultcache", "sqlite", spec, make)


def _prime(candidate: SessionCandidate, session: Any, url: str, body: bytes) -> None:
    """Store `url` (a miss), then check that the next get is a hit with the same body."""
    first = session.get(url)
    if first.status_code != 200 or first.content != body:
        raise SystemExit(f"{candidate.name}: the server's answer was not the expected body")
    if not candidate.cached:
        return
    if first.from_cache:
        raise SystemExit(f"{candidate.name}: the first get came from a new, empty cache")
    second = session.get(url)
    if not second.from_cache or second.content != body:
        raise SystemExit(f"{candidate.name}: the second get was not a hit with the same body")


def _hit_runner(candidate: SessionCandidate, session: Any, url: str) -> Callable[[], object]:
    """One get of the stored `url`; for a cached session, fail unless it was a hit."""
    get = session.get
    if not candidate.cached:
        return lambda: get(url)

    def hit() -> None:
        if not get(url).from_cache:
            raise SystemExit(f"{candidate.name}: a get of a stored URL missed the cache")

    return hit


def _miss_runner(candidate: SessionCandidate, session: Any, url: str) -> Callable[[], object]:
    """One get of a URL not yet stored: `url` with a new query string ``?n=<i>`` each call."""
    get = session.get
    numbers = itertools.count(1)

    def miss() -> None:
        response = get(f"{url}?n={next(numbers)}")
        if response.status_code != 200 or getattr(response, "from_cache", False):
            raise SystemExit(f"{candidate.name}: a get of a new URL was not a fresh 200")

    return miss


def session_storage(
    candidate: SessionCandidate, url: str, writes: int, folder: Path
) -> dict[str, Any]:
    """Disk use per entry: `writes` distinct URLs stored in a new cache in `folder`."""
    folder.mkdir()
    session = candidate.make(folder)
    try:
        for number in range(writes):
            response = session.get(f"{url}?w={number}")
            if response.from_cache:
                raise SystemExit(f"{candidate.name}: a new URL came from the cache")
        entries = len(session.cache.responses)
        if entries != writes:
            raise SystemExit(f"{candidate.name}: {writes} responses stored {entries} entries")
        # While open, sqlite files include the write-ahead log, which is not compacted.
        open_bytes, _ = _disk_usage(folder)
    finally:
        session.close()
    # After close(), sqlite has checkpointed its log into the database file and removed it
    # (with its -shm index): what is left is the database alone, plus any -wal not removed.
    disk, allocated = _disk_usage(folder)
    shutil.rmtree(folder)
    return {
        "entries": entries,
        "disk_bytes": disk,
        "bytes_per_entry": disk / entries,
        "allocated_bytes_per_entry": allocated / entries,
        "open_disk_bytes": open_bytes,
    }


def _disk_usage(folder: Path) -> tuple[int, int]:
    """Sum of file sizes under `folder`, and of the space allocated to them."""
    size = allocated = 0
    for path in folder.rglob("*"):
        if path.is_file():
            status = path.stat()
            size += status.st_size
            allocated += getattr(status, "st_blocks", 0) * 512
    return size, allocated


def _session_memory(
    live: Sequence[tuple[SessionCandidate, Path, Any]], url: str, size: int
) -> list[dict[str, Any]]:
    """Peak Python memory of one get: the memory candidates' hits, and plain requests."""
    results = []
    for candidate, _, session in live:
        wanted = candidate.library in {"requests", "requests-cache"} or (
            candidate.backend == "sqlite" and candidate.serializer in MEMORY_SPECS
        )
        if not wanted:
            continue
        peak = peak_memory(_hit_runner(candidate, session, url))
        results.append(
            {
                "size": size,
                "candidate": candidate.name,
                "operation": "hit" if candidate.cached else "get from the server",
                "peak_bytes": peak,
                "multiple": peak / size,
            }
        )
    return results


def _quartile_fields(prefix: str, candidate: Candidate | None) -> dict[str, Any]:
    if candidate is None:
        return {f"{prefix}_ns": None, f"{prefix}_ns_q1": None, f"{prefix}_ns_q3": None}
    q1, median, q3 = quartiles(candidate.samples)
    return {
        f"{prefix}_ns": median,
        f"{prefix}_ns_q1": q1,
        f"{prefix}_ns_q3": q3,
        f"{prefix}_rounds": len(candidate.samples),
        f"{prefix}_calls_per_batch": candidate.batch,
    }


def session_size(
    size: int,
    body: bytes,
    candidates: Sequence[SessionCandidate],
    *,
    plan: SessionPlan,
    base_url: str,
    root: Path,
) -> dict[str, list[dict[str, Any]]]:
    """Every measurement at one body size: timings, ratios, disk use and (large) memory."""
    large = size >= LARGE_SIZE
    hit_plan, miss_plan = (plan.large_hit, plan.large_miss) if large else (plan.hit, plan.miss)
    url = f"{base_url}/body/{size}"
    label = _size_label(size)
    live: list[tuple[SessionCandidate, Path, Any]] = []
    hits: dict[str, Candidate] = {}
    misses: dict[str, Candidate] = {}
    memory: list[dict[str, Any]] = []
    try:
        for index, candidate in enumerate(candidates):
            folder = root / f"{size}-{index}"
            folder.mkdir()
            live.append((candidate, folder, candidate.make(folder)))
        _progress(f"session: {label}, storing the entry in {len(live)} sessions ...")
        for candidate, _, session in live:
            _prime(candidate, session, url, body)
        _progress(f"session: {label}, hits, {hit_plan.rounds} rounds ...")
        for candidate, _, session in live:
            hits[candidate.name] = Candidate(
                candidate.name, _hit_runner(candidate, session, url), size
            )
        measure_round_robin(list(hits.values()), hit_plan)
        if miss_plan is not None:
            _progress(f"session: {label}, misses, {miss_plan.rounds} rounds ...")
            for candidate, _, session in live:
                misses[candidate.name] = Candidate(
                    candidate.name, _miss_runner(candidate, session, url), size
                )
            measure_round_robin(list(misses.values()), miss_plan)
        if large:
            _progress(f"session: {label}, peak memory of one hit ...")
            memory = _session_memory(live, url, size)
    finally:
        for candidate, _, session in live:
            if candidate.backend == "redis":
                session.cache.clear()  # a server given by --redis-url keeps nothing of ours
            session.close()
    writes = plan.writes[size]
    _progress(f"session: {label}, disk use of {writes} entries per cache ...")
    rows = []
    for candidate, folder, _ in live:
        shutil.rmtree(folder)
        row: dict[str, Any] = {
            "size": size,
            "candidate": candidate.name,
            "library": candidate.library,
            "backend": candidate.backend,
            "serializer": candidate.serializer,
            **_quartile_fields("hit", hits[candidate.name]),
            **_quartile_fields("miss", misses.get(candidate.name)),
        }
        if candidate.cached and candidate.backend != "redis":  # redis has no files to count
            row |= session_storage(candidate, url, writes, folder)
        rows.append(row)
    return {"rows": rows, "ratios": _session_ratios(size, hits, misses), "memory": memory}


def _session_ratios(
    size: int, hits: dict[str, Candidate], misses: dict[str, Candidate]
) -> list[dict[str, Any]]:
    """Every vaultcache candidate's time / requests-cache's, paired by round."""
    ratios: list[dict[str, Any]] = []
    for operation, timed in (("hit", hits), ("miss", misses)):
        anchor = next((c for name, c in timed.items() if name.startswith(REQUESTS_CACHE)), None)
        if anchor is None:
            continue
        for name, candidate in timed.items():
            if not name.startswith("vaultcache"):
                continue
            q1, median, q3 = paired_ratio(candidate, anchor)
            ratios.append(
                {
                    "size": size,
                    "operation": operation,
                    "numerator": name,
                    "denominator": anchor.label,
                    "time_ratio": median,
                    "q1": q1,
                    "q3": q3,
                }
            )
    for name, timed_hit in hits.items():
        sqlite_name = name.replace(" [redis]", " [sqlite]")
        if name.endswith(" [redis]") and sqlite_name in hits:
            q1, median, q3 = paired_ratio(timed_hit, hits[sqlite_name])
            ratios.append(
                {
                    "size": size,
                    "operation": REDIS_VS_SQLITE,
                    "numerator": name,
                    "denominator": sqlite_name,
                    "time_ratio": median,
                    "q1": q1,
                    "q3": q3,
                }
            )
    retention_name = next((name for name in hits if "+retention" in name), None)
    if retention_name is not None:
        base_name = retention_name.replace(" +retention", "")
        q1, median, q3 = paired_ratio(hits[retention_name], hits[base_name])
        ratios.append(
            {
                "size": size,
                "operation": RETENTION_COST,
                "numerator": retention_name,
                "denominator": base_name,
                "time_ratio": median,
                "q1": q1,
                "q3": q3,
            }
        )
    return ratios


def _durations(median: float | None, q1: float | None, q3: float | None) -> tuple[str, str]:
    """Median and IQR for the tables, in microseconds below 10 ms, else milliseconds."""
    if median is None or q1 is None or q3 is None:
        return "-", "-"
    unit, scale = ("us", 1e3) if median < 10_000_000 else ("ms", 1e6)
    return f"{median / scale:.1f} {unit}", f"{q1 / scale:.1f}-{q3 / scale:.1f}"


def _ratio_cell(ratios: Sequence[dict[str, Any]], name: str, size: int, operation: str) -> str:
    for ratio in ratios:
        if (ratio["numerator"], ratio["size"], ratio["operation"]) == (name, size, operation):
            return f"{ratio['time_ratio']:.2f}"
    return "-"


def print_session(report: dict[str, Any]) -> None:
    """The human-readable tables."""
    print_environment(report)
    plan = report["plan"]
    large = _size_label(LARGE_SIZE)
    large_miss = plan["large_miss"]
    print(
        f"Rounds per candidate: hits {plan['hit']['rounds']} (~{plan['hit']['batch_ms']:g} ms "
        f"batches), misses {plan['miss']['rounds']}; at {large} hits "
        f"{plan['large_hit']['rounds']}, misses "
        f"{large_miss['rounds'] if large_miss else 'not timed'} (one call per batch). "
        "Candidates interleaved round-robin."
    )
    if not report["requests_cache"]:
        print("requests-cache is not installed: its candidate and the ratios are skipped.")
    print()
    print("Time of one session.get(url), median over rounds, with the IQR (25th-75th")
    print("percentile). hit: the URL is stored (checked: from_cache). miss: a URL not yet")
    print("stored (a new ?n=<i> query, same body), fetched from 127.0.0.1 and stored.")
    print("/rc: time / requests-cache's time, median of per-round ratios in this run.")
    print("disk/entry: bytes of cache files after close() / entries, for a new cache in which")
    print("that many responses of this size were stored (counts in the JSON report).")
    print("no cache goes to the server every time: its hit and miss are the same operation.")
    for size in report["sizes"]:
        print()
        print(f"Body {_size_label(size)} ({size:,} bytes)")
        print(
            f"  {'candidate':<32} {'backend':<10} {'hit':>10} {'hit IQR':>17} {'/rc':>5}"
            f" {'miss':>10} {'miss IQR':>17} {'/rc':>5} {'disk/entry':>12}"
        )
        for row in report["timings"]:
            if row["size"] != size:
                continue
            name = row["candidate"]
            hit, hit_iqr = _durations(row["hit_ns"], row["hit_ns_q1"], row["hit_ns_q3"])
            miss, miss_iqr = _durations(row["miss_ns"], row["miss_ns_q1"], row["miss_ns_q3"])
            disk = f"{row['bytes_per_entry']:,.0f}" if "bytes_per_entry" in row else "-"
            print(
                f"  {name.split(' [')[0]:<32} {row['backend']:<10} {hit:>10} {hit_iqr:>17}"
                f" {_ratio_cell(report['ratios'], name, size, 'hit'):>5} {miss:>10}"
                f" {miss_iqr:>17} {_ratio_cell(report['ratios'], name, size, 'miss'):>5}"
                f" {disk:>12}"
            )
    if report["ratios"]:
        print()
        print("Hit time / requests-cache hit time (median of per-round ratios, IQR):")
        print(f"  {'candidate':<44}" + "".join(f" {_size_label(s):>18}" for s in report["sizes"]))
        names = dict.fromkeys(r["numerator"] for r in report["ratios"])
        for name in names:
            cells = []
            for size in report["sizes"]:
                ratio = next(
                    (
                        r
                        for r in report["ratios"]
                        if (r["numerator"], r["size"], r["operation"]) == (name, size, "hit")
                    ),
                    None,
                )
                cells.append(
                    "-"
                    if ratio is None
                    else f"{ratio['time_ratio']:.2f} ({ratio['q1']:.2f}-{ratio['q3']:.2f})"
                )
            print(f"  {name:<44}" + "".join(f" {c:>18}" for c in cells))
    _print_backend_ratios(report["ratios"])
    costs = [r for r in report["ratios"] if r["operation"] == RETENTION_COST]
    if costs:
        print()
        print(f"Retention cost, {RETENTION_COST} (median of per-round ratios, IQR):")
        print(
            "  "
            + "   ".join(
                f"{_size_label(r['size'])}: {r['time_ratio']:.3f} ({r['q1']:.3f}-{r['q3']:.3f})"
                for r in costs
            )
        )
    if report["memory"]:
        print()
        print(f"Peak memory of one get of the {large} body (tracemalloc: Python-level")
        print("allocations only, median of 3 after a warm-up; buffers inside sqlite, OpenSSL or")
        print("zstd are not seen).")
        print(f"  {'candidate':<44} {'operation':<20} {'peak MiB':>9} {'x body':>7}")
        for row in report["memory"]:
            print(
                f"  {row['candidate']:<44} {row['operation']:<20}"
                f" {row['peak_bytes'] / MIB:>9.2f} {row['multiple']:>7.2f}"
            )


def _print_backend_ratios(ratios: Sequence[dict[str, Any]]) -> None:
    """The redis / sqlite hit-time ratios, when the redis backend was measured."""
    backends = [r for r in ratios if r["operation"] == REDIS_VS_SQLITE]
    if not backends:
        return
    print()
    print(f"Hit time, {REDIS_VS_SQLITE} (median of per-round ratios, IQR):")
    for name in dict.fromkeys(r["numerator"] for r in backends):
        cells = [
            f"{_size_label(r['size'])}: {r['time_ratio']:.2f} ({r['q1']:.2f}-{r['q3']:.2f})"
            for r in backends
            if r["numerator"] == name
        ]
        print(f"  {name:<44} " + "   ".join(cells))


def run_session(args: argparse.Namespace) -> dict[str, Any]:
    """The ``session`` benchmark."""
    plan = session_plan(args.quick, args.rounds)
    with_requests_cache = requests_cache_available()
    if not with_requests_cache:
        _progress(
            "session: requests-cache is not installed (pip install 'vaultcache[bench]'); "
            "skipping its candidate and the ratios to it"
        )
    env = environment(
        dt.datetime.now(dt.UTC),
        extra=("requests", "requests-cache", "vaultcache-redis", "redis", "hiredis"),
    )
    started = time.perf_counter()
    _progress("session: generating bodies ...")
    bodies = {size: make_body(size, seed=3000 + index) for index, size in enumerate(SESSION_SIZES)}
    rows: list[dict[str, Any]] = []
    ratios: list[dict[str, Any]] = []
    memory: list[dict[str, Any]] = []
    with (
        redis_server(args.redis_url, not args.no_redis) as redis_url,
        body_server(bodies) as base_url,
        tempfile.TemporaryDirectory(prefix="vaultcache-bench-") as folder,
    ):
        candidates = session_candidates(with_requests_cache, redis_url)
        if redis_url is not None:
            env["redis"] = _redis_info(redis_url, given=bool(args.redis_url))
        for size in SESSION_SIZES:
            result = session_size(
                size, bodies[size], candidates, plan=plan, base_url=base_url, root=Path(folder)
            )
            rows += result["rows"]
            ratios += result["ratios"]
            memory += result["memory"]
    if hasattr(os, "getloadavg"):
        env["load_average"] = [round(value, 2) for value in os.getloadavg()]
    report = {
        "benchmark": "session",
        "quick": args.quick,
        "environment": env,
        "requests_cache": with_requests_cache,
        "plan": plan.as_dict(),
        "sizes": list(SESSION_SIZES),
        "units": {"time": "ns per session.get call", "disk": "bytes"},
        "timings": rows,
        "ratios": ratios,
        "memory": memory,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print_session(report)
    print(f"\n(run took {report['seconds']} s)")
    return report


# -- streaming benchmark -----------------------------------------------------------------------

STREAM_SIZE = 1024 * MIB
STREAM_QUICK_SIZE = 64 * MIB
#: The default spec first; the others if the run has time for them.
STREAM_SPECS = ("zstd+aesgcm", "signed+zstd+fernet")
#: Generated text the streamed body is cut from, 1 MiB at a time (never the whole body).
STREAM_POOL_SIZE = 8 * MIB
#: Step between the offsets of consecutive pieces in the pool (odd: pieces rarely repeat).
STREAM_STEP = 1_048_573
NONSTREAM_SIZE = 16 * MIB
LISTING_ENTRIES = 1000
LISTING_QUICK_ENTRIES = 50
LISTING_BODY = MIB
#: Targets from issue 12 ("Entry format v2"), checked in the report.
TARGET_RSS_GROWTH = 64 * MIB
TARGET_TTFB_S = 0.020
TARGET_HIT_FLOOR = 2.0
TARGET_STORE_FLOOR = 3.0
TARGET_HIT_MEMORY = 2.2
TARGET_STORE_MEMORY = 2.5
TARGET_LISTING = 20.0


def stream_piece(pool: bytes, index: int, size: int) -> memoryview:
    """Piece `index` (1 MiB, the last one shorter) of a `size`-byte body cut from `pool`.

    Each piece is a contiguous run of the generated text, so it compresses as such text does;
    consecutive pieces start at offsets `STREAM_STEP` apart, so they are not copies.
    """
    length = min(MIB, size - index * MIB)
    offset = (index * STREAM_STEP) % (len(pool) - MIB)
    return memoryview(pool)[offset : offset + length]


def stream_pieces(pool: bytes, size: int) -> Iterator[memoryview]:
    """Every piece of a `size`-byte body, in order."""
    for index in range((size + MIB - 1) // MIB):
        yield stream_piece(pool, index, size)


class _StreamServer(ThreadingHTTPServer):
    """Answers ``GET /stream?size=N[&chunked=1]`` with N bytes generated piece by piece."""

    def __init__(self, pool: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _StreamHandler)
        self.pool = pool


class _StreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query)
        if parts.path != "/stream" or not query.get("size", [""])[0].isdigit():
            self.send_error(404)
            return
        size = int(query["size"][0])
        chunked = query.get("chunked", ["0"])[0] == "1"
        pool: bytes = self.server.pool  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            for piece in stream_pieces(pool, size):
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(piece))
                    self.wfile.write(piece)
                    self.wfile.write(b"\r\n")
                else:
                    self.wfile.write(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """No request log."""


@contextlib.contextmanager
def stream_server(pool: bytes) -> Iterator[str]:
    """Serve generated bodies from a thread of this process; yield the base URL."""
    server = _StreamServer(pool)
    thread = threading.Thread(target=server.serve_forever, name="bench-stream", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# The streamed figures are measured in worker processes (``bench.py _streaming-worker``,
# given a JSON job on stdin, answering JSON on stdout), so that each memory figure is the
# growth of a fresh process doing one thing, and the server's work is in another process.


def _status_kib(name: str) -> int | None:
    """A ``VmRSS``/``VmHWM``-style field of /proc/self/status, in KiB; None without it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


class _RssWatch:
    """Peak RSS growth of this process from `start` to `stop`."""

    # ru_maxrss alone would not do: Linux carries it over fork and exec, so a worker would
    # start with its parent's peak. It is kept in the JSON for reference.

    def start(self) -> None:
        import resource

        gc.collect()
        self.reset = _reset_peak_rss()
        self.rss = _status_kib("VmRSS")
        self.maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def stop(self) -> dict[str, Any]:
        import resource

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        hwm = _status_kib("VmHWM")
        result: dict[str, Any] = {
            "ru_maxrss_growth_bytes": (maxrss - self.maxrss) * KIB,
            "rss_before_bytes": None if self.rss is None else self.rss * KIB,
        }
        if self.reset and hwm is not None and self.rss is not None:
            result["rss_growth_bytes"] = (hwm - self.rss) * KIB
            result["rss_method"] = "VmHWM after - VmRSS before (VmHWM reset by clear_refs)"
        else:
            result["rss_growth_bytes"] = result["ru_maxrss_growth_bytes"]
            result["rss_method"] = "ru_maxrss after - before"
        return result


@dataclass
class _StreamJob:
    """What a worker process is asked to do (from JSON on stdin)."""

    op: str
    spec: str
    key: str
    cache: str
    base_url: str
    size: int
    pool_path: str
    chunked: bool
    rounds: int = 3
    url: str = ""

    def body_url(self, query: str = "") -> str:
        chunked = "&chunked=1" if self.chunked else ""
        return f"{self.base_url}/stream?size={self.size}{chunked}{query}"


def _worker_session(job: _StreamJob) -> Any:
    """The session of a worker; one small request first so pools and connections exist."""
    from vaultcache import CachedSession

    session = CachedSession(job.cache, serializer=job.spec, keys=[job.key])
    warm = session.get(f"{job.base_url}/stream?size=100")
    warm.raise_for_status()
    session.cache.response_count()
    return session


def _stream_get(session: Any, url: str, *, hit: bool, digest: Any = None) -> dict[str, float]:
    """One ``get(url, stream=True)`` read to its end with ``iter_content(1 MiB)``.

    Returns the time of ``get`` itself, from its return to the first piece, and in all.
    """
    start = time.perf_counter()
    response = session.get(url, stream=True)
    returned = time.perf_counter()
    if response.status_code != 200 or bool(getattr(response, "from_cache", False)) != hit:
        raise SystemExit(f"streaming: {url}: expected a {'hit' if hit else 'miss'}")
    pieces = response.iter_content(MIB)
    first = next(pieces)
    first_at = time.perf_counter()
    received = len(first)
    if digest is not None:
        digest.update(first)
    for piece in pieces:
        received += len(piece)
        if digest is not None:
            digest.update(piece)
    end = time.perf_counter()
    response.close()
    return {
        "get_s": returned - start,
        "ttfb_s": first_at - returned,
        "total_s": end - start,
        "bytes": received,
    }


def _stored_entry(path: str) -> tuple[str, bytes, str, int, int]:
    """The cache key, header identity, entry id, chunk count and size of the one chunked
    entry in the sqlite cache at `path`, read from its header line (docs/format.md)."""
    import re
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT key, value FROM responses").fetchall()
    finally:
        connection.close()
    pattern = re.compile(rb" entry=([0-9a-f]{32}) body=chunks/([0-9]+)/([0-9]+)\n")
    for key, head in rows:
        line = bytes(head[: head.index(b"\n") + 1])
        match = pattern.search(line)
        if match:
            identity = line[: line.index(b" body=")]
            return key, identity, match[1].decode(), int(match[2]), int(match[3])
    raise SystemExit(f"streaming: no chunked entry in {path}")


def _chunk_context(identity: bytes, index: int, final: bool) -> bytes:
    """A chunk's associated data, as docs/format.md gives it."""
    return identity + b"\x00chunk" + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


def _floor_codec(spec: str, key: str) -> tuple[Callable[..., bytes], Callable[..., bytes]]:
    """(seal, open) of one chunk with the bare primitives, for the specs measured here.

    ``zstd+aesgcm``: zstd level 3 (content size and checksum, as the stage writes), then
    nonce + AES-256-GCM with the context as associated data. ``signed+zstd+fernet``: zstd,
    then a Fernet token of the context's SHA-256 and the data (``signed`` is left out before
    a cipher). Subkeys are derived as the stages derive theirs.
    """
    import base64
    import hashlib

    import zstandard
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from vaultcache import KeyRing

    secret = KeyRing([key]).primary
    compressor = zstandard.ZstdCompressor(level=3, write_content_size=True, write_checksum=True)
    decompressor = zstandard.ZstdDecompressor()
    if spec == "zstd+aesgcm":
        aesgcm = AESGCM(secret.subkey("aesgcm"))

        def seal(data: Any, context: bytes) -> bytes:
            nonce = os.urandom(12)
            return nonce + aesgcm.encrypt(nonce, compressor.compress(data), context)

        def open_(record: Any, context: bytes) -> bytes:
            view = memoryview(record)
            plain = aesgcm.decrypt(view[:12], view[12:], context)
            result: bytes = decompressor.decompress(plain)
            return result

        return seal, open_
    if spec == "signed+zstd+fernet":
        # What vaultcache writes for this spec: signed is left out before fernet (its
        # authentication covers signed's; docs/stages.md).
        fernet = Fernet(base64.urlsafe_b64encode(secret.subkey("fernet")))

        def seal(data: Any, context: bytes) -> bytes:
            digest = hashlib.sha256(context).digest()
            return fernet.encrypt(digest + compressor.compress(data))

        def open_(record: Any, context: bytes) -> bytes:
            plain = fernet.decrypt(bytes(record))
            if plain[:32] != hashlib.sha256(context).digest():
                raise SystemExit("streaming floor: context mismatch")
            result: bytes = decompressor.decompress(memoryview(plain)[32:])
            return result

        return seal, open_
    raise SystemExit(f"streaming: no floor for spec {spec!r}")


def _read_floor(job: _StreamJob) -> Callable[[], object]:
    """Read the stored entry's chunk records from sqlite and open each with the primitives."""
    import sqlite3

    key, identity, entry_id, count, size = _stored_entry(job.cache + ".sqlite")
    _, open_ = _floor_codec(job.spec, job.key)
    connection = sqlite3.connect(job.cache + ".sqlite", isolation_level=None)
    sql = "SELECT value FROM chunks WHERE key = ?"

    def run() -> None:
        total = 0
        for index in range(count):
            record = connection.execute(sql, (f"{key}/{entry_id}/{index}",)).fetchone()[0]
            total += len(open_(record, _chunk_context(identity, index, index == count - 1)))
        if total != size:
            raise SystemExit("streaming floor: the stored body has the wrong size")

    return run


def _store_floor(job: _StreamJob, pool: bytes) -> tuple[Callable[[], object], Callable[[], None]]:
    """Seal each piece with the primitives and insert it as a row of an sqlite table set up
    as vaultcache's (WAL, synchronous=NORMAL, one transaction per row); and a reset."""
    import sqlite3

    seal, _ = _floor_codec(job.spec, job.key)
    connection = sqlite3.connect(job.cache + "-floor.sqlite", isolation_level=None)
    connection.execute("PRAGMA journal_mode=wal")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS chunks (key TEXT PRIMARY KEY NOT NULL, "
        "value BLOB NOT NULL, created REAL NOT NULL, accessed REAL NOT NULL)"
    )
    identity = b"vaultcache/2 spec=%s key=%s entry=%s" % (
        job.spec.encode(),
        b"0" * 16,
        os.urandom(16).hex().encode(),
    )
    sql = "INSERT OR REPLACE INTO chunks (key, value, created, accessed) VALUES (?, ?, ?, ?)"
    count = (job.size + MIB - 1) // MIB

    def run() -> None:
        for index, piece in enumerate(stream_pieces(pool, job.size)):
            record = seal(piece, _chunk_context(identity, index, index == count - 1))
            now = time.time()
            connection.execute(sql, (f"floor/{index}", record, now, now))

    def reset() -> None:
        connection.execute("DELETE FROM chunks")

    return run, reset


def _worker_memory(job: _StreamJob, *, hit: bool) -> dict[str, Any]:
    """One streamed store (a miss) or hit, in this fresh process: RSS growth, times, digest."""
    import hashlib

    session = _worker_session(job)
    digest = hashlib.sha256()
    watch = _RssWatch()
    watch.start()
    times = _stream_get(session, job.url, hit=hit, digest=digest)
    memory = watch.stop()
    stored = session.cache.contains(url=job.url)
    session.close()
    if times["bytes"] != job.size:
        raise SystemExit(f"streaming: read {times['bytes']} bytes of {job.size}")
    if not stored:
        raise SystemExit("streaming: the streamed body was not stored")
    return {**times, **memory, "sha256": digest.hexdigest()}


def _worker_hit_timing(job: _StreamJob) -> dict[str, Any]:
    """Streamed hits and their floor, round-robin; every hit's time to first byte."""
    session = _worker_session(job)
    hits: list[dict[str, float]] = []

    def hit() -> None:
        hits.append(_stream_get(session, job.url, hit=True))

    candidates = [
        Candidate("hit", hit, job.size),
        Candidate("floor", _read_floor(job), job.size),
    ]
    measure_round_robin(candidates, Plan(job.rounds, 1))
    session.close()
    return {
        "samples": {c.label: c.samples for c in candidates},
        "ttfb_s": [h["ttfb_s"] for h in hits],
        "get_s": [h["get_s"] for h in hits],
    }


def _worker_store_timing(job: _StreamJob) -> dict[str, Any]:
    """Streamed stores (misses of new URLs) and their floor, round-robin."""
    with open(job.pool_path, "rb") as file:
        pool = file.read()
    session = _worker_session(job)
    numbers = itertools.count(1)
    last: list[str] = []

    def store() -> None:
        url = job.body_url(f"&n={next(numbers)}")
        last[:] = [url]
        _stream_get(session, url, hit=False)

    def forget() -> None:  # outside the timing: keep one 1 GiB entry on disk at most
        if not session.cache.contains(url=last[0]):
            raise SystemExit("streaming: a streamed store was not committed")
        session.cache.delete(urls=last)

    floor, floor_reset = _store_floor(job, pool)
    candidates = [
        Candidate("store", store, job.size, reset=forget),
        Candidate("floor", floor, job.size, reset=floor_reset),
    ]
    measure_round_robin(candidates, Plan(job.rounds, 1))
    session.close()
    return {"samples": {c.label: c.samples for c in candidates}}


def streaming_worker() -> int:
    """Entry point of a worker process: one job from stdin, its result as JSON on stdout."""
    job = _StreamJob(**json.load(sys.stdin))
    operations: dict[str, Callable[[], dict[str, Any]]] = {
        "store-memory": lambda: _worker_memory(job, hit=False),
        "hit-memory": lambda: _worker_memory(job, hit=True),
        "hit-timing": lambda: _worker_hit_timing(job),
        "store-timing": lambda: _worker_store_timing(job),
    }
    json.dump(operations[job.op](), sys.stdout)
    return 0


def _run_worker(job: _StreamJob) -> dict[str, Any]:
    """Run `job` in a fresh process of this interpreter; its JSON answer."""
    process = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "_streaming-worker"],
        input=json.dumps(job.__dict__),
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        sys.stderr.write(process.stderr)
        raise SystemExit(f"streaming: worker {job.op} failed ({process.returncode})")
    result: dict[str, Any] = json.loads(process.stdout)
    return result


def _ratio_fields(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    ratios = [a / b for a, b in zip(numerator, denominator, strict=True)]
    q1, median, q3 = quartiles(ratios)
    return {"ratio": median, "ratio_q1": q1, "ratio_q3": q3}


def streaming_spec(
    spec: str, *, size: int, rounds: int, chunked: bool, base_url: str, pool_path: str, root: Path
) -> dict[str, Any]:
    """Part 1 for one spec: memory and times of a streamed store and hit, and their floors."""
    from vaultcache import generate_key

    folder = root / spec.replace("+", "-")
    folder.mkdir()
    job = _StreamJob(
        op="",
        spec=spec,
        key=generate_key(),
        cache=str(folder / "http_cache"),
        base_url=base_url,
        size=size,
        pool_path=pool_path,
        chunked=chunked,
        rounds=rounds,
    )
    job.url = job.body_url()
    label = f"streaming {spec} {_size_label(size)}"
    _progress(f"{label}: one streamed store (a miss) in a fresh process ...")
    store = _run_worker(attrs_evolve(job, op="store-memory"))
    _progress(f"{label}: one streamed hit in a fresh process ...")
    hit = _run_worker(attrs_evolve(job, op="hit-memory"))
    if hit["sha256"] != store["sha256"]:
        raise SystemExit(f"{label}: the hit's body differs from the stored one")
    _progress(f"{label}: hits against their floor, {rounds} rounds ...")
    hit_timing = _run_worker(attrs_evolve(job, op="hit-timing"))
    _progress(f"{label}: streamed stores against their floor, {rounds} rounds ...")
    store_timing = _run_worker(attrs_evolve(job, op="store-timing"))
    shutil.rmtree(folder)
    result: dict[str, Any] = {"spec": spec, "size": size, "chunked": chunked}
    for name, memory in (("store", store), ("hit", hit)):
        result[f"{name}_memory"] = {k: v for k, v in memory.items() if k != "sha256"}
    for name, timing in (("hit", hit_timing), ("store", store_timing)):
        samples = timing["samples"]
        q1, median, q3 = quartiles(samples[name])
        f1, floor, f3 = quartiles(samples["floor"])
        result[f"{name}_timing"] = {
            "ns": median,
            "ns_q1": q1,
            "ns_q3": q3,
            "mb_per_s": mb_per_s(size, median),
            "floor_ns": floor,
            "floor_ns_q1": f1,
            "floor_ns_q3": f3,
            "floor_mb_per_s": mb_per_s(size, floor),
            **_ratio_fields(samples[name], samples["floor"]),
            "samples": samples,
        }
    result["hit_timing"]["ttfb_s"] = hit_timing["ttfb_s"]
    result["hit_timing"]["get_s"] = hit_timing["get_s"]
    return result


def attrs_evolve(job: _StreamJob, **changes: Any) -> _StreamJob:
    """A copy of `job` with `changes`."""
    return _StreamJob(**{**job.__dict__, **changes})


def nonstreamed_memory(specs: Sequence[str], with_requests_cache: bool) -> list[dict[str, Any]]:
    """Part 2: tracemalloc peak of a non-streamed hit and store of a 16 MiB body."""
    import requests

    from vaultcache import CachedSession, generate_key

    body = make_body(NONSTREAM_SIZE, seed=4000)
    results: list[dict[str, Any]] = []

    def row(candidate: str, operation: str, peak: int) -> None:
        results.append(
            {
                "candidate": candidate,
                "operation": operation,
                "peak_bytes": peak,
                "multiple": peak / NONSTREAM_SIZE,
            }
        )

    with (
        body_server({NONSTREAM_SIZE: body}) as base_url,
        tempfile.TemporaryDirectory(prefix="vaultcache-bench-") as folder,
    ):
        url = f"{base_url}/body/{NONSTREAM_SIZE}"
        plain = requests.Session()
        row(NO_CACHE, "get from the server", peak_memory(lambda: plain.get(url)))
        plain.close()
        sessions: list[tuple[str, Any]] = []
        if with_requests_cache:
            import requests_cache

            rc = requests_cache.CachedSession(str(Path(folder) / "rc"), backend="sqlite")
            sessions.append((f"{REQUESTS_CACHE} [sqlite]", rc))
        for spec in specs:
            session = CachedSession(
                str(Path(folder) / spec.replace("+", "-")), serializer=spec, keys=[generate_key()]
            )
            sessions.append((f"vaultcache {spec} [sqlite]", session))
        for name, session in sessions:
            _progress(f"streaming: peak memory of 16 MiB gets, {name} ...")
            numbers = itertools.count(1)

            def miss(session: Any = session, numbers: Any = numbers) -> None:
                if session.get(f"{url}?n={next(numbers)}").from_cache:
                    raise SystemExit("streaming: a new URL came from the cache")

            def hit(session: Any = session) -> None:
                if not session.get(url).from_cache:
                    raise SystemExit("streaming: a stored URL missed the cache")

            session.get(url)
            row(name, "hit", peak_memory(hit))
            row(name, "miss (get + store)", peak_memory(miss))
            if name.startswith("vaultcache"):
                response = make_response(body)  # a CachedResponse holding the body
                cache = session.cache

                def save(cache: Any = cache, response: Any = response) -> None:
                    cache.save_response(response)

                row(name, "store alone (save_response)", peak_memory(save))
            session.close()
    return results


def _fill_listing_cache(cache: Any, entries: int, pool: bytes) -> None:
    """`entries` responses of 1 MiB bodies; one in ten expired, the others fresh for a day."""
    now = dt.datetime.now(dt.UTC)
    for index in range(entries):
        body = bytes(stream_piece(pool, index, (index + 1) * MIB))
        response = make_response(body)
        response.url = f"https://api.example.org/v2/items/{index}"
        response.cache_key = f"listing-{index:05d}"
        response.created_at = now
        response.expires = now + dt.timedelta(days=-1 if index % 10 == 0 else 1)
        cache.save_response(response)


def listing_timings(entries: int, rounds: int, pool: bytes) -> dict[str, Any]:
    """Part 3: listing by metadata alone against reading every entry whole."""
    from vaultcache import CachedSession, generate_key

    with tempfile.TemporaryDirectory(prefix="vaultcache-bench-") as folder:
        session = CachedSession(str(Path(folder) / "listing"), keys=[generate_key()])
        cache = session.cache
        _progress(f"streaming: listing, storing {entries} entries of 1 MiB ...")
        _fill_listing_cache(cache, entries, pool)

        def whole() -> Iterator[Any]:
            # What format 1 had to do: every body decrypted and decompressed to list it.
            for key in list(cache.storage):
                response = cache.get_response(key)
                if response is not None and cache.load_body(response):
                    yield response

        now = dt.datetime.now(dt.UTC)

        def whole_urls() -> list[str]:
            return sorted({response.url for response in whole()})

        def whole_count() -> int:
            return sum(1 for r in whole() if r.expires is None or r.expires > now)

        expected_urls = whole_urls()
        if cache.urls != expected_urls or cache.response_count(True) != whole_count():
            raise SystemExit("streaming: the listings disagree")
        fresh = whole_count()
        candidates = {
            "urls": Candidate("cache.urls", lambda: cache.urls, 0),
            "count": Candidate(
                "cache.response_count(check_expiry=True)",
                lambda: cache.response_count(check_expiry=True),
                0,
            ),
            "urls_whole": Candidate("urls, every body read", whole_urls, 0),
            "count_whole": Candidate("count, every body read", whole_count, 0),
        }
        _progress(f"streaming: listing {entries} entries, {rounds} rounds ...")
        measure_round_robin(list(candidates.values()), Plan(rounds, 100))
        session.close()
    rows = []
    for name in ("urls", "count"):
        fast, slow = candidates[name], candidates[name + "_whole"]
        rows.append(
            {
                "operation": fast.label,
                **_quartile_fields("metadata", fast),
                **_quartile_fields("whole", slow),
                **_ratio_fields(slow.samples, fast.samples),
            }
        )
    return {"entries": entries, "fresh": fresh, "rows": rows}


def _mib(value: float) -> str:
    return f"{value / MIB:.1f} MiB"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_streaming(report: dict[str, Any]) -> None:
    """The human-readable tables, each figure with its target."""
    print_environment(report)
    size = report["size"]
    framing = "chunked transfer coding" if report["chunked"] else "Content-Length"
    print(
        f"Streamed body {_size_label(size)} ({framing}),"
        f" iter_content(1 MiB); {report['rounds']} rounds round-robin against the floor."
    )
    for result in report["specs"]:
        print()
        print(f"Spec {result['spec']} [sqlite]")
        target: float
        for name, target in (("store", TARGET_STORE_FLOOR), ("hit", TARGET_HIT_FLOOR)):
            memory = result[f"{name}_memory"]
            timing = result[f"{name}_timing"]
            growth = memory["rss_growth_bytes"]
            print(
                f"  streamed {name:<5} RSS growth {_mib(growth):>10} (target < 64 MiB:"
                f" {_verdict(growth < TARGET_RSS_GROWTH)}); {memory['rss_method']}"
            )
            print(
                f"  streamed {name:<5} {timing['mb_per_s']:8.1f} MB/s, floor"
                f" {timing['floor_mb_per_s']:8.1f} MB/s; time / floor {timing['ratio']:.2f}"
                f" ({timing['ratio_q1']:.2f}-{timing['ratio_q3']:.2f}; target <= {target:g}:"
                f" {_verdict(timing['ratio'] <= target)})"
            )
        ttfb = result["hit_timing"]["ttfb_s"] + [result["hit_memory"]["ttfb_s"]]
        get_s = result["hit_timing"]["get_s"] + [result["hit_memory"]["get_s"]]
        median_ttfb = statistics.median(ttfb)
        print(
            f"  hit: first byte {median_ttfb * 1e3:.2f} ms after get() returned (median of"
            f" {len(ttfb)}, max {max(ttfb) * 1e3:.2f}; target < 20 ms:"
            f" {_verdict(median_ttfb < TARGET_TTFB_S)}); get() itself"
            f" {statistics.median(get_s) * 1e3:.2f} ms"
        )
    if report["memory"]:
        print()
        print(f"Peak memory of one non-streamed get of a {_size_label(NONSTREAM_SIZE)} body")
        print("(tracemalloc, Python allocations, median of 3 after a warm-up):")
        for row in report["memory"]:
            verdict = ""
            if row["candidate"].startswith("vaultcache") and row["operation"] == "hit":
                verdict = f"target <= 2.2x: {_verdict(row['multiple'] <= TARGET_HIT_MEMORY)}"
            elif row["candidate"].startswith("vaultcache") and row["operation"].startswith("miss"):
                verdict = f"target <= 2.5x: {_verdict(row['multiple'] <= TARGET_STORE_MEMORY)}"
            print(
                f"  {row['candidate']:<40} {row['operation']:<28}"
                f" {row['peak_bytes'] / MIB:7.2f} MiB {row['multiple']:5.2f}x  {verdict}"
            )
    listing = report["listing"]
    if listing:
        print()
        print(
            f"Listing {listing['entries']} entries of 1 MiB bodies ({listing['fresh']} fresh),"
            " by metadata against reading every entry whole:"
        )
        for row in listing["rows"]:
            fast, _ = _durations(row["metadata_ns"], row["metadata_ns_q1"], row["metadata_ns_q3"])
            slow, _ = _durations(row["whole_ns"], row["whole_ns_q1"], row["whole_ns_q3"])
            print(
                f"  {row['operation']:<42} {fast:>10} against {slow:>10}: {row['ratio']:.1f}x"
                f" faster ({row['ratio_q1']:.1f}-{row['ratio_q3']:.1f}; target >= 20x:"
                f" {_verdict(row['ratio'] >= TARGET_LISTING)})"
            )


def run_streaming(args: argparse.Namespace) -> dict[str, Any]:
    """The ``streaming`` benchmark."""
    size = args.size * MIB if args.size else (STREAM_QUICK_SIZE if args.quick else STREAM_SIZE)
    rounds = args.rounds or 3
    specs = args.spec or (STREAM_SPECS[:1] if args.quick else STREAM_SPECS)
    entries = LISTING_QUICK_ENTRIES if args.quick else LISTING_ENTRIES
    with_requests_cache = requests_cache_available()
    env = environment(dt.datetime.now(dt.UTC), extra=("requests", "requests-cache"))
    started = time.perf_counter()
    _progress("streaming: generating the text bodies are cut from ...")
    pool = make_body(STREAM_POOL_SIZE, seed=5000)
    results = []
    with tempfile.TemporaryDirectory(prefix="vaultcache-bench-stream-") as folder:
        pool_path = os.path.join(folder, "pool")
        with open(pool_path, "wb") as file:
            file.write(pool)
        with stream_server(pool) as base_url:
            for spec in specs:
                results.append(
                    streaming_spec(
                        spec,
                        size=size,
                        rounds=rounds,
                        chunked=args.chunked,
                        base_url=base_url,
                        pool_path=pool_path,
                        root=Path(folder),
                    )
                )
    memory = [] if args.skip_memory else nonstreamed_memory(specs, with_requests_cache)
    listing = {} if args.skip_listing else listing_timings(entries, max(rounds, 5), pool)
    if hasattr(os, "getloadavg"):
        env["load_average"] = [round(value, 2) for value in os.getloadavg()]
    report = {
        "benchmark": "streaming",
        "quick": args.quick,
        "environment": env,
        "size": size,
        "rounds": rounds,
        "chunked": args.chunked,
        "specs": results,
        "memory": memory,
        "listing": listing,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print_streaming(report)
    print(f"\n(run took {report['seconds']} s)")
    return report


def run_small_hit(args: argparse.Namespace) -> dict[str, Any]:
    """The ``small-hit`` benchmark: a 1 KiB hit of the default spec against requests-cache.

    The session benchmark's 1 KiB hit alone, for A/B runs of two vaultcache checkouts (put the
    other one first on PYTHONPATH): the two sessions only, so more rounds fit in seconds.
    """
    import requests_cache

    import vaultcache
    from vaultcache import CachedSession, generate_key

    spec = "zstd+aesgcm"
    plan = Plan(rounds=args.rounds or (11 if args.quick else 61), batch_ms=25)
    env = environment(dt.datetime.now(dt.UTC), extra=("requests", "requests-cache"))
    env["vaultcache_path"] = os.path.dirname(vaultcache.__file__)
    body = make_body(KIB, seed=3000)
    with (
        body_server({KIB: body}) as base_url,
        tempfile.TemporaryDirectory(prefix="vaultcache-bench-") as folder,
    ):
        url = f"{base_url}/body/{KIB}"
        anchor: Any = requests_cache.CachedSession(str(Path(folder) / "rc"), backend="sqlite")
        session = CachedSession(str(Path(folder) / "vc"), serializer=spec, keys=[generate_key()])
        sessions = ((REQUESTS_CACHE, anchor), (f"vaultcache {spec}", session))
        for _, cached in sessions:
            cached.get(url)
        candidates = [Candidate(name, _hit_of(cached, url), KIB) for name, cached in sessions]
        measure_round_robin(candidates, plan)
        anchor.close()
        session.close()
    if hasattr(os, "getloadavg"):
        env["load_average"] = [round(value, 2) for value in os.getloadavg()]
    q1, ratio, q3 = paired_ratio(candidates[1], candidates[0])
    report = {
        "benchmark": "small-hit",
        "environment": env,
        "plan": {"rounds": plan.rounds, "batch_ms": plan.batch_ms},
        "hit_ns": {c.label: statistics.median(c.samples) for c in candidates},
        "ratio": ratio,
        "ratio_q1": q1,
        "ratio_q3": q3,
    }
    print_environment(report)
    print(f"vaultcache imported from {env['vaultcache_path']}")
    for candidate in candidates:
        print(f"  {candidate.label:<32} {statistics.median(candidate.samples) / 1e3:8.1f} us")
    print(
        f"1 KiB hit, {spec} / requests-cache: {ratio:.3f} ({q1:.3f}-{q3:.3f}),"
        f" {plan.rounds} rounds; target <= 0.38"
    )
    return report


def _hit_of(session: Any, url: str) -> Callable[[], None]:
    """One get of `url`, which must be a hit."""
    get = session.get

    def hit() -> None:
        if not get(url).from_cache:
            raise SystemExit("small-hit: a stored URL missed the cache")

    return hit


# -- large hits against their floor -----------------------------------------------------------

#: Specs and body sizes of the ``floor`` benchmark (``--quick``: all but the last).
FLOOR_SPECS = ("zstd+aesgcm", "signed+zstd+fernet")
FLOOR_SIZES = (KIB, 64 * KIB, MIB, 16 * MIB)
FLOOR = "floor (primitives on the stored bytes)"
#: The least any hit through a requests.Session can take: the floor, then what requests does
#: for any get before a cache is asked (a plain Session's prepare_request), in one call.
BOUND = "floor + prepare_request"


def _stored_rows(path: Path) -> tuple[str, bytes, list[str]]:
    """The one cache key in the sqlite cache at `path`, its head and its chunk keys."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        ((key, head),) = connection.execute("SELECT key, value FROM responses").fetchall()
        chunks = [row[0] for row in connection.execute("SELECT key FROM chunks ORDER BY key")]
    finally:
        connection.close()
    return key, bytes(head), sorted(chunks, key=lambda name: int(name.rsplit("/", 1)[1]))


def _floor_opener(spec: str, key: str) -> Callable[[Any, bytes], Any]:
    """Open one record written by `spec` (a header's canonical spec) with the bare primitives:
    each stage right to left, format excluded (docs/format.md gives the sealed forms)."""
    import base64
    import hashlib
    import hmac

    import zstandard
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from vaultcache import KeyRing

    secret = KeyRing([key]).primary
    aesgcm = AESGCM(secret.subkey("aesgcm"))
    fernet = Fernet(base64.urlsafe_b64encode(secret.subkey("fernet")))
    signing = hmac.new(secret.subkey("signed"), b"vaultcache.signed", "sha256").digest()
    decompressor = zstandard.ZstdDecompressor()

    def signed(record: Any, context: bytes) -> Any:
        value, _, mac = bytes(record).rpartition(b".")
        expected = hmac.new(signing, len(context).to_bytes(4, "big") + context, "sha256")
        expected.update(value)
        if mac != base64.urlsafe_b64encode(expected.digest()).rstrip(b"="):
            raise SystemExit("floor: bad signature")
        return value

    def fernet_open(record: Any, context: bytes) -> Any:
        plain = fernet.decrypt(bytes(record))
        if plain[:32] != hashlib.sha256(context).digest():
            raise SystemExit("floor: context mismatch")
        return memoryview(plain)[32:]

    def aesgcm_open(record: Any, context: bytes) -> Any:
        view = memoryview(record)
        return aesgcm.decrypt(view[:12], view[12:], context)

    steps: dict[str, Callable[[Any, bytes], Any]] = {
        "aesgcm": aesgcm_open,
        "fernet": fernet_open,
        "signed": signed,
        "zstd": lambda record, context: decompressor.decompress(record),
    }
    chain = [steps[name] for name in reversed(spec.split("+")[1:])]

    def open_(record: Any, context: bytes) -> Any:
        for step in chain:
            record = step(record, context)
        return record

    return open_


def _floor_read(path: Path, key: str) -> Callable[[], bytes]:
    """The floor of one hit: read the head and chunk records of the one entry in the sqlite
    cache at `path` and open each with the primitives (the metadata record too, not decoded);
    the body is the one chunk's plaintext, the chunks' written into one buffer, or the opened
    metadata record when inline."""
    import sqlite3

    cache_key, head, chunk_keys = _stored_rows(path)
    line = head[: head.index(b"\n") + 1]
    spec = line.split(b" spec=")[1].split(b" ")[0].decode()
    identity = line[: line.index(b" body=")]
    open_ = _floor_opener(spec, key)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    heads = "SELECT value FROM responses WHERE key = ?"
    chunks = "SELECT value FROM chunks WHERE key = ?"
    last = len(chunk_keys) - 1
    end = _chunk_context(identity, 0, True)

    def run() -> bytes:
        stored = connection.execute(heads, (cache_key,)).fetchone()[0]
        view = memoryview(stored)[len(line) :]
        length = int.from_bytes(view[:4], "big")
        meta = open_(view[4 : 4 + length], line + b"\x00meta")
        if not chunk_keys:
            return bytes(meta)
        if len(chunk_keys) == 1:
            return bytes(open_(connection.execute(chunks, (chunk_keys[0],)).fetchone()[0], end))
        # Joined as vaultcache joins them (the cheapest way found): into one buffer, each
        # chunk dropped once copied; b"".join of them all takes longer and twice the memory.
        buffer = io.BytesIO()
        for index, name in enumerate(chunk_keys):
            record = connection.execute(chunks, (name,)).fetchone()[0]
            buffer.write(open_(record, _chunk_context(identity, index, index == last)))
        return buffer.getvalue()

    return run


def _floor_candidates(
    spec: str, size: int, folder: Path, base_url: str, key: str
) -> tuple[list[Candidate], dict[str, Callable[[], object]]]:
    """Floor, vaultcache's cache-level read, its session hit, requests-cache's hit of one
    `size` body and the floor followed by a plain Session's prepare_request of its URL; also
    the runs whose peak memory is measured."""
    import requests
    import requests_cache

    from vaultcache import CachedSession

    url = f"{base_url}/body/{size}"
    path = folder / f"{spec}-{size}"
    session = CachedSession(str(path), serializer=spec, keys=[key])
    anchor: Any = requests_cache.CachedSession(str(folder / f"rc-{size}"), backend="sqlite")
    expected = len(session.get(url).content)
    anchor.get(url)
    floor = _floor_read(path.with_name(path.name + ".sqlite"), key)
    cache_key = _stored_rows(path.with_name(path.name + ".sqlite"))[0]
    get_response = session.cache.get_response

    def cache_read() -> bytes:
        body: bytes = get_response(cache_key).content
        return body

    def session_hit() -> bytes:
        response = session.get(url)
        if not getattr(response, "from_cache", False):
            raise SystemExit("floor: a stored URL missed the cache")
        body: bytes = response.content
        return body

    plain = requests.Session()
    request = requests.Request("GET", url)

    def bound() -> requests.PreparedRequest:
        # In a row, as in a hit: the code after a large body runs with the caches it left.
        floor()
        return plain.prepare_request(request)

    # An inline body's floor is its opened metadata record: the body and a few fields.
    if not expected <= len(floor()) <= expected + KIB:
        raise SystemExit("floor: the floor read the wrong body")
    if len(cache_read()) != expected or len(session_hit()) != expected:
        raise SystemExit("floor: vaultcache read the wrong body")
    runs: dict[str, Callable[[], object]] = {
        FLOOR: floor,
        "vaultcache cache read": cache_read,
        "vaultcache hit": session_hit,
    }
    candidates = [Candidate(label, run, size) for label, run in runs.items()]
    candidates.append(Candidate(REQUESTS_CACHE, _hit_of(anchor, url), size))
    candidates.append(Candidate(BOUND, bound, size))
    return candidates, runs


def run_floor(args: argparse.Namespace) -> dict[str, Any]:
    """The ``floor`` benchmark: large hits against the bare primitives on the same bytes."""
    from vaultcache import generate_key

    sizes = FLOOR_SIZES[:-1] if args.quick else FLOOR_SIZES
    env = environment(dt.datetime.now(dt.UTC), extra=("requests", "requests-cache"))
    bodies = {size: make_body(size, seed=4000 + index) for index, size in enumerate(sizes)}
    results = []
    with (
        body_server(bodies) as base_url,
        tempfile.TemporaryDirectory(prefix="vaultcache-bench-") as folder,
    ):
        for spec in FLOOR_SPECS:
            for size in sizes:
                _progress(f"floor: {spec}, {_size_label(size)}")
                key = generate_key()
                candidates, runs = _floor_candidates(spec, size, Path(folder), base_url, key)
                rounds = args.rounds or (5 if args.quick else (15 if size >= LARGE_SIZE else 41))
                measure_round_robin(candidates, Plan(rounds, 5 if size >= LARGE_SIZE else 20))
                floor, *others = candidates
                hit, anchor, bound = others[1:]
                entry: dict[str, Any] = {"spec": spec, "size": size, "median_ns": {}, "ratio": {}}
                for candidate in candidates:
                    entry["median_ns"][candidate.label] = statistics.median(candidate.samples)
                for candidate in others:
                    entry["ratio"][f"{candidate.label} / floor"] = paired_ratio(candidate, floor)
                entry["ratio"]["vaultcache hit / requests-cache"] = paired_ratio(hit, anchor)
                entry["ratio"][f"{BOUND} / requests-cache"] = paired_ratio(bound, anchor)
                if size >= MIB:
                    entry["peak_bytes"] = {label: peak_memory(run) for label, run in runs.items()}
                results.append(entry)
    if hasattr(os, "getloadavg"):
        env["load_average"] = [round(value, 2) for value in os.getloadavg()]
    report = {"benchmark": "floor", "environment": env, "results": results}
    print_environment(report)
    print_floor(results)
    return report


def print_floor(results: Sequence[dict[str, Any]]) -> None:
    """One line per spec and size: medians, ratios (median and IQR), tracemalloc peaks."""
    for entry in results:
        print(f"\n{entry['spec']}, {_size_label(entry['size'])} body (median us per call)")
        for label, median in entry["median_ns"].items():
            print(f"  {label:<40} {median / 1e3:10.1f}")
        for label, (q1, ratio, q3) in entry["ratio"].items():
            print(f"  {label:<40} {ratio:10.3f}  ({q1:.3f}-{q3:.3f})")
        for label, peak in entry.get("peak_bytes", {}).items():
            share = peak / entry["size"]
            print(f"  peak {label:<35} {peak / MIB:7.2f} MiB  {share:5.2f} x body")


# -- session construction -----------------------------------------------------------------------

#: One process's figures, printed as JSON: import, first construction, later constructions.
_CONSTRUCTION_SCRIPT = """
import json, statistics, time
start = time.perf_counter()
from {module} import CachedSession
imported = time.perf_counter()
times = []
for _ in range(12):
    before = time.perf_counter()
    CachedSession().close()
    times.append(time.perf_counter() - before)
print(json.dumps([imported - start, times[0], statistics.median(times[1:])]))
"""
CONSTRUCTION_LIBRARIES = {"vaultcache": "vaultcache", REQUESTS_CACHE: "requests_cache"}


def _construction_run(module: str, home: str) -> list[float]:
    """Import time, first and median later ``CachedSession()`` time (seconds) in a fresh
    process whose home (and so key file) is `home`, in a working directory of `module`'s own
    (whose cache file the first run creates and later ones open, as an application would)."""
    env = {**os.environ, "HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
    env.pop("VAULTCACHE_KEYS", None)
    folder = Path(home) / module
    folder.mkdir(exist_ok=True)
    script = _CONSTRUCTION_SCRIPT.format(module=module)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=folder,  # also keeps a checkout in the caller's directory off sys.path
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: list[float] = json.loads(result.stdout.splitlines()[-1])
    return figures


def run_construction(args: argparse.Namespace) -> dict[str, Any]:
    """The ``construction`` benchmark: ``CachedSession()`` with every default, in fresh
    processes taking turns, vaultcache against requests-cache."""
    rounds = args.rounds or (5 if args.quick else 21)
    env = environment(dt.datetime.now(dt.UTC), extra=("requests", "requests-cache"))
    samples: dict[str, list[list[float]]] = {name: [] for name in CONSTRUCTION_LIBRARIES}
    with tempfile.TemporaryDirectory(prefix="vaultcache-bench-") as home:
        for module in CONSTRUCTION_LIBRARIES.values():
            _construction_run(module, home)  # creates the key file and cache: not counted
        for _ in range(rounds):
            for name, module in CONSTRUCTION_LIBRARIES.items():
                samples[name].append(_construction_run(module, home))
    if hasattr(os, "getloadavg"):
        env["load_average"] = [round(value, 2) for value in os.getloadavg()]
    parts = ("import", "first", "later")
    medians = {
        name: {part: statistics.median(run[i] for run in runs) for i, part in enumerate(parts)}
        for name, runs in samples.items()
    }
    vc, rc = samples["vaultcache"], samples[REQUESTS_CACHE]
    ratio = quartiles([(a[0] + a[1]) / (b[0] + b[1]) for a, b in zip(vc, rc, strict=True)])
    report = {"benchmark": "construction", "environment": env, "rounds": rounds}
    report |= {"median_s": medians, "import_and_first_ratio": ratio}
    print_environment(report)
    print(f"CachedSession() in fresh processes, {rounds} each, taking turns (median ms)")
    for name, figures in medians.items():
        cells = "  ".join(f"{part} {figures[part] * 1e3:7.2f}" for part in parts)
        print(f"  {name:<30} {cells}")
    q1, median, q3 = ratio
    print(f"import + first, vaultcache / requests-cache: {median:.2f} ({q1:.2f}-{q3:.2f})")
    return report


# -- dictionary benchmark ----------------------------------------------------------------------

DICTIONARY_SPEC = "zstd+aesgcm"  # the default spec
DICTIONARY_HIT_SIZES = (KIB, 16 * KIB)


def dictionary_corpus(count: int) -> list[bytes]:
    """`count` JSON API responses of 4 to 21 KiB, reproducible."""
    rng = random.Random(4021)
    return [make_body(rng.randint(4 * KIB, 21 * KIB), seed=50_000 + n) for n in range(count)]


def _fill_dictionary_cache(
    folder: Path, corpus: Sequence[bytes], *, train_on: int, page_size: int, key: str
) -> dict[str, Any]:
    """Store `corpus` in a new sqlite cache of the default spec and `page_size`; with
    `train_on`, first train a dictionary on that many of its bodies (stored, then written
    again with it)."""
    import attrs

    from vaultcache import CachedSession
    from vaultcache.dictionaries import train

    session = CachedSession(
        str(folder / "vc"), serializer=DICTIONARY_SPEC, keys=[key], page_size=page_size
    )
    template = make_response(b"")

    def store(number: int, body: bytes) -> None:
        url = f"https://api.example.org/v2/items?page={number}"
        response = attrs.evolve(
            template,
            url=url,
            content=body,
            cache_key=f"{number:032x}",
            headers={**template.headers, "Content-Length": str(len(body))},
        )
        session.cache.save_response(response)

    trained: dict[str, Any] = {}
    try:
        if train_on:
            for number, body in enumerate(corpus[:train_on]):
                store(number, body)
            started = time.perf_counter()
            report = train(session.cache, samples=train_on)
            trained = {"seconds": time.perf_counter() - started, "bytes": report.size}
        for number, body in enumerate(corpus):
            store(number, body)
        storage = session.cache.storage
        entry_bytes = sum(len(storage[key]) for key in storage)
    finally:
        session.close()
    disk, _ = _disk_usage(folder)
    raw = sum(map(len, corpus))
    return {
        "disk_bytes": disk,
        "entry_bytes": entry_bytes,
        "disk_ratio": disk / raw,
        "entry_ratio": entry_bytes / raw,
        "trained": trained,
    }


def run_dictionary(args: argparse.Namespace) -> dict[str, Any]:
    """The ``dictionary`` benchmark: on-disk size of a JSON corpus with and without a trained
    zstd dictionary, and the 1 KiB / 16 KiB hit latency of each, in one run."""
    from vaultcache import CachedSession, generate_key

    count = 200 if args.quick else 1000
    train_on = 100 if not args.quick else 50
    plan = Plan(rounds=args.rounds or (9 if args.quick else 41), batch_ms=25)
    env = environment(dt.datetime.now(dt.UTC))
    corpus = dictionary_corpus(count)
    key = generate_key()
    bodies = {size: make_body(size, seed=60_000 + size) for size in DICTIONARY_HIT_SIZES}
    # name: (responses the dictionary is trained on, sqlite page size)
    modes = {
        "no dictionary": (0, 4096),
        "dictionary": (train_on, 4096),
        "dictionary, 2 KiB pages": (train_on, 2048),
    }
    report: dict[str, Any] = {
        "benchmark": "dictionary",
        "environment": env,
        "corpus": {"responses": count, "raw_bytes": sum(map(len, corpus)), "trained_on": train_on},
        "plan": {"rounds": plan.rounds, "batch_ms": plan.batch_ms},
        "disk": {},
        "hits": [],
    }
    with (
        tempfile.TemporaryDirectory(prefix="vaultcache-bench-") as temp,
        body_server(bodies) as base_url,
    ):
        sessions = {}
        for number, (mode, (trained, page_size)) in enumerate(modes.items()):
            _progress(f"dictionary: storing {count} responses ({mode}) ...")
            folder = Path(temp) / str(number)
            folder.mkdir()
            report["disk"][mode] = _fill_dictionary_cache(
                folder, corpus, train_on=trained, page_size=page_size, key=key
            )
            sessions[mode] = CachedSession(
                str(folder / "vc"), serializer=DICTIONARY_SPEC, keys=[key]
            )
        candidates: dict[tuple[str, int], Candidate] = {}
        for size in DICTIONARY_HIT_SIZES:
            url = f"{base_url}/body/{size}"
            for mode, session in sessions.items():
                session.get(url)
                candidates[mode, size] = Candidate(
                    f"{_size_label(size)} {mode}", _hit_of(session, url), size
                )
        _progress(f"dictionary: timing hits, {plan.rounds} rounds ...")
        measure_round_robin(list(candidates.values()), plan)
        for session in sessions.values():
            session.close()
    for size in DICTIONARY_HIT_SIZES:
        plain = candidates["no dictionary", size]
        for mode in list(modes)[1:]:
            q1, ratio, q3 = paired_ratio(candidates[mode, size], plain)
            report["hits"].append(
                {
                    "size": size,
                    "mode": mode,
                    "without_ns": statistics.median(plain.samples),
                    "with_ns": statistics.median(candidates[mode, size].samples),
                    "ratio": ratio,
                    "ratio_q1": q1,
                    "ratio_q3": q3,
                }
            )
    if hasattr(os, "getloadavg"):
        env["load_average"] = [round(value, 2) for value in os.getloadavg()]
    print_dictionary(report)
    return report


def print_dictionary(report: dict[str, Any]) -> None:
    """The dictionary benchmark's tables."""
    print_environment(report)
    corpus = report["corpus"]
    print(
        f"corpus: {corpus['responses']} JSON responses of 4-21 KiB, {corpus['raw_bytes']:,} bytes;"
        f" spec {DICTIONARY_SPEC}, sqlite; dictionary trained on {corpus['trained_on']} of them"
    )
    print(f"{'':<32} {'disk bytes':>12} {'disk / raw':>11} {'entries / raw':>14}")
    for mode, row in report["disk"].items():
        print(
            f"{mode:<32} {row['disk_bytes']:>12,} {row['disk_ratio']:>10.3f}x"
            f" {row['entry_ratio']:>13.3f}x"
        )
    trained = report["disk"]["dictionary"]["trained"]
    print(f"training: {trained['bytes']:,} byte dictionary in {trained['seconds']:.2f} s")
    print(f"{'hit':<8} {'cache':<24} {'none':>10} {'this':>10} {'this / none':>24}")
    for row in report["hits"]:
        print(
            f"{_size_label(row['size']):<8} {row['mode']:<24}"
            f" {row['without_ns'] / 1e3:>8.1f}us {row['with_ns'] / 1e3:>8.1f}us"
            f" {row['ratio']:>8.3f} ({row['ratio_q1']:.3f}-{row['ratio_q3']:.3f})"
        )
    print("targets: disk / raw <= 0.35x with a dictionary; hit ratio <= 1.0 (none: no dictionary)")


# -- chunk compression benchmark ---------------------------------------------------------------

CHUNKING_CHUNK = MIB  # vaultcache's CHUNK_SIZE


def _per_chunk_codec(
    level: int, key: bytes
) -> tuple[Callable[[list[bytes]], list[bytes]], Callable[[list[bytes]], int]]:
    """Write and read one body as vaultcache does: each chunk its own zstd frame, then sealed
    with AES-GCM (a random nonce per chunk)."""
    import zstandard
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    compressor = zstandard.ZstdCompressor(level=level)
    decompressor = zstandard.ZstdDecompressor()
    cipher = AESGCM(key)

    def write(chunks: list[bytes]) -> list[bytes]:
        out = []
        for index, chunk in enumerate(chunks):
            nonce = os.urandom(12)
            out.append(nonce + cipher.encrypt(nonce, compressor.compress(chunk), b"%d" % index))
        return out

    def read(stored: list[bytes]) -> int:
        total = 0
        for index, record in enumerate(stored):
            plain = cipher.decrypt(record[:12], record[12:], b"%d" % index)
            total += len(decompressor.decompress(plain, max_output_size=2 * CHUNKING_CHUNK))
        return total

    return write, read


def _cross_chunk_codec(
    level: int, key: bytes
) -> tuple[Callable[[list[bytes]], list[bytes]], Callable[[list[bytes]], int]]:
    """Write and read one body as a single zstd stream across chunks: each stored chunk is
    the stream's output up to a block flush (so it can be decoded in order), sealed alike."""
    import zstandard
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    compressor = zstandard.ZstdCompressor(level=level)
    decompressor = zstandard.ZstdDecompressor()
    cipher = AESGCM(key)

    def write(chunks: list[bytes]) -> list[bytes]:
        stream = compressor.compressobj()
        out = []
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            flush = (
                zstandard.COMPRESSOBJ_FLUSH_FINISH if last else zstandard.COMPRESSOBJ_FLUSH_BLOCK
            )
            data = stream.compress(chunk) + stream.flush(flush)
            nonce = os.urandom(12)
            out.append(nonce + cipher.encrypt(nonce, data, b"%d" % index))
        return out

    def read(stored: list[bytes]) -> int:
        stream = decompressor.decompressobj()
        total = 0
        for index, record in enumerate(stored):
            total += len(stream.decompress(cipher.decrypt(record[:12], record[12:], b"%d" % index)))
        return total

    return write, read


def run_chunking(args: argparse.Namespace) -> dict[str, Any]:
    """The ``chunking`` benchmark: zstd per 1 MiB chunk (vaultcache's choice) against one zstd
    stream across the chunks, both sealed per chunk with AES-GCM, on the same JSON body."""
    size = (16 if args.quick else 64) * MIB
    plan = Plan(rounds=args.rounds or (5 if args.quick else 15), batch_ms=1)
    env = environment(dt.datetime.now(dt.UTC))
    body = make_body(size, seed=7_000)
    chunks = [body[offset : offset + CHUNKING_CHUNK] for offset in range(0, size, CHUNKING_CHUNK)]
    key = os.urandom(32)
    report: dict[str, Any] = {
        "benchmark": "chunking",
        "environment": env,
        "body_bytes": size,
        "chunk_bytes": CHUNKING_CHUNK,
        "plan": {"rounds": plan.rounds},
        "candidates": [],
    }
    codecs = {"per chunk": _per_chunk_codec(3, key), "across chunks": _cross_chunk_codec(3, key)}
    candidates: dict[tuple[str, str], Candidate] = {}
    for name, (write, read) in codecs.items():
        stored = write(chunks)
        if read(stored) != size:
            raise SystemExit(f"chunking: {name} did not round-trip")
        candidates[name, "write"] = Candidate(f"{name} write", calling(write, chunks), size)
        candidates[name, "read"] = Candidate(f"{name} read", calling(read, stored), size)
        report["candidates"].append({"name": name, "stored_bytes": sum(map(len, stored))})
    _progress(f"chunking: {size // MIB} MiB in {len(chunks)} chunks, {plan.rounds} rounds ...")
    measure_round_robin(list(candidates.values()), plan)
    for row in report["candidates"]:
        for step in ("write", "read"):
            row[f"{step}_ns"] = statistics.median(candidates[row["name"], step].samples)
        row["size_ratio"] = row["stored_bytes"] / size
    for step in ("write", "read"):
        q1, ratio, q3 = paired_ratio(
            candidates["across chunks", step], candidates["per chunk", step]
        )
        report[f"{step}_ratio"] = {"ratio": ratio, "q1": q1, "q3": q3}
    if hasattr(os, "getloadavg"):
        env["load_average"] = [round(value, 2) for value in os.getloadavg()]
    print_environment(report)
    print(f"{size // MIB} MiB JSON body in {len(chunks)} chunks of 1 MiB, zstd level 3 + AES-GCM")
    print(f"{'':<16} {'write MB/s':>11} {'read MB/s':>10} {'stored / body':>14}")
    for row in report["candidates"]:
        print(
            f"{row['name']:<16} {size / row['write_ns'] * 1e3:>11.0f}"
            f" {size / row['read_ns'] * 1e3:>10.0f} {row['size_ratio']:>13.4f}x"
        )
    for step in ("write", "read"):
        found = report[f"{step}_ratio"]
        print(
            f"{step} time, across / per chunk: {found['ratio']:.3f}"
            f" ({found['q1']:.3f}-{found['q3']:.3f})"
        )
    return report


# -- command line ------------------------------------------------------------------------------

BENCHMARKS: dict[str, tuple[Callable[[argparse.Namespace], dict[str, Any]], str]] = {
    "serializers": (run_serializers, "pipeline dumps/loads throughput and cipher memory"),
    "dictionary": (run_dictionary, "JSON corpus on disk and hit latency, with a zstd dictionary"),
    "session": (run_session, "end-to-end hit/miss latency, disk and memory vs requests-cache"),
    "small-hit": (run_small_hit, "1 KiB hit of the default spec vs requests-cache, for A/B"),
    "floor": (run_floor, "1 KiB to 16 MiB hits vs the primitives on the stored bytes"),
    "construction": (run_construction, "CachedSession() import and construction times"),
    "chunking": (run_chunking, "zstd per 1 MiB chunk against one stream across chunks"),
    "streaming": (
        run_streaming,
        "streamed 1 GiB store and hit vs their floors, 16 MiB memory, listing 1000 entries",
    ),
}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    """The command-line parser: one subcommand per benchmark."""
    main_parser = argparse.ArgumentParser(
        prog="bench.py", description="vaultcache benchmarks (see bench/README.md)"
    )
    commands = main_parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for name, (_, help_text) in BENCHMARKS.items():
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument(
            "--quick",
            action="store_true",
            help="short run for CI smoke tests (durations in bench/README.md)",
        )
        command.add_argument("--json", metavar="PATH", help="also write the results as JSON")
        command.add_argument(
            "--rounds",
            type=_positive,
            metavar="N",
            help="rounds per candidate, overriding the default (see bench/README.md)",
        )
        if name == "session":
            command.add_argument(
                "--redis-url",
                metavar="URL",
                help="measure the redis backend on this server instead of starting one",
            )
            command.add_argument(
                "--no-redis", action="store_true", help="leave out the redis backend"
            )
        if name == "streaming":
            command.add_argument(
                "--size", type=_positive, metavar="MIB", help="streamed body size (1024)"
            )
            command.add_argument(
                "--spec",
                action="append",
                metavar="SPEC",
                choices=STREAM_SPECS,
                help=f"spec to stream (repeatable; default {' and '.join(STREAM_SPECS)})",
            )
            command.add_argument(
                "--chunked",
                action="store_true",
                help="serve the body with chunked transfer coding, not Content-Length",
            )
            command.add_argument(
                "--skip-memory", action="store_true", help="leave out the 16 MiB memory part"
            )
            command.add_argument(
                "--skip-listing", action="store_true", help="leave out the listing part"
            )
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark named on the command line."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["_streaming-worker"]:  # internal: see streaming_worker
        return streaming_worker()
    args = parser().parse_args(arguments)
    run, _ = BENCHMARKS[args.benchmark]
    report = run(args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)
            file.write("\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
