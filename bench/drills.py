"""A whole drill's wall time by phase at several sizes, each size in a process of its own.

Phases come from the journal: container start, seed (load and its verification), backup (the
dump), fault (until the outage is detected), restore (backup re-checked, a fresh server, the
restore pipeline), verify (the verified read and write, then counting writes and fingerprinting
the recovered tables); ``other`` is what the journal leaves unaccounted (lab set-up and
removal, backup verification after the dump, journal writing).

Harness overhead is the drill's wall time minus the time spent in the tools it drives, as the
child's stopwatches saw them: container starts and removal (Docker), the data load, pg_dump
and pg_restore. Everything else is the harness's own work: its checks (fingerprints, sha256
of the backup, probes), polling, the writer, and bookkeeping.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.child import RESULT_PREFIX
from bench.common import LinearFit, linear_fit, run

log = logging.getLogger(__name__)

PHASES = ("container_start", "seed", "backup", "fault", "restore", "verify", "other")
TOOLS = ("container_start", "lab_teardown", "seed_load", "dump", "restore")
HARNESS_WORK = ("fingerprint_reference", "fingerprint_sql", "checksum", "measure_seqs")
CHILD_TIMEOUT_S = 1800


@dataclass(frozen=True)
class DrillFigures:
    """One size's drill, reduced to what the tables show."""

    target_mb: int
    actual_mb: float
    verdict: str
    error: str
    wall_s: float
    phases_s: dict[str, float]
    tools_s: dict[str, float]
    harness_work_s: dict[str, float]
    rss_baseline_mb: float
    rss_peak_mb: float
    rss_drill_growth_mb: float
    run_id: str
    raw: dict[str, Any] = field(repr=False)

    @property
    def overhead_s(self) -> float:
        return self.wall_s - sum(self.tools_s.values())

    @property
    def overhead_pct(self) -> float:
        return 100 * self.overhead_s / self.wall_s

    @property
    def verification_s(self) -> float:
        """Overhead spent proving the data right: fingerprints in SQL and their reference."""
        w = self.harness_work_s
        return w["fingerprint_reference"] + w["fingerprint_sql"] + w["measure_seqs"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_mb": self.target_mb,
            "actual_mb": round(self.actual_mb, 1),
            "verdict": self.verdict,
            "error": self.error,
            "wall_s": self.wall_s,
            "phases_s": self.phases_s,
            "tools_s": self.tools_s,
            "tools_total_s": round(sum(self.tools_s.values()), 3),
            "overhead_s": round(self.overhead_s, 3),
            "overhead_pct": round(self.overhead_pct, 2),
            "verification_s": round(self.verification_s, 3),
            "harness_work_s": self.harness_work_s,
            "rss_baseline_mb": self.rss_baseline_mb,
            "rss_peak_mb": self.rss_peak_mb,
            "rss_drill_growth_mb": self.rss_drill_growth_mb,
            "run_id": self.run_id,
            "child": self.raw,
        }


def figures(raw: dict[str, Any]) -> DrillFigures:
    """Phases, tool time and harness work of one child's report."""
    timings, phases = raw["timings"], raw["phases"]
    backups = raw["backups"]
    watches = {k: v["total_s"] for k, v in raw["stopwatches"].items()}

    def got(value: float | None) -> float:
        return float(value or 0.0)

    phase_s = {
        "container_start": got(timings.get("containers_start_s")),
        "seed": got(timings.get("seed_s")),
        "backup": sum(got(b["duration_s"]) for b in backups),
        "fault": got(phases.get("detect_s")),
        "restore": got(phases.get("restore_s")),
        "verify": got(phases.get("verify_s")) + got(timings.get("measure_s")),
    }
    phase_s["other"] = raw["wall_s"] - sum(phase_s.values())
    actual = backups[0]["source_bytes"] / 1e6 if backups else 0.0
    return DrillFigures(
        target_mb=raw["target_mb"],
        actual_mb=actual,
        verdict=raw["verdict"],
        error=raw["error"],
        wall_s=raw["wall_s"],
        phases_s={k: round(v, 3) for k, v in phase_s.items()},
        tools_s={k: round(watches.get(k, 0.0), 3) for k in TOOLS},
        harness_work_s={k: round(watches.get(k, 0.0), 3) for k in HARNESS_WORK},
        rss_baseline_mb=raw["rss_baseline_mb"],
        rss_peak_mb=raw["rss_peak_mb"],
        rss_drill_growth_mb=round(raw["rss_max_during_drill_mb"] - raw["rss_before_drill_mb"], 1),
        run_id=raw["run_id"],
        raw=raw,
    )


def run_child(size_mb: int, *, out_dir: Path) -> DrillFigures:
    """One drill of about ``size_mb`` MB in a fresh interpreter."""
    argv = [sys.executable, "-m", "bench.child", "--mb", str(size_mb), "--out", str(out_dir)]
    result = run(argv, timeout_s=CHILD_TIMEOUT_S)
    lines = [x for x in result.stdout.splitlines() if x.startswith(RESULT_PREFIX)]
    if result.exit_code != 0 or not lines:
        raise RuntimeError(
            f"bench child for {size_mb} MB exited {result.exit_code}: {result.stderr[-800:]}"
        )
    raw = json.loads(lines[-1][len(RESULT_PREFIX) :])
    drill = figures(raw)
    log.info("drill %d MB: %s in %.1f s", size_mb, drill.verdict, drill.wall_s)
    return drill


@dataclass(frozen=True)
class Growth:
    """How wall time (and its parts) grow with the data size."""

    total: LinearFit | None
    tools: LinearFit | None
    overhead: LinearFit | None
    seconds_per_mb_between: list[tuple[float, float, float]]

    def as_dict(self) -> dict[str, Any]:
        def fit(f: LinearFit | None) -> dict[str, float] | None:
            if f is None:
                return None
            return {
                "slope_s_per_mb": round(f.slope, 5),
                "intercept_s": round(f.intercept, 3),
                "r_squared": round(f.r_squared, 5),
            }

        return {
            "total": fit(self.total),
            "tools": fit(self.tools),
            "overhead": fit(self.overhead),
            "marginal_s_per_mb": [
                {"from_mb": round(a, 1), "to_mb": round(b, 1), "s_per_mb": round(s, 5)}
                for a, b, s in self.seconds_per_mb_between
            ],
        }


def growth(drills: list[DrillFigures]) -> Growth:
    """Least-squares lines through (MB, seconds), and the marginal cost between sizes."""
    ok = sorted((d for d in drills if d.verdict == "pass"), key=lambda d: d.actual_mb)
    xs = [d.actual_mb for d in ok]
    marginal = [
        (a.actual_mb, b.actual_mb, (b.wall_s - a.wall_s) / (b.actual_mb - a.actual_mb))
        for a, b in itertools.pairwise(ok)
        if b.actual_mb > a.actual_mb
    ]
    return Growth(
        total=linear_fit(xs, [d.wall_s for d in ok]),
        tools=linear_fit(xs, [sum(d.tools_s.values()) for d in ok]),
        overhead=linear_fit(xs, [d.overhead_s for d in ok]),
        seconds_per_mb_between=marginal,
    )
