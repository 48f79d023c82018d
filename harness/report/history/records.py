"""Journal in, history rows out: how one drill's journal is split across the history tables.

The timeline (``drill_steps``) is placed on one axis: seconds from the disruptive fault
(negative before it). Backups, faults and recovery steps are placed by their UTC wall times;
detection, restore and verification by the monotonic phase durations the runner measured, so
the two may disagree by a few milliseconds.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Sequence
from typing import Any

from harness.report.history.db import Database

# Verification levels in order (harness.backups.catalog.Verification), each implying the last.
VERIFICATION_TESTS = ("exists", "size_plausible", "checksum_matches", "restore_tested")
VERIFIED_FROM = "checksum_matches"

FIGURES = (
    "rto_s",
    "rpo_s",
    "issued_writes",
    "acked_writes",
    "failed_writes",
    "unknown_writes",
    "lost_writes",
    "holes",
    "unexpected",
    "seed_rows_lost",
)
PHASES = ("detect_s", "restore_s", "verify_s")

BACKUP_COLUMNS_V2 = (
    "run_id",
    "backup_name",
    "backup_method",
    "engine",
    "store",
    "location",
    "started_at",
    "ended_at",
    "size_bytes",
    "source_bytes",
    "sha256",
    "exit_code",
    "verification",
    "is_verified",
    "used_for_recovery",
)


def drill_label(scenario: str, strategy: str | None) -> str:
    """The name of a drill: its scenario, and the strategy when the scenario compares several."""
    return f"{scenario} / {strategy}" if strategy else scenario


def parse_utc(text: str | None) -> dt.datetime | None:
    """An ISO-8601 time from a journal, as an aware UTC datetime (None stays None)."""
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def disruptive_fault(journal: dict[str, Any]) -> dict[str, Any] | None:
    """The fault that took a server down (not a fault acting on a backup job)."""
    for fault in journal.get("faults") or []:
        if not str(fault.get("target", "")).startswith("backup:"):
            return dict(fault)
    return None


def time_zero(journal: dict[str, Any]) -> dt.datetime | None:
    """Time zero of the timeline: the disruptive fault, else the start of the drill."""
    fault = disruptive_fault(journal)
    return parse_utc(fault.get("at") if fault else None) or parse_utc(journal.get("started_at"))


def _offset(moment: str | None, zero: dt.datetime | None) -> float | None:
    at = parse_utc(moment)
    if at is None or zero is None:
        return None
    return round((at - zero).total_seconds(), 4)


def run_row(journal: dict[str, Any], *, plan: str | None) -> dict[str, Any]:
    """The ``drill_runs`` row of a journal."""
    objectives = journal.get("objectives") or {}
    measured = journal.get("measured") or {}
    return {
        "run_id": journal["run_id"],
        "scenario": journal["scenario"],
        "engine": journal["engine"],
        "scenario_file": journal.get("scenario_file"),
        "summary": journal.get("summary"),
        "status": journal.get("status") or "unknown",
        "verdict": journal.get("verdict"),
        "started_at": journal["started_at"],
        "ended_at": journal.get("ended_at"),
        "duration_s": journal.get("duration_s"),
        "image": journal.get("image"),
        "error": journal.get("error") or "",
        "reasons": json.dumps(journal.get("reasons") or []),
        "rto_objective_s": objectives.get("rto_s"),
        "rpo_objective_s": objectives.get("rpo_s"),
        "max_lost_writes_objective": objectives.get("max_lost_writes"),
        # Only a measured drill met or missed its objectives; an unmeasured one did neither.
        "objectives_met": objectives.get("met") if measured.get("rto_s") is not None else None,
        "objectives_missed": json.dumps(objectives.get("missed") or []),
        "data_verified": measured.get("data_verified"),
        "restored_from": measured.get("restored_from"),
        "journal": json.dumps(journal, sort_keys=False, default=str),
        "plan": plan,
        "strategy": journal.get("strategy"),
    }


def figure_rows(journal: dict[str, Any]) -> list[tuple[str, float]]:
    """(figure, value) for every measured number of a journal."""
    measured = journal.get("measured") or {}
    phases = journal.get("phases") or {}
    rows = [(name, float(measured[name])) for name in FIGURES if measured.get(name) is not None]
    rows += [(name, float(phases[name])) for name in PHASES if phases.get(name) is not None]
    if journal.get("duration_s") is not None:
        rows.append(("duration_s", float(journal["duration_s"])))
    return rows


def step_rows(journal: dict[str, Any]) -> list[dict[str, Any]]:
    """The timeline of a drill: backups, faults, detection, phases, recovery steps, recovery."""
    zero = time_zero(journal)
    rows: list[dict[str, Any]] = []

    def add(
        kind: str,
        name: str,
        offset_s: float | None,
        duration_s: float | None = 0.0,
        outcome: str | None = None,
        detail: str = "",
    ) -> None:
        rows.append(
            {
                "kind": kind,
                "name": name,
                "outcome": outcome,
                "offset_s": offset_s,
                "duration_s": duration_s,
                "detail": detail,
            }
        )

    for b in journal.get("backups") or []:
        outcome = "rejected" if b.get("verification_failure") else b.get("verification")
        add(
            "backup",
            b["name"],
            _offset(b.get("started_at"), zero),
            b.get("duration_s"),
            outcome,
            b.get("verification_failure") or ", ".join(b.get("checks") or []),
        )
    for f in journal.get("faults") or []:
        add(
            "fault",
            f["type"],
            _offset(f.get("at"), zero),
            0.0,
            "took effect" if f.get("took_effect") else "no effect",
            f"{f.get('target', '')}: {f.get('evidence', '')}".strip(": "),
        )
    phases = journal.get("phases") or {}
    detect, restore, verify = (phases.get(p) for p in PHASES)
    if detect is not None:
        add("detected", "outage detected", detect, 0.0)
        add("phase", "detect", 0.0, detect)
        if restore is not None:
            add("phase", "restore", detect, restore)
            if verify is not None:
                add("phase", "verify", round(detect + restore, 4), verify)
    for r in journal.get("recovery") or []:
        name = r["step"] + (f" {r['backup']}" if r.get("backup") else "")
        add(
            "recovery_step",
            name,
            _offset(r.get("started_at"), zero),
            r.get("duration_s"),
            r.get("outcome"),
            r.get("detail") or "",
        )
    rto = (journal.get("measured") or {}).get("rto_s")
    if rto is not None:
        add("recovered", "verified read and write", rto, 0.0, "ok")
    return rows


def backup_rows(journal: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``backup_catalog`` rows of a journal."""
    restored_from = (journal.get("measured") or {}).get("restored_from")
    out = []
    for b in journal.get("backups") or []:
        level = b.get("verification") or "none"
        verified = level in VERIFICATION_TESTS and VERIFICATION_TESTS.index(
            level
        ) >= VERIFICATION_TESTS.index(VERIFIED_FROM)
        out.append(
            {
                "run_id": journal["run_id"],
                "backup_name": b["name"],
                "backup_method": b.get("method") or "logical",
                "engine": journal["engine"],
                "store": b.get("store"),
                "location": b.get("path"),
                "started_at": b.get("started_at"),
                "ended_at": b.get("ended_at"),
                "size_bytes": b.get("size_bytes"),
                "source_bytes": b.get("source_bytes"),
                "sha256": b.get("sha256"),
                "exit_code": b.get("exit_code"),
                "verification": level,
                "is_verified": verified,
                "used_for_recovery": b["name"] == restored_from,
            }
        )
    return out


def verification_rows(backup: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per verification test of a journal's backup: the passed ones, then the failure.

    The failed test is the level after the last one passed; verification stops there.
    """
    passed = [c for c in backup.get("checks") or [] if c in VERIFICATION_TESTS]
    rows = [{"test_type": c, "passed": True, "detail": ""} for c in passed]
    failure = backup.get("verification_failure") or ""
    if failure:
        done = max((VERIFICATION_TESTS.index(c) for c in passed), default=-1)
        if done + 1 < len(VERIFICATION_TESTS):
            rows.append(
                {"test_type": VERIFICATION_TESTS[done + 1], "passed": False, "detail": failure}
            )
    return rows


def insert(db: Database, table: str, row: dict[str, Any], columns: Sequence[str]) -> None:
    """INSERT one row, taking only ``columns`` from it (older schemas have fewer)."""
    marks = ", ".join("?" for _ in columns)
    db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [row.get(c) for c in columns],
    )


def insert_backups(
    db: Database, run_id: str, journal: dict[str, Any], *, columns: Sequence[str]
) -> None:
    """The backup catalog and verification tests of one run."""
    for row, backup in zip(backup_rows(journal), journal.get("backups") or [], strict=True):
        insert(db, "backup_catalog", row, columns)
        for i, test in enumerate(verification_rows(backup)):
            insert(
                db,
                "backup_verification_tests",
                {"run_id": run_id, "backup_name": row["backup_name"], "ordinal": i, **test},
                ("run_id", "backup_name", "ordinal", "test_type", "passed", "detail"),
            )


def refresh_procedure(
    db: Database, scenario: str, engine: str, *, strategy: str | None, by_strategy: bool = True
) -> None:
    """Recompute the ``recovery_procedures`` row of one drill from every run of it.

    The row is keyed by the drill's label (scenario, and strategy when there is one);
    ``by_strategy=False`` is for schemas before v4, which had no strategy column.
    """
    where, params = "r.scenario = ? AND r.engine = ?", [scenario, engine]
    if by_strategy:
        where += " AND COALESCE(r.strategy, '') = ?"
        params.append(strategy or "")
    runs = db.query(
        "SELECT r.run_id, r.started_at, r.rto_objective_s, f.value FROM drill_runs r "
        "LEFT JOIN drill_figures f ON f.run_id = r.run_id AND f.figure = 'rto_s' "
        f"WHERE {where} ORDER BY r.started_at",
        params,
    )
    label = drill_label(scenario, strategy)
    db.execute("DELETE FROM recovery_procedures WHERE scenario = ? AND engine = ?", (label, engine))
    if not runs:
        return
    last_id, last_at, objective, last_rto = runs[-1]
    steps = [
        name
        for (name,) in db.query(
            "SELECT name FROM drill_steps WHERE run_id = ? AND kind = 'recovery_step' "
            "ORDER BY ordinal",
            (last_id,),
        )
    ]
    rtos = [float(r[3]) for r in runs if r[3] is not None]
    insert(
        db,
        "recovery_procedures",
        {
            "scenario": label,
            "engine": engine,
            "procedure_steps": json.dumps(steps),
            "rto_objective_s": objective,
            "last_tested_at": last_at,
            "tests": len(runs),
            "recoveries": len(rtos),
            "median_rto_s": statistics.median(rtos) if rtos else None,
            "worst_rto_s": max(rtos) if rtos else None,
            "last_rto_s": last_rto,
        },
        (
            "scenario",
            "engine",
            "procedure_steps",
            "rto_objective_s",
            "last_tested_at",
            "tests",
            "recoveries",
            "median_rto_s",
            "worst_rto_s",
            "last_rto_s",
        ),
    )
