"""What a report says, computed once from the history; every renderer formats this model.

The report covers the runs recorded in a period. Drills (a scenario, or one strategy of a
scenario that compares several, on an engine) are shown in
detail for the focus runs (by default the latest run of each drill in the period); trends
aggregate every run of each drill in the period with pandas.

Honesty rules the renderers rely on: a drill that measured nothing (inconclusive, error) has
its objectives "not measured", never "met" or "missed"; lost data is always shown next to what
was acknowledged; figures carry their units.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.report.history.store import Procedure, StoredRun

VERDICTS = ("pass", "fail", "inconclusive", "error", "unrecoverable")


@dataclass(frozen=True)
class TrendPoint:
    """One run of a drill on the trend chart."""

    run_id: str
    started_at: str
    verdict: str | None
    rto_s: float | None
    rpo_s: float | None
    lost_writes: float | None
    rto_objective_s: float | None
    rpo_objective_s: float | None
    objectives_met: bool | None


@dataclass(frozen=True)
class Trend:
    """Every run of one drill (scenario or scenario / strategy, on engine) in the period."""

    drill: str
    engine: str
    runs: int
    verdicts: dict[str, int]
    measured: int
    objectives_met: int
    median_rto_s: float | None
    worst_rto_s: float | None
    median_rpo_s: float | None
    worst_rpo_s: float | None
    lost_writes_total: int
    last_started_at: str
    points: tuple[TrendPoint, ...]

    @property
    def key(self) -> str:
        return f"{self.drill} on {self.engine}"


@dataclass(frozen=True)
class Report:
    """Everything a report shows."""

    title: str
    generated_at: str
    history: str
    since: str | None
    runs: tuple[StoredRun, ...]
    focus: tuple[StoredRun, ...]
    trends: tuple[Trend, ...]
    procedures: tuple[Procedure, ...] = ()
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def first_at(self) -> str | None:
        return self.runs[0].started_at if self.runs else None

    @property
    def last_at(self) -> str | None:
        return self.runs[-1].started_at if self.runs else None

    def trend(self, run: StoredRun) -> Trend | None:
        """The trend of the drill ``run`` belongs to."""
        return next(
            (t for t in self.trends if (t.drill, t.engine) == (run.drill, run.engine)),
            None,
        )


def _opt(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def trends(runs: list[StoredRun]) -> list[Trend]:
    """Aggregate runs per drill and engine (pandas), oldest run first within each."""
    if not runs:
        return []
    frame = pd.DataFrame(
        [
            {
                "drill": r.drill,
                "engine": r.engine,
                "run_id": r.run_id,
                "started_at": r.started_at,
                "verdict": r.verdict or "error",
                "rto_s": r.figure("rto_s"),
                "rpo_s": r.figure("rpo_s"),
                "lost_writes": r.figure("lost_writes"),
                "rto_objective_s": r.rto_objective_s,
                "rpo_objective_s": r.rpo_objective_s,
                "objectives_met": r.objectives_met,
            }
            for r in runs
        ]
    ).sort_values(["drill", "engine", "started_at", "run_id"])
    frame["measured"] = frame["rto_s"].notna()
    frame["met"] = frame["objectives_met"].eq(True)
    stats = frame.groupby(["drill", "engine"], sort=True).agg(
        runs=("run_id", "count"),
        measured=("measured", "sum"),
        met=("met", "sum"),
        median_rto_s=("rto_s", "median"),
        worst_rto_s=("rto_s", "max"),
        median_rpo_s=("rpo_s", "median"),
        worst_rpo_s=("rpo_s", "max"),
        lost_writes_total=("lost_writes", "sum"),
        last_started_at=("started_at", "max"),
    )
    verdicts = (
        frame.groupby(["drill", "engine"])["verdict"]
        .value_counts()
        .unstack(fill_value=0)
        .reindex(columns=list(VERDICTS), fill_value=0)
    )
    out = []
    for (drill, engine), row in stats.iterrows():
        group = frame[(frame["drill"] == drill) & (frame["engine"] == engine)]
        points = tuple(
            TrendPoint(
                run_id=p["run_id"],
                started_at=p["started_at"],
                verdict=p["verdict"],
                rto_s=_opt(p["rto_s"]),
                rpo_s=_opt(p["rpo_s"]),
                lost_writes=_opt(p["lost_writes"]),
                rto_objective_s=_opt(p["rto_objective_s"]),
                rpo_objective_s=_opt(p["rpo_objective_s"]),
                objectives_met=None
                if p["objectives_met"] is None
                or (isinstance(p["objectives_met"], float) and math.isnan(p["objectives_met"]))
                else bool(p["objectives_met"]),
            )
            for p in group.to_dict("records")
        )
        out.append(
            Trend(
                drill=str(drill),
                engine=str(engine),
                runs=int(row["runs"]),
                verdicts={v: int(verdicts.loc[(drill, engine), v]) for v in VERDICTS},
                measured=int(row["measured"]),
                objectives_met=int(row["met"]),
                median_rto_s=_opt(row["median_rto_s"]),
                worst_rto_s=_opt(row["worst_rto_s"]),
                median_rpo_s=_opt(row["median_rpo_s"]),
                worst_rpo_s=_opt(row["worst_rpo_s"]),
                lost_writes_total=int(_opt(row["lost_writes_total"]) or 0),
                last_started_at=str(row["last_started_at"]),
                points=points,
            )
        )
    return out


def latest_per_drill(runs: list[StoredRun]) -> list[StoredRun]:
    """The newest run of each drill on each engine, sorted by drill then engine."""
    latest: dict[tuple[str, str], StoredRun] = {}
    for r in runs:  # oldest first, so the last one seen wins
        latest[(r.drill, r.engine)] = r
    return [latest[k] for k in sorted(latest)]


def build_report(
    runs: list[StoredRun],
    *,
    history: str,
    since: str | None = None,
    focus_run_ids: list[str] | None = None,
    procedures: list[Procedure] | None = None,
    title: str = "Recovery drill report",
    now: dt.datetime | None = None,
) -> Report:
    """The report of ``runs`` (oldest first); detail for ``focus_run_ids`` or the latest."""
    if focus_run_ids is not None:
        wanted = set(focus_run_ids)
        focus = [r for r in runs if r.run_id in wanted]
    else:
        focus = latest_per_drill(runs)
    totals = {v: sum(1 for r in runs if (r.verdict or "error") == v) for v in VERDICTS}
    totals["runs"] = len(runs)
    totals["measured"] = sum(1 for r in runs if r.objectives_met is not None)
    totals["objectives_met"] = sum(1 for r in runs if r.objectives_met)
    generated = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return Report(
        title=title,
        generated_at=generated.isoformat(timespec="seconds"),
        history=history,
        since=since,
        runs=tuple(runs),
        focus=tuple(focus),
        trends=tuple(trends(runs)),
        procedures=tuple(procedures or ()),
        totals=totals,
    )


# -- wording shared by every renderer ------------------------------------------------------------
def when(iso: str | None) -> str:
    """'2026-11-21 05:18 UTC' from a journal time."""
    if not iso:
        return "-"
    value = dt.datetime.fromisoformat(iso)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def seconds(value: float | None) -> str:
    """'2.78 s', '0 s', '-' for not measured."""
    if value is None:
        return "-"
    if value == 0:
        return "0 s"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def objectives_text(run: StoredRun) -> str:
    """'RTO ≤ 30 s, RPO ≤ 10 s, lost writes ≤ 0'."""
    parts = []
    if run.rto_objective_s is not None:
        parts.append(f"RTO ≤ {run.rto_objective_s:g} s")
    if run.rpo_objective_s is not None:
        parts.append(f"RPO ≤ {run.rpo_objective_s:g} s")
    if run.max_lost_writes_objective is not None:
        parts.append(f"lost writes ≤ {run.max_lost_writes_objective}")
    return ", ".join(parts) or "none"


def objectives_status(run: StoredRun) -> str:
    """'met', 'missed' or 'not measured'."""
    if run.objectives_met is None:
        return "not measured"
    return "met" if run.objectives_met else "missed"


def data_lost_text(run: StoredRun) -> str:
    """What data the drill lost, in words an auditor reads once."""
    lost, acked = run.figure("lost_writes"), run.figure("acked_writes")
    if lost is None:
        return "not measured (the drill did not recover and measure)"
    text = (
        "none"
        if lost == 0
        else f"{int(lost)} of {int(acked or 0)} acknowledged writes"
        f" (RPO {seconds(run.figure('rpo_s'))})"
    )
    holes, unexpected = run.figure("holes") or 0, run.figure("unexpected") or 0
    if holes:
        text += f"; {int(holes)} lost from the middle (holes)"
    if unexpected:
        text += f"; {int(unexpected)} unexpected rows"
    seed_lost = run.figure("seed_rows_lost")
    if seed_lost:
        text += f"; {int(seed_lost)} seeded rows lost or damaged"
    if run.data_verified is False:
        text += "; seeded data did NOT match after recovery"
    return text


def runs_met_text(trend: Trend | None) -> str:
    """'met in 4 of 5 runs (1 more not measured)'."""
    if trend is None:
        return "-"
    plural = "" if trend.measured == 1 else "s"
    text = f"met in {trend.objectives_met} of {trend.measured} run{plural}"
    unmeasured = trend.runs - trend.measured
    return text + (f" ({unmeasured} more not measured)" if unmeasured else "")


def since_iso(text: str, *, now: dt.datetime | None = None) -> str:
    """``--since``: YYYY-MM-DD, an ISO-8601 time, or ``Nd`` (N days ago), as ISO-8601 UTC.

    Raises ValueError with a message fit for the user.
    """
    value = text.strip()
    if value.endswith("d") and value[:-1].isdigit():
        moment = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=int(value[:-1]))
    else:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"--since {text!r}: expected a date (2026-01-31), an ISO-8601 time "
                "(2026-01-31T12:00:00Z) or a number of days (30d)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def three_two_one_text(run: StoredRun) -> str | None:
    """The 3-2-1 count at the incident in words, flagged where the rule is broken (None when the
    drill had no incident or predates the count)."""
    copies = run.figure("copies_at_fault")
    if copies is None:
        return None
    kinds = int(run.figure("store_kinds_at_fault") or 0)
    off = int(run.figure("copies_off_host") or 0)
    locked = int(run.figure("copies_immutable") or 0)
    writable = int(run.figure("backups_db_writable") or 0)
    met = run.figure("rule_321_met") == 1
    text = (
        f"{int(copies)} copies of the data at the fault (the database included), on {kinds} "
        f"kinds of store, {off} off the database host"
        + (f", {locked} immutable" if locked else "")
        + (
            f"; {writable} backups on a store the database host could write to"
            if writable
            else "; no backup on a store the database host could write to"
        )
    )
    return ("3-2-1 met: " if met else "3-2-1 NOT MET: ") + text


def team_lines(run: StoredRun) -> list[str]:
    """A team's own database in a run: the fidelity figures and each check, as text lines
    (nothing for a drill on seeded tables)."""
    f = run.figures
    if "team_tables" not in f:
        return []
    differences = f.get("team_differences")
    fidelity = (
        "not compared" if differences is None else
        "all match" if not differences else f"{int(differences)} differences"
    )  # fmt: skip
    lines = [
        f"Team database: {int(f['team_tables'])} tables, {int(f.get('team_objects', 0))} "
        f"objects: {fidelity} (loaded in {seconds(f.get('team_load_s'))}, source truth in "
        f"{seconds(f.get('team_truth_s'))})."
    ]
    checks = sorted((k.removeprefix("check:"), v) for k, v in f.items() if k.startswith("check:"))
    if checks:
        lines.append(
            "Checks: " + ", ".join(f"{n} {'passed' if v else 'FAILED'}" for n, v in checks) + "."
        )
    return [*lines, ""]
