"""``python -m bench``: run every section, print the tables, write the JSON.

Environment (all optional): BENCH_SIZES (drill sizes, MB or with a G suffix, default
10,100,1000; ``BENCH_SIZES=10G`` runs a 10 GB drill), BENCH_DISK (0 to skip the dd figures),
BENCH_SEED_MB and BENCH_RESTORE_MB (default 100), BENCH_REPEATS (default 3), BENCH_CALIBRATION
(0 to skip), BENCH_PARALLEL_MB (default 1000; 0 skips the parallel restore) and
BENCH_PARALLEL_MARIADB_MB (default 200), BENCH_OUT (default reports/bench.json), BENCH_VERBOSE (1
for progress logs), BENCH_WRITER (0 to skip the writer section).

Exit codes: 0 every section ran (whether or not the targets were met: the table says);
3 a section failed (its error is in the JSON and on stderr).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console

from bench.calibration import bench_calibration
from bench.common import REPO, Settings
from bench.disk import bench_disk
from bench.drills import DrillFigures, growth, run_child
from bench.lab import foreign_containers
from bench.parallel import bench_parallel_restore
from bench.report import Results, as_json, render, write_json
from bench.restore import bench_restore
from bench.seeding import bench_seeding, bench_seeding_mariadb
from bench.writer import bench_writer, render_writer

T = TypeVar("T")
EXIT_OK, EXIT_INFRA = 0, 3

log = logging.getLogger("bench")


def main() -> int:
    settings = Settings.from_env()
    verbose = os.environ.get("BENCH_VERBOSE", "0") != "0"
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("testcontainers", "docker", "urllib3", "harness"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    out = Console(width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True)
    started = time.monotonic()
    meta: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg()[0],
        "settings": {k: str(v) for k, v in vars(settings).items()},
        "foreign_containers": [],
        "errors": [],
    }
    runs_dir = REPO / "reports" / "bench-runs"
    results = Results()

    def section(name: str, work: Callable[[], T]) -> T | None:
        meta["foreign_containers"].append(foreign_containers(set()))
        err.print(f"[bold]bench[/]: {name} ...")
        since = time.monotonic()
        try:
            value = work()
        except Exception as exc:  # one failed section must not lose the others' figures
            message = f"{name}: {type(exc).__name__}: {str(exc).strip()[:500]}"
            meta["errors"].append(message)
            err.print(f"[red]bench[/]: {message}", markup=True, highlight=False)
            return None
        err.print(f"[bold]bench[/]: {name} done in {time.monotonic() - since:.0f} s")
        return value

    if settings.calibration:
        results.calibration = section(
            "calibration drills", lambda: bench_calibration(out_dir=runs_dir)
        )
    if os.environ.get("BENCH_DISK", "1") != "0":
        results.disk = section("disk throughput (dd, O_DIRECT)", bench_disk)
    results.seeding = section(
        f"seeding, harness vs pgbench -i, {settings.seed_mb} MB",
        lambda: bench_seeding(size_mb=settings.seed_mb, repeats=settings.repeats),
    )
    results.seeding_mariadb = section(
        f"seeding on MariaDB, harness vs LOAD DATA by hand, {settings.seed_mb} MB",
        lambda: bench_seeding_mariadb(size_mb=settings.seed_mb, repeats=settings.repeats),
    )
    results.restore = section(
        f"restore, harness vs by hand, {settings.restore_mb} MB",
        lambda: bench_restore(size_mb=settings.restore_mb, repeats=settings.repeats),
    )
    parallel_mb = int(os.environ.get("BENCH_PARALLEL_MB", "1000"))
    if parallel_mb > 0:
        results.parallel = section(
            f"parallel restore vs single stream, {parallel_mb} MB",
            lambda: bench_parallel_restore(size_mb=parallel_mb),
        )
    parallel_mariadb_mb = int(os.environ.get("BENCH_PARALLEL_MARIADB_MB", "200"))
    if parallel_mariadb_mb > 0:
        results.parallel_mariadb = section(
            f"parallel restore vs single stream on MariaDB, {parallel_mariadb_mb} MB",
            lambda: bench_parallel_restore(size_mb=parallel_mariadb_mb, engine_name="mariadb"),
        )
    drills: list[DrillFigures] = []
    for size in settings.sizes_mb:
        drill = section(f"drill at {size} MB", functools.partial(run_child, size, out_dir=runs_dir))
        if drill is not None:
            drills.append(drill)
    results.drills = drills
    results.growth = growth(drills) if drills else None
    writer = None
    if os.environ.get("BENCH_WRITER", "1") != "0":
        writer = section("writer at load, 8 clients, both engines", bench_writer)
        if writer is not None:
            meta["writer"] = writer.as_json()

    meta["foreign_containers"].append(foreign_containers(set()))
    meta["loadavg_end"] = os.getloadavg()[0]
    meta["runtime_s"] = round(time.monotonic() - started, 1)
    render(out, results, meta)
    if writer is not None:
        render_writer(out, writer)
    write_json(settings.out, as_json(results, meta))
    out.print(f"written: {settings.out}")
    return EXIT_INFRA if meta["errors"] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
