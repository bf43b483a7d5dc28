"""vaultcache benchmarks: ``python bench/bench.py <benchmark> [options]``.

Benchmarks:

- ``serializers``: dumps/loads throughput of vaultcache pipelines against hand-written
  baselines built from the same libraries, plus peak memory of Fernet and AES-GCM.

Timing method, shared by every benchmark: each candidate is timed in batches of calls with
``time.perf_counter_ns`` (the garbage collector paused during a batch), the batch size chosen
so one batch lasts about a set time (a benchmark's ``Plan``); candidates take turns batch by
batch (round-robin, the starting candidate rotating every round) so that drift in machine load
hits them all alike. A candidate's figure is the median over rounds of its time per call, with the
interquartile range; a ratio between two candidates is the median of their per-round ratios.

Only the standard library and vaultcache's own dependencies are used, so the script runs
wherever vaultcache is installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
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


def environment(started: dt.datetime) -> dict[str, Any]:
    """What the figures depend on: start time, interpreter, library versions, CPUs, load."""
    packages = ("vaultcache", "cryptography", "zstandard", "msgpack", "itsdangerous", "cattrs")
    info: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "versions": {name: version(name) for name in packages},
    }
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


def print_serializers(report: dict[str, Any]) -> None:
    """The human-readable tables."""
    env = report["environment"]
    versions = ", ".join(f"{name} {ver}" for name, ver in env["versions"].items())
    print(f"vaultcache serializers benchmark, started {env['date']}")
    print(f"Python {env['python']} on {env['machine']}, {env['cpus']} CPUs; {versions}")
    if "git" in env:
        edited = " (+changes: files under vaultcache/ differ from it)" if "+" in env["git"] else ""
        print(f"vaultcache checkout: commit {env['git']}{edited}")
    if "load_average" in env:
        print(f"load average at the end of the run: {env['load_average']}")
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


# -- command line ------------------------------------------------------------------------------

BENCHMARKS: dict[str, tuple[Callable[[argparse.Namespace], dict[str, Any]], str]] = {
    "serializers": (run_serializers, "pipeline dumps/loads throughput and cipher memory"),
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
            "--quick", action="store_true", help="short run for CI smoke tests (under ~20 s)"
        )
        command.add_argument("--json", metavar="PATH", help="also write the results as JSON")
        command.add_argument(
            "--rounds",
            type=_positive,
            metavar="N",
            help="rounds per candidate, overriding the default (see bench/README.md)",
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
