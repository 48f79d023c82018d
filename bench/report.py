"""The benchmark's verdict on each target, its tables (rich) and its JSON file."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.calibration import CalibrationResult
from bench.common import median
from bench.disk import DiskResult
from bench.drills import PHASES, DrillFigures, Growth
from bench.parallel import ParallelResult
from bench.restore import RestoreResult
from bench.seeding import MariaDBSeedingResult, SeedingResult

OVERHEAD_MAX_PCT = 5.0
SEED_RATIO_MIN = 1.0
RESTORE_RATIO_MAX = 1.05
RTO_ERROR_MAX_MS = 100.0
MEMORY_MAX_MB = 200.0
LINEAR_R2_MIN = 0.99
BIG_MB = 1000


@dataclass(frozen=True)
class Target:
    """One target of the issue, and where it stands (met None: not measured in this run)."""

    name: str
    goal: str
    measured: str
    met: bool | None


@dataclass
class Results:
    """Everything one benchmark run measured."""

    disk: DiskResult | None = None
    seeding: SeedingResult | None = None
    seeding_mariadb: MariaDBSeedingResult | None = None
    restore: RestoreResult | None = None
    drills: list[DrillFigures] | None = None
    growth: Growth | None = None
    calibration: CalibrationResult | None = None
    parallel: ParallelResult | None = None
    parallel_mariadb: ParallelResult | None = None


def _big_drill(drills: list[DrillFigures] | None) -> DrillFigures | None:
    done = [d for d in drills or [] if d.verdict == "pass" and d.target_mb >= BIG_MB]
    return max(done, key=lambda d: d.actual_mb, default=None)


def targets(r: Results) -> list[Target]:
    """The issue's six targets against this run's figures."""
    out: list[Target] = []
    big = _big_drill(r.drills)
    out.append(
        Target(
            "harness overhead",
            f"<= {OVERHEAD_MAX_PCT:g}% of a 1 GB drill's wall time",
            f"{big.overhead_pct:.1f}% ({big.overhead_s:.1f} of {big.wall_s:.1f} s at "
            f"{big.actual_mb:.0f} MB; data verification {big.verification_s:.1f} s, the rest "
            f"{big.overhead_s - big.verification_s:.1f} s = "
            f"{100 * (big.overhead_s - big.verification_s) / big.wall_s:.1f}%)"
            if big
            else "1 GB drill not run",
            big.overhead_pct <= OVERHEAD_MAX_PCT if big else None,
        )
    )
    s = r.seeding
    out.append(
        Target(
            "seeding throughput",
            f">= {SEED_RATIO_MIN:g}x pgbench -i",
            f"{s.ratio:.2f}x ({s.median_mb_per_s('harness'):.1f} vs "
            f"{s.median_mb_per_s('pgbench'):.1f} MB/s)"
            if s
            else "not run",
            s.ratio >= SEED_RATIO_MIN if s else None,
        )
    )
    m = r.seeding_mariadb
    out.append(
        Target(
            "seeding on MariaDB",
            f">= {SEED_RATIO_MIN:g}x LOAD DATA INFILE of the same rows by hand",
            f"{m.ratio:.2f}x ({median(m.harness_s):.2f} vs {median(m.load_data_s):.2f} s for "
            f"{m.size_bytes / 1e6:.0f} MB)"
            if m
            else "not run",
            m.ratio >= SEED_RATIO_MIN if m else None,
        )
    )
    x = r.restore
    out.append(
        Target(
            "restore, harness vs by hand",
            f"<= {RESTORE_RATIO_MAX:g}x",
            f"{x.ratio:.3f}x ({median(x.harness_s):.2f} vs {median(x.by_hand_s):.2f} s)"
            if x
            else "not run",
            x.ratio <= RESTORE_RATIO_MAX if x else None,
        )
    )
    c = r.calibration
    err = c.rto_error_ms if c else None
    out.append(
        Target(
            "RTO error",
            f"<= {RTO_ERROR_MAX_MS:g} ms",
            f"{err:+.1f} ms ({c.rto_s} s measured, {c.outage_s:.3f} s frozen)"
            if c and err is not None and c.outage_s is not None
            else "not measured",
            abs(err) <= RTO_ERROR_MAX_MS if err is not None else None,
        )
    )
    out.append(
        Target(
            "lost-write counts",
            "exact",
            ", ".join(
                f"{name}: {c.lost[name]} lost / {k} deleted, {c.holes[name]} holes"
                for name, k in c.deleted.items()
            )
            if c and c.deleted
            else "not measured",
            c.lost_exact if c and c.deleted else None,
        )
    )
    out.append(
        Target(
            "harness memory",
            f"< {MEMORY_MAX_MB:g} MB at 1 GB",
            f"{big.rss_peak_mb:.0f} MB peak RSS ({big.rss_baseline_mb:.0f} MB after imports, "
            f"+{big.rss_drill_growth_mb:.1f} MB while the drill ran)"
            if big
            else "1 GB drill not run",
            big.rss_peak_mb < MEMORY_MAX_MB if big else None,
        )
    )
    g = r.growth
    fit = g.total if g else None
    sizes = len([d for d in r.drills or [] if d.verdict == "pass"])
    out.append(
        Target(
            "cost linear in size",
            f"wall time vs MB: R^2 >= {LINEAR_R2_MIN:g} over >= 3 sizes",
            f"R^2 {fit.r_squared:.4f}, {fit.slope * 1000:.1f} ms/MB + {fit.intercept:.1f} s "
            f"({sizes} sizes)"
            if fit
            else "fewer than 2 sizes",
            fit.r_squared >= LINEAR_R2_MIN and sizes >= 3 if fit else None,
        )
    )
    return out


def _yes(met: bool | None) -> str:
    return {True: "[green]met[/]", False: "[red]not met[/]", None: "[yellow]n/a[/]"}[met]


def render(console: Console, r: Results, meta: dict[str, Any]) -> None:
    """Print every table of the run."""
    if r.disk:
        dd = r.disk
        t = Table(title=f"This disk (dd, {dd.size_mb} MB, O_DIRECT): the physical limit")
        for col in ("direction", "s", "MB/s"):
            t.add_column(col, justify="right" if col != "direction" else "left")
        t.add_row("write (+fsync)", f"{dd.write_s:.2f}", f"{dd.write_mb_per_s:.0f}")
        t.add_row("read", f"{dd.read_s:.2f}", f"{dd.read_mb_per_s:.0f}")
        console.print(t)
    if r.seeding:
        s = r.seeding
        t = Table(title=f"Seeding, about {s.target_mb} MB (median of {len(s.harness)})")
        for col in ("loader", "MB on disk", "s", "MB/s", "vs pgbench -i"):
            t.add_column(col, justify="right" if col != "loader" else "left")
        pg_rate = s.median_mb_per_s("pgbench")
        for tool, label in (
            ("pgbench", f"pgbench -i -s {s.pgbench_scale}"),
            ("harness", "harness seeding.load (COPY FREEZE)"),
            ("harness_insert", "harness, INSERT ... SELECT (before)"),
        ):
            loads = s.loads(tool)
            if not loads:
                continue
            secs = sorted(x.duration_s for x in loads)[len(loads) // 2]
            rate = s.median_mb_per_s(tool)
            t.add_row(
                label,
                f"{s.median_mb(tool):.1f}",
                f"{secs:.2f}",
                f"{rate:.1f}",
                f"{rate / pg_rate:.2f}x",
            )
        load_s = sorted(x.duration_s for x in s.harness)[len(s.harness) // 2]
        t.add_row(
            "harness seed phase (load + verify)",
            f"{s.median_mb('harness'):.1f}",
            f"{load_s + s.verify_s:.2f}",
            f"{s.phase_mb_per_s:.1f}",
            f"{s.phase_mb_per_s / pg_rate:.2f}x",
        )
        t.add_row("harness reference fingerprints (after COPY)", "", f"{s.verify_s:.2f}", "", "")
        if s.verify_insert_s is not None:
            t.add_row(
                "harness reference fingerprints (after INSERT)",
                "",
                f"{s.verify_insert_s:.2f}",
                "",
                "",
            )
        console.print(t)
    if r.seeding_mariadb:
        m = r.seeding_mariadb
        t = Table(
            title=f"Seeding on MariaDB, {m.size_bytes / 1e6:.0f} MB in {m.tables} tables "
            f"(median of {len(m.harness_s)})"
        )
        for col in ("loader", "s", "MB/s", "vs LOAD DATA"):
            t.add_column(col, justify="right" if col != "loader" else "left")
        for label, secs in (
            ("by hand: LOAD DATA INFILE, file on the server", median(m.load_data_s)),
            ("harness: INSERT ... SELECT, tables in parallel", median(m.harness_s)),
        ):
            t.add_row(
                label,
                f"{secs:.2f}",
                f"{m.size_bytes / 1e6 / secs:.1f}",
                f"{median(m.load_data_s) / secs:.2f}x",
            )
        t.add_row("harness reference fingerprints (server)", f"{m.verify_s:.2f}", "", "")
        console.print(t)
    if r.restore:
        x = r.restore
        t = Table(
            title=f"Restore of one {x.dump_bytes / 1e6:.0f} MB dump ({x.source_bytes / 1e6:.0f} MB "
            f"of tables), median of {len(x.harness_s)}"
        )
        for col in ("path", "s", "vs by hand"):
            t.add_column(col, justify="right" if col != "path" else "left")
        hand = sorted(x.by_hand_s)[len(x.by_hand_s) // 2]
        harness = sorted(x.harness_s)[len(x.harness_s) // 2]
        t.add_row("by hand: docker exec <pipeline>", f"{hand:.2f}", "1.00x")
        t.add_row("harness: agent.run + verified probe", f"{harness:.2f}", f"{x.ratio:.3f}x")
        check = sorted(x.checksum_s)[len(x.checksum_s) // 2]
        start = sorted(x.server_start_s)[len(x.server_start_s) // 2]
        t.add_row("  recovery also: sha256 re-check", f"{check:.2f}", "")
        t.add_row("  recovery also: fresh server start", f"{start:.2f}", "")
        console.print(t)
    for p in (r.parallel, r.parallel_mariadb):
        if p is None:
            continue
        t = Table(
            title=f"Parallel logical restore on {p.engine}, {p.source_bytes / 1e6:.0f} MB of "
            f"tables, {p.jobs} jobs (the tool's own run, one each)"
        )
        for col in ("path", "dump s", "dump MB", "restore s", "vs single stream"):
            t.add_column(col, justify="right" if col != "path" else "left")
        for how in ("single", "parallel"):
            t.add_row(
                how if how == "single" else f"parallel, {p.jobs} jobs",
                f"{p.dump_s[how]:.2f}",
                f"{p.dump_bytes[how] / 1e6:.0f}",
                f"{p.restore_s[how]:.2f}",
                f"{p.restore_s['single'] / p.restore_s[how]:.2f}x",
            )
        console.print(t)
    if r.drills:
        t = Table(title="Drill wall time by phase (s), one process per size")
        t.add_column("size", justify="right")
        t.add_column("MB", justify="right")
        for phase in PHASES:
            t.add_column(phase.replace("container_start", "start"), justify="right")
        for col in ("total", "tools", "overhead", "peak RSS MB", "RSS growth MB"):
            t.add_column(col, justify="right")
        for d in r.drills:
            if d.verdict != "pass":
                t.add_row(f"{d.target_mb} MB", "", f"[red]{d.verdict}[/]: {d.error[:80]}")
                continue
            t.add_row(
                f"{d.target_mb} MB",
                f"{d.actual_mb:.0f}",
                *(f"{d.phases_s[p]:.1f}" for p in PHASES),
                f"{d.wall_s:.1f}",
                f"{sum(d.tools_s.values()):.1f}",
                f"{d.overhead_s:.1f} ({d.overhead_pct:.0f}%)",
                f"{d.rss_peak_mb:.0f}",
                f"{d.rss_drill_growth_mb:+.1f}",
            )
        console.print(t)
        t = Table(title="Harness overhead, by what the harness spends it on (s)")
        t.add_column("size", justify="right")
        for col in (
            "reference fp (Python, now none)",
            "fingerprints (SQL)",
            "sha256",
            "probes+rest",
            "overhead",
        ):
            t.add_column(col, justify="right")
        for d in r.drills:
            if d.verdict != "pass":
                continue
            w = d.harness_work_s
            named = w["fingerprint_reference"] + w["fingerprint_sql"] + w["checksum"]
            t.add_row(
                f"{d.target_mb} MB",
                f"{w['fingerprint_reference']:.1f}",
                f"{w['fingerprint_sql']:.1f}",
                f"{w['checksum']:.1f}",
                f"{d.overhead_s - named:.1f}",
                f"{d.overhead_s:.1f}",
            )
        console.print(t)
    if r.growth and r.growth.total:
        g = r.growth
        t = Table(title="Growth with data size (least squares over the sizes run)")
        for col in ("series", "s per MB", "fixed s", "R^2"):
            t.add_column(col, justify="right" if col != "series" else "left")
        for label, fit in (("total", g.total), ("tools", g.tools), ("overhead", g.overhead)):
            if fit:
                t.add_row(label, f"{fit.slope:.4f}", f"{fit.intercept:.1f}", f"{fit.r_squared:.4f}")
        console.print(t)
    t = Table(title="Targets")
    for col in ("target", "goal", "measured", "status"):
        t.add_column(col)
    for target in targets(r):
        t.add_row(target.name, target.goal, target.measured, _yes(target.met))
    console.print(t)
    notes = [
        f"{meta['cpus']} CPUs",
        f"load {meta['loadavg_start']:.2f} -> {meta['loadavg_end']:.2f}",
    ]
    foreign = max(meta.get("foreign_containers", [0]) or [0])
    if foreign:
        notes.append(
            f"[yellow]other drills were running on this engine (up to {foreign} containers)[/]"
        )
    notes.append(f"bench took {meta['runtime_s']:.0f} s")
    console.print("; ".join(notes))


def as_json(r: Results, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        **meta,
        "disk": r.disk.as_dict() if r.disk else None,
        "seeding": r.seeding.as_dict() if r.seeding else None,
        "seeding_mariadb": r.seeding_mariadb.as_dict() if r.seeding_mariadb else None,
        "restore": r.restore.as_dict() if r.restore else None,
        "drills": [d.as_dict() for d in r.drills or []],
        "growth": r.growth.as_dict() if r.growth else None,
        "calibration": r.calibration.as_dict() if r.calibration else None,
        "parallel_restore": r.parallel.as_dict() if r.parallel else None,
        "parallel_restore_mariadb": r.parallel_mariadb.as_dict() if r.parallel_mariadb else None,
        "targets": [asdict(t) for t in targets(r)],
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a temporary file beside the target, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
