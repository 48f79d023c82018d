"""The writer at load (issue 18, item 4): the highest sustained acknowledged rate with eight
clients on each engine, the harness's CPU share at 5000 writes/s, and the acknowledgment log's
memory at one million writes.

- Sustained rate: eight clients asked for far more than a server can take
  (``ASK_PER_S``) for ``WINDOW_S`` seconds after a warm-up; acknowledged writes per second over
  the window, with the latency percentiles.
- CPU share: the same clients asked for 5000 writes/s; the harness process's CPU time (every
  thread: ``time.process_time``) over the wall time of the window. The servers' CPU is not the
  harness's and is not counted.
- Memory: a million writes fed to the log directly (no database: the log's cost alone), with
  the file streamed to a temporary folder; the growth of the traced Python heap
  (``tracemalloc``) and of the resident set.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.engines import get_engine
from harness.engines.base import WRITES_TABLE, Engine
from harness.lab.docker_client import docker_client
from harness.lab.images import resolve_image
from harness.lab.lab import Lab
from harness.measurement.acks import AckLog
from harness.measurement.latency import percentiles
from harness.measurement.measure import WriteStatus
from harness.measurement.workload import Writer
from harness.runner import new_run_id
from harness.server.node import provision

ENGINES = ("postgres", "mariadb")
CLIENTS = 8
ASK_PER_S = 50_000.0
CPU_RATE_PER_S = 5000.0
WARMUP_S = 1.5
WINDOW_S = 5.0
LOG_WRITES = 1_000_000
RATE_TARGET_PER_S = 5000.0
MEMORY_TARGET_MB = 50.0


@dataclass(frozen=True)
class EngineWriter:
    """One engine's figures."""

    engine: str
    sustained_acked_per_s: float
    sustained_p50_ms: float
    sustained_p99_ms: float
    at_5000_acked_per_s: float
    at_5000_cpu_share_pct: float
    at_5000_p99_ms: float
    failed_or_unknown: int


@dataclass(frozen=True)
class WriterResult:
    """The writer section of the bench."""

    clients: int
    engines: list[EngineWriter]
    log_writes: int
    log_traced_mb: float
    log_rss_mb: float
    log_file_mb: float
    log_us_per_write: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def bench_writer() -> WriterResult:
    engines = [_engine(name) for name in ENGINES]
    traced, rss, file_mb, us = _log_memory(LOG_WRITES)
    return WriterResult(CLIENTS, engines, LOG_WRITES, traced, rss, file_mb, us)


@contextmanager
def _server(engine: Engine) -> Iterator[Any]:
    client = docker_client()
    image = resolve_image(
        client,
        engine=engine.name,
        requested=os.environ.get(f"RECOVERY_DRILL_{engine.name.upper()}_IMAGE"),
        default=engine.default_image,
        local_build=engine.local_image,
    ).name
    with Lab(new_run_id(), client=client) as lab:
        node = provision(lab, engine, image=image, name="writer-bench")
        conn = engine.connect(node.endpoint(lab, engine), timeout_s=10)
        try:
            engine.prepare(conn)
        finally:
            conn.close()
        yield node.endpoint(lab, engine)


def _engine(name: str) -> EngineWriter:
    engine = get_engine(name)
    with _server(engine) as endpoint:
        top = _run(engine, endpoint, ASK_PER_S)
        _empty_writes(engine, endpoint)  # each run numbers its writes from 1
        at = _run(engine, endpoint, CPU_RATE_PER_S)
    return EngineWriter(
        engine=name,
        sustained_acked_per_s=top["acked_per_s"],
        sustained_p50_ms=top["p50_ms"],
        sustained_p99_ms=top["p99_ms"],
        at_5000_acked_per_s=at["acked_per_s"],
        at_5000_cpu_share_pct=at["cpu_pct"],
        at_5000_p99_ms=at["p99_ms"],
        failed_or_unknown=int(top["bad"] + at["bad"]),
    )


def _empty_writes(engine: Engine, endpoint: Any) -> None:
    conn = engine.connect(endpoint, timeout_s=10)
    try:
        engine.run_sql(conn, [f"DELETE FROM {WRITES_TABLE}"])
    finally:
        conn.close()


def _run(engine: Engine, endpoint: Any, rate: float) -> dict[str, float]:
    """Eight clients at ``rate`` for a warm-up and a window; the window's figures."""
    log = AckLog()
    writer = Writer(engine, rate_per_s=rate, clients=CLIENTS, log=log)
    writer.retarget("bench", endpoint)
    writer.start()
    try:
        time.sleep(WARMUP_S)
        wall0, cpu0 = time.monotonic(), time.process_time()
        time.sleep(WINDOW_S)
        wall1, cpu1 = time.monotonic(), time.process_time()
    finally:
        writer.stop()
    window = percentiles(log.latencies(issued_from=wall0, issued_to=wall1), span_s=wall1 - wall0)
    counts = log.counts()
    return {
        "acked_per_s": window.acked_per_s if window else 0.0,
        "p50_ms": window.p50_ms if window else 0.0,
        "p99_ms": window.p99_ms if window else 0.0,
        "cpu_pct": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 1),
        "bad": counts["failed"] + counts["unknown"],  # unknown: in flight when stopped
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _log_memory(n: int) -> tuple[float, float, float, float]:
    """A million writes fed to the log (file streamed): traced heap and RSS growth (MB), the
    file's size (MB) and the log's cost per write (microseconds of CPU)."""
    with tempfile.TemporaryDirectory(prefix="rd-writer-bench-") as tmp:
        path = Path(tmp) / "acks.jsonl"
        rss0 = _rss_mb()
        log = AckLog(path)
        cpu0 = time.process_time()
        _feed(log, n)
        us = (time.process_time() - cpu0) / n * 1e6
        rss = _rss_mb() - rss0
        log.close()
        file_mb = path.stat().st_size / 2**20
        # The traced growth on a second log (tracemalloc slows the loop down, not the result).
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            traced_log = AckLog(Path(tmp) / "traced.jsonl")
            _feed(traced_log, n)
            traced = (tracemalloc.get_traced_memory()[0] - base) / 2**20
            traced_log.close()
        finally:
            tracemalloc.stop()
    return round(traced, 1), round(rss, 1), round(file_mb, 1), round(us, 2)


def _feed(log: AckLog, n: int) -> None:
    for i in range(n):
        seq, issued, wall = log.next_seq()
        log.add(
            seq,
            WriteStatus.OK,
            issued_mono=issued,
            done_mono=issued + 0.0008,
            issued_wall=wall,
            target="primary" if i < n // 2 else "restored-1",
        )


def render_writer(out: Console, r: WriterResult) -> None:
    """The writer's table, with the targets."""
    table = Table(title=f"writer: {r.clients} clients (targets: >= {RATE_TARGET_PER_S:g}/s)")
    for col in (
        "engine",
        "sustained acked/s",
        "p50 / p99 ms",
        "at 5000/s: acked/s",
        "harness CPU",
        "p99 ms",
    ):
        table.add_column(col)
    for e in r.engines:
        table.add_row(
            e.engine,
            f"{e.sustained_acked_per_s:.0f}"
            + (" (met)" if e.sustained_acked_per_s >= RATE_TARGET_PER_S else " (missed)"),
            f"{e.sustained_p50_ms:.2f} / {e.sustained_p99_ms:.2f}",
            f"{e.at_5000_acked_per_s:.0f}",
            f"{e.at_5000_cpu_share_pct:.1f}% of one core",
            f"{e.at_5000_p99_ms:.2f}",
        )
    out.print(table)
    out.print(
        f"acknowledgment log at {r.log_writes:,} writes: {r.log_traced_mb:.1f} MB traced heap, "
        f"{r.log_rss_mb:.1f} MB RSS growth (target <= {MEMORY_TARGET_MB:g} MB: "
        f"{'met' if max(r.log_traced_mb, r.log_rss_mb) <= MEMORY_TARGET_MB else 'missed'}); "
        f"file {r.log_file_mb:.1f} MB; {r.log_us_per_write:.1f} us of CPU per write logged"
    )


if __name__ == "__main__":
    import json
    import sys

    result = bench_writer()
    render_writer(Console(), result)
    json.dump(result.as_json(), sys.stdout, indent=2)
    print()
