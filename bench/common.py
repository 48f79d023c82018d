"""What every benchmark section shares: settings, dataset sizing, timing and small statistics."""

from __future__ import annotations

import math
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import harness.lab  # noqa: F401  (testcontainers on 127.0.0.1, no Ryuk, before it is imported)
from harness.dataset import DatasetSpec
from harness.errors import CommandTimeout, InfrastructureError

REPO = Path(__file__).resolve().parents[1]
# On-disk bytes per seeded row (heap + primary key), measured with pg_total_relation_size on
# PostgreSQL 15: used only to pick row counts; the reports give the sizes actually measured.
BYTES_PER_ROW = 99.2
# PostgreSQL connections of the harness carry statement_timeout=5s, which also bounds each
# table's COPY and fingerprint query: keep tables small enough to load in well under that.
MAX_ROWS_PER_TABLE = 400_000
MAX_TABLES = 50
PGBENCH_CANDIDATES = ("pgbench", "/usr/lib/postgresql/15/bin/pgbench")


@dataclass(frozen=True)
class Settings:
    """What a benchmark run does, from the environment (all optional)."""

    sizes_mb: tuple[int, ...]
    seed_mb: int
    restore_mb: int
    repeats: int
    out: Path
    calibration: bool

    @classmethod
    def from_env(cls) -> Settings:
        sizes = os.environ.get("BENCH_SIZES", "10,100,1000")
        return cls(
            sizes_mb=tuple(parse_mb(s) for s in sizes.split(",") if s.strip()),
            seed_mb=int(os.environ.get("BENCH_SEED_MB", "100")),
            restore_mb=int(os.environ.get("BENCH_RESTORE_MB", "100")),
            repeats=int(os.environ.get("BENCH_REPEATS", "3")),
            out=Path(os.environ.get("BENCH_OUT", str(REPO / "reports" / "bench.json"))),
            calibration=os.environ.get("BENCH_CALIBRATION", "1") != "0",
        )


def parse_mb(text: str) -> int:
    """A size in MB from ``100``, ``100M``, ``1G`` or ``10G`` (decimal: 1G = 1000 MB)."""
    value = text.strip().upper().removesuffix("B")
    if value.endswith("G"):
        return round(float(value[:-1]) * 1000)
    return round(float(value.removesuffix("M")))


def dataset_for(size_mb: float, *, seed: int = 42) -> DatasetSpec:
    """A dataset of about ``size_mb`` MB on disk, in tables of at most MAX_ROWS_PER_TABLE rows."""
    rows = max(1, round(size_mb * 1e6 / BYTES_PER_ROW))
    # At most MAX_TABLES tables (the scenario's limit): a 10 GB drill has bigger tables.
    tables = min(MAX_TABLES, max(1, math.ceil(rows / MAX_ROWS_PER_TABLE)))
    return DatasetSpec(tables=tables, rows_per_table=math.ceil(rows / tables), seed=seed)


def pgbench_path() -> str:
    """The pgbench binary (PostgreSQL 15 client tools)."""
    for candidate in PGBENCH_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise InfrastructureError(
        f"pgbench not found (tried {', '.join(PGBENCH_CANDIDATES)}); "
        "install postgresql-client-15 or the postgresql-15 package"
    )


@dataclass(frozen=True)
class CommandResult:
    """One finished host command."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float


def run(
    argv: Sequence[str], *, timeout_s: float, env: dict[str, str] | None = None
) -> CommandResult:
    """Run a host command with a deadline; its failure is the caller's to judge."""
    started = time.monotonic()
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=None if env is None else {**os.environ, **env},
            cwd=REPO,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stderr or exc.stdout or b""
        tail = out.decode(errors="replace") if isinstance(out, bytes) else out
        raise CommandTimeout(
            f"`{' '.join(argv)[:200]}`", timeout_s=timeout_s, last_output=tail[-400:]
        ) from exc
    return CommandResult(
        tuple(argv), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started
    )


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as took:`` leaves the elapsed monotonic seconds in ``took[0]``."""
    took: list[float] = []
    started = time.monotonic()
    try:
        yield took
    finally:
        took.append(time.monotonic() - started)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


@dataclass(frozen=True)
class LinearFit:
    """y = intercept + slope * x, and how well that describes the points."""

    slope: float
    intercept: float
    r_squared: float


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> LinearFit | None:
    """Least squares through the points (None with fewer than two distinct x)."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return None
    fit = statistics.linear_regression(xs, ys)
    mean_y = statistics.fmean(ys)
    total = sum((y - mean_y) ** 2 for y in ys)
    residual = sum((y - (fit.intercept + fit.slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return LinearFit(fit.slope, fit.intercept, 1.0 - residual / total if total else 1.0)
