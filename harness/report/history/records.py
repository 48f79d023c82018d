"""Drill record in, history rows out: how one run is split across the history tables.

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

from harness.record import BackupEntry, DrillRecord
from harness.report.history.db import Database
from harness.report.journal import record_to_dict

# Verification levels in order (harness.backups.catalog.Verification), each implying the last.
VERIFICATION_TESTS = (
    "exists",
    "size_plausible",
    "checksum_matches",
    "tool_verified",
    "restore_tested",
)
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
# The restore phase split: the backup's re-check, the server's start, the restore tool's run.
RESTORE_SPLIT = ("backup_check_s", "server_start_s", "restore_tool_s")

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
# v5: the database a backup was taken of (restore tests of backups made outside the tool).
BACKUP_COLUMNS_V5 = (*BACKUP_COLUMNS_V2, "source_database")


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


def time_zero(record: DrillRecord) -> dt.datetime | None:
    """Time zero of the timeline: the disruptive fault, else the start of the drill."""
    fault = record.disruptive_fault()
    return parse_utc(fault.at if fault else None) or parse_utc(record.started_at)


def _offset(moment: str | None, zero: dt.datetime | None) -> float | None:
    at = parse_utc(moment)
    if at is None or zero is None:
        return None
    return round((at - zero).total_seconds(), 4)


def run_row(record: DrillRecord, *, plan: str | None) -> dict[str, Any]:
    """The ``drill_runs`` row of a drill record."""
    objectives, measured = record.objectives, record.measured
    return {
        "run_id": record.run_id,
        "scenario": record.scenario,
        "engine": record.engine,
        "scenario_file": record.scenario_file,
        "summary": record.summary,
        "status": record.status.value,
        "verdict": record.verdict,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "duration_s": record.duration_s,
        "image": record.image,
        "error": record.error,
        "reasons": json.dumps(list(record.reasons)),
        "rto_objective_s": objectives.rto_s,
        "rpo_objective_s": objectives.rpo_s,
        "max_lost_writes_objective": objectives.max_lost_writes,
        # Only a measured drill met or missed its objectives; an unmeasured one did neither.
        "objectives_met": objectives.met if measured.rto_s is not None else None,
        "objectives_missed": json.dumps(list(objectives.missed)),
        "data_verified": measured.data_verified,
        "restored_from": measured.restored_from,
        "journal": json.dumps(record_to_dict(record), default=str),
        "plan": plan,
        "strategy": record.strategy,
    }


def figure_rows(record: DrillRecord) -> list[tuple[str, float]]:
    """(figure, value) for every measured number of a drill record."""
    values = [(name, getattr(record.measured, name)) for name in FIGURES]
    values += [(name, getattr(record.phases, name)) for name in PHASES]
    values += [(name, getattr(record.phases, name)) for name in RESTORE_SPLIT]
    values.append(("duration_s", record.duration_s))
    rule = record.three_two_one
    if rule is not None:  # the 3-2-1 count at the incident (issue 13)
        values += [
            ("copies_at_fault", rule.copies),
            ("store_kinds_at_fault", len(rule.store_kinds)),
            ("copies_off_host", rule.off_host),
            ("copies_immutable", rule.immutable),
            ("backups_db_writable", len(rule.db_writable)),
            ("rule_321_met", int(rule.met)),
        ]
    team = record.team_data
    if team is not None:  # a team's own database: its fidelity and checks (check:<name> 1/0)
        values += [
            ("team_load_s", team.load_s),
            ("team_truth_s", team.truth_s),
            ("team_tables", team.tables),
            ("team_objects", team.objects),
            ("team_differences", len(team.differences) if team.verified is not None else None),
        ]
        values += [(f"check:{c.name}", 1.0 if c.passed else 0.0) for c in team.checks]
    if record.host is not None:  # the host's load during the drill (measurement.host_load)
        values += [
            ("host_cpus", record.host.cpus),
            ("host_jobs", record.host.jobs),
            ("host_load_1m_max", record.host.load_1m_max),
            ("host_cpu_stall_share", record.host.cpu_stall_share),
            ("host_saturated", 1.0 if record.host.saturated else 0.0),
        ]
    return [(name, float(value)) for name, value in values if value is not None]


def step_rows(record: DrillRecord) -> list[dict[str, Any]]:
    """The timeline of a drill: backups, faults, detection, phases, recovery steps, recovery."""
    zero = time_zero(record)
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

    for b in record.backups:
        add(
            "backup",
            b.name,
            _offset(b.started_at, zero),
            b.duration_s,
            "rejected" if b.verification_failure else b.verification,
            b.verification_failure or ", ".join(b.checks),
        )
    for f in record.faults:
        add(
            "fault",
            f.type,
            _offset(f.at, zero),
            0.0,
            "took effect" if f.took_effect else "no effect",
            f"{f.target}: {f.evidence}".strip(": "),
        )
    detect, restore, verify = (getattr(record.phases, p) for p in PHASES)
    if detect is not None:
        add("detected", "outage detected", detect, 0.0)
        add("phase", "detect", 0.0, detect)
        if restore is not None:
            add("phase", "restore", detect, restore, None, _restore_split(record))
            if verify is not None:
                add("phase", "verify", round(detect + restore, 4), verify)
    for r in record.recovery:
        add(
            "recovery_step",
            r.step + (f" {r.backup}" if r.backup else ""),
            _offset(r.started_at, zero),
            r.duration_s,
            r.outcome,
            r.detail,
        )
    if record.measured.rto_s is not None:
        add("recovered", "verified read and write", record.measured.rto_s, 0.0, "ok")
    return rows


def backup_rows(record: DrillRecord) -> list[dict[str, Any]]:
    """The ``backup_catalog`` rows of a drill record."""
    out = []
    for b in record.backups:
        level = b.verification or "none"
        verified = level in VERIFICATION_TESTS and VERIFICATION_TESTS.index(
            level
        ) >= VERIFICATION_TESTS.index(VERIFIED_FROM)
        out.append(
            {
                "run_id": record.run_id,
                "backup_name": b.name,
                "backup_method": b.method or "logical",
                "engine": record.engine,
                "store": b.store,
                "location": b.path,
                "started_at": b.started_at,
                "ended_at": b.ended_at,
                "size_bytes": b.size_bytes,
                "source_bytes": b.source_bytes,
                "sha256": b.sha256,
                "exit_code": b.exit_code,
                "verification": level,
                "is_verified": verified,
                "used_for_recovery": b.name == record.measured.restored_from,
                "source_database": b.source_database,
            }
        )
    return out


def verification_rows(backup: BackupEntry) -> list[dict[str, Any]]:
    """One row per verification test of a journal's backup: the passed ones, then the failure.

    The failed test is the level after the last one passed; verification stops there.
    """
    passed = [c for c in backup.checks if c in VERIFICATION_TESTS]
    rows = [{"test_type": c, "passed": True, "detail": ""} for c in passed]
    failure = backup.verification_failure
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


def insert_backups(db: Database, record: DrillRecord, *, columns: Sequence[str]) -> None:
    """The backup catalog and verification tests of one run."""
    for row, backup in zip(backup_rows(record), record.backups, strict=True):
        insert(db, "backup_catalog", row, columns)
        for i, test in enumerate(verification_rows(backup)):
            insert(
                db,
                "backup_verification_tests",
                {"run_id": record.run_id, "backup_name": row["backup_name"], "ordinal": i, **test},
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


def _restore_split(record: DrillRecord) -> str:
    """The restore phase's parts, where known: "backup check 0.12 s, server start 1.7 s, ..."."""
    parts = [
        f"{label} {value:.2f} s"
        for label, name in zip(
            ("backup check", "server start", "restore tool"), RESTORE_SPLIT, strict=True
        )
        if (value := getattr(record.phases, name)) is not None
    ]
    return ", ".join(parts)
