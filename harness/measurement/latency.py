"""Write latency percentiles from the acknowledgment log: before the fault and after recovery."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from harness.measurement.acks import AckLog


@dataclass(frozen=True)
class Percentiles:
    """Latencies of acknowledged writes (milliseconds) and their acknowledged rate."""

    writes: int
    acked_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class WriterLatency:
    """The writer's latency before the incident struck and on the recovered server."""

    before_fault: Percentiles | None
    after_recovery: Percentiles | None


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0 < p <= 100) of sorted values."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def percentiles(latencies_s: Iterable[float], *, span_s: float) -> Percentiles | None:
    """Percentiles of ``latencies_s`` (seconds), None when there is none; ``span_s`` is the
    time over which they were issued (for the rate)."""
    ordered = sorted(latencies_s)
    if not ordered:
        return None

    def ms(p: float) -> float:
        return round(percentile(ordered, p) * 1000, 3)

    return Percentiles(
        writes=len(ordered),
        acked_per_s=round(len(ordered) / span_s, 1) if span_s > 0 else 0.0,
        p50_ms=ms(50),
        p95_ms=ms(95),
        p99_ms=ms(99),
        max_ms=round(ordered[-1] * 1000, 3),
    )


def writer_latency(
    log: AckLog,
    *,
    start_mono: float,
    fault_mono: float | None,
    recovered_mono: float | None,
    recovered_target: str | None,
    end_mono: float,
) -> WriterLatency:
    """Latencies of acknowledged writes issued from the writer's start to the fault (all of
    them when there was no incident), and of those sent to the recovered server once it was
    verified."""
    until = fault_mono if fault_mono is not None else end_mono
    before = percentiles(
        log.latencies(issued_from=start_mono, issued_to=until), span_s=until - start_mono
    )
    after = None
    if recovered_mono is not None and recovered_target is not None:
        after = percentiles(
            log.latencies(issued_from=recovered_mono, target=recovered_target),
            span_s=end_mono - recovered_mono,
        )
    return WriterLatency(before, after)
