"""vaultcache benchmarks: ``python bench/bench.py <benchmark> [options]``.

Benchmarks:

- ``serializers``: dumps/loads throughput of vaultcache pipelines against hand-written
  baselines built from the same libraries, plus peak memory of Fernet and AES-GCM.
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
from typing import Any

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
    count = len(candidates)
    for round_number in range(plan.rounds):
        start = round_number % count
        for candidate in [*candidates[start:], *candidates[:start]]:
            candidate.samples.append(_time_batch(candidate.run, candidate.batch))


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
            dumps, loads = codec.dumps, codec.loads
            candidates[codec.label, "dumps"] = Candidate(
                codec.label, lambda f=dumps, v=value: f(v), size
            )
            candidates[codec.label, "loads"] = Candidate(
                codec.label, lambda f=loads, t=token: f(t), size
            )
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
VAULTCACHE_SPECS = ("msgpack", "zstd", "signed+zstd+fernet", "signed+zstd+aesgcm")
VAULTCACHE_BACKENDS = ("sqlite", "filesystem")
#: vaultcache specs whose peak memory of one large hit is measured, on sqlite.
MEMORY_SPECS = ("signed+zstd+aesgcm", "signed+zstd+fernet")
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

    A server started here listens on a free port of 127.0.0.1, keeps nothing on disk
    (``--save "" --appendonly no``) and is stopped on exit.
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
    import socket

    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="vaultcache-bench-redis-") as folder:
        arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        process = subprocess.Popen(
            [binary, *arguments, "no", "--dir", folder, "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(host="127.0.0.1", port=port)
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(redis.exceptions.ConnectionError):
                    if client.ping():
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("session: the redis-server started for the benchmark failed")
                time.sleep(0.02)
            client.close()
            _progress(f"session: started redis-server on 127.0.0.1:{port}")
            yield f"redis://127.0.0.1:{port}/0"
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


# -- command line ------------------------------------------------------------------------------

BENCHMARKS: dict[str, tuple[Callable[[argparse.Namespace], dict[str, Any]], str]] = {
    "serializers": (run_serializers, "pipeline dumps/loads throughput and cipher memory"),
    "session": (run_session, "end-to-end hit/miss latency, disk and memory vs requests-cache"),
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
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark named on the command line."""
    args = parser().parse_args(argv)
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
