"""The history of every drill run: record a finished drill's record, read runs back for reports."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.record import DrillRecord
from harness.report.history import records
from harness.report.history.db import Database, connect
from harness.report.history.migrations import LATEST, current_version, migrate
from harness.report.journal import record_from_dict

log = logging.getLogger(__name__)

DEFAULT_HISTORY = Path("reports") / "history.sqlite"

RUN_COLUMNS = (
    "run_id",
    "scenario",
    "engine",
    "scenario_file",
    "summary",
    "status",
    "verdict",
    "started_at",
    "ended_at",
    "duration_s",
    "image",
    "error",
    "reasons",
    "rto_objective_s",
    "rpo_objective_s",
    "max_lost_writes_objective",
    "objectives_met",
    "objectives_missed",
    "data_verified",
    "restored_from",
    "journal",
    "plan",
    "strategy",
)
_READ_COLUMNS = tuple(c for c in RUN_COLUMNS if c != "journal")


@dataclass(frozen=True)
class Step:
    """One mark or bar of a drill's timeline (seconds from the fault)."""

    kind: str
    name: str
    outcome: str | None
    offset_s: float | None
    duration_s: float | None
    detail: str


@dataclass(frozen=True)
class BackupEntry:
    """One backup of a run, as the catalog holds it, with its verification tests."""

    name: str
    method: str
    started_at: str | None
    size_bytes: int | None
    source_bytes: int | None
    sha256: str | None
    verification: str
    is_verified: bool
    used_for_recovery: bool
    tests: tuple[tuple[str, bool, str], ...]


@dataclass(frozen=True)
class StoredRun:
    """One recorded drill run: the row, its figures, timeline and backups."""

    run_id: str
    scenario: str
    engine: str
    scenario_file: str | None
    summary: str | None
    status: str
    verdict: str | None
    started_at: str
    ended_at: str | None
    duration_s: float | None
    image: str | None
    error: str
    reasons: tuple[str, ...]
    rto_objective_s: float | None
    rpo_objective_s: float | None
    max_lost_writes_objective: int | None
    objectives_met: bool | None
    objectives_missed: tuple[str, ...]
    data_verified: bool | None
    restored_from: str | None
    plan: str | None
    strategy: str | None = None
    figures: dict[str, float] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    backups: tuple[BackupEntry, ...] = ()

    def figure(self, name: str) -> float | None:
        """A measured figure, or None when the drill did not measure it."""
        return self.figures.get(name)

    @property
    def drill(self) -> str:
        """The drill's name: the scenario, and the strategy when it compares several."""
        return records.drill_label(self.scenario, self.strategy)


@dataclass(frozen=True)
class Procedure:
    """A recovery procedure (scenario on engine) and its measured times over every run."""

    scenario: str  # the drill's name: scenario, and "/ strategy" when it has one
    engine: str
    steps: tuple[str, ...]
    rto_objective_s: float | None
    last_tested_at: str | None
    tests: int
    recoveries: int
    median_rto_s: float | None
    worst_rto_s: float | None
    last_rto_s: float | None


def _bool(value: Any) -> bool | None:
    # SQLite hands BOOLEAN back as 0/1, PostgreSQL as bool.
    return None if value is None else bool(value)


class History:
    """Drill runs recorded in a versioned database (SQLite file or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, location: str | Path = DEFAULT_HISTORY) -> History:
        """Open (creating or migrating forward as needed) the history at ``location``."""
        db = connect(location)
        try:
            applied = migrate(db)
        except BaseException:
            db.close()
            raise
        if applied:
            log.info("history %s: schema now v%d (applied %s)", db.where, LATEST, applied)
        return cls(db)

    @property
    def where(self) -> str:
        """Where the history lives, without secrets."""
        return self.db.where

    @property
    def version(self) -> int:
        return current_version(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------
    def record(self, record: DrillRecord, *, plan: str | None = None) -> None:
        """Record one drill run; recording the same run again replaces it."""
        run_id = record.run_id
        with self.db.transaction():
            for table in (
                "backup_verification_tests",
                "backup_catalog",
                "drill_figures",
                "drill_steps",
                "drill_runs",
            ):
                self.db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            records.insert(self.db, "drill_runs", records.run_row(record, plan=plan), RUN_COLUMNS)
            for i, step in enumerate(records.step_rows(record)):
                records.insert(
                    self.db,
                    "drill_steps",
                    {"run_id": run_id, "ordinal": i, **step},
                    (
                        "run_id",
                        "ordinal",
                        "kind",
                        "name",
                        "outcome",
                        "offset_s",
                        "duration_s",
                        "detail",
                    ),
                )
            for figure, value in records.figure_rows(record):
                self.db.execute(
                    "INSERT INTO drill_figures (run_id, figure, value) VALUES (?, ?, ?)",
                    (run_id, figure, value),
                )
            records.insert_backups(self.db, record, columns=records.BACKUP_COLUMNS_V5)
            records.refresh_procedure(
                self.db, record.scenario, record.engine, strategy=record.strategy
            )

    # -- reading ------------------------------------------------------------------------------
    def runs(
        self, *, since: str | None = None, run_ids: list[str] | None = None
    ) -> list[StoredRun]:
        """Runs started at or after ``since`` (ISO-8601 UTC), oldest first."""
        where, params = self._where(since=since, run_ids=run_ids)
        rows = self.db.query(
            f"SELECT {', '.join(_READ_COLUMNS)} FROM drill_runs r{where} "
            "ORDER BY started_at, run_id",
            params,
        )
        figures: dict[str, dict[str, float]] = {}
        for run_id, figure, value in self.db.query(
            f"SELECT f.run_id, f.figure, f.value FROM drill_figures f "
            f"JOIN drill_runs r ON r.run_id = f.run_id{where}",
            params,
        ):
            if value is not None:
                figures.setdefault(run_id, {})[figure] = float(value)
        steps: dict[str, list[Step]] = {}
        for run_id, *rest in self.db.query(
            "SELECT s.run_id, s.kind, s.name, s.outcome, s.offset_s, s.duration_s, s.detail "
            f"FROM drill_steps s JOIN drill_runs r ON r.run_id = s.run_id{where} "
            "ORDER BY s.run_id, s.ordinal",
            params,
        ):
            kind, name, outcome, offset, duration, detail = rest
            steps.setdefault(run_id, []).append(
                Step(kind, name, outcome, _float(offset), _float(duration), detail or "")
            )
        tests: dict[tuple[str, str], list[tuple[str, bool, str]]] = {}
        for run_id, backup, test_type, passed, detail in self.db.query(
            "SELECT t.run_id, t.backup_name, t.test_type, t.passed, t.detail "
            "FROM backup_verification_tests t "
            f"JOIN drill_runs r ON r.run_id = t.run_id{where} "
            "ORDER BY t.run_id, t.backup_name, t.ordinal",
            params,
        ):
            tests.setdefault((run_id, backup), []).append((test_type, bool(passed), detail or ""))
        backups: dict[str, list[BackupEntry]] = {}
        for row in self.db.query(
            "SELECT b.run_id, b.backup_name, b.backup_method, b.started_at, b.size_bytes, "
            "b.source_bytes, b.sha256, b.verification, b.is_verified, b.used_for_recovery "
            f"FROM backup_catalog b JOIN drill_runs r ON r.run_id = b.run_id{where} "
            "ORDER BY b.run_id, b.started_at",
            params,
        ):
            run_id, name, method, started, size, source, sha, level, verified, used = row
            backups.setdefault(run_id, []).append(
                BackupEntry(
                    name,
                    method,
                    started,
                    _int(size),
                    _int(source),
                    sha,
                    level,
                    bool(verified),
                    bool(used),
                    tuple(tests.get((run_id, name), [])),
                )
            )
        out = []
        for row in rows:
            data = dict(zip(_READ_COLUMNS, row, strict=True))
            run_id = data["run_id"]
            out.append(
                StoredRun(
                    run_id=run_id,
                    scenario=data["scenario"],
                    engine=data["engine"],
                    scenario_file=data["scenario_file"],
                    summary=data["summary"],
                    status=data["status"],
                    verdict=data["verdict"],
                    started_at=data["started_at"],
                    ended_at=data["ended_at"],
                    duration_s=_float(data["duration_s"]),
                    image=data["image"],
                    error=data["error"] or "",
                    reasons=tuple(json.loads(data["reasons"] or "[]")),
                    rto_objective_s=_float(data["rto_objective_s"]),
                    rpo_objective_s=_float(data["rpo_objective_s"]),
                    max_lost_writes_objective=_int(data["max_lost_writes_objective"]),
                    objectives_met=_bool(data["objectives_met"]),
                    objectives_missed=tuple(json.loads(data["objectives_missed"] or "[]")),
                    data_verified=_bool(data["data_verified"]),
                    restored_from=data["restored_from"],
                    plan=data["plan"],
                    strategy=data["strategy"],
                    figures=figures.get(run_id, {}),
                    steps=tuple(steps.get(run_id, [])),
                    backups=tuple(backups.get(run_id, [])),
                )
            )
        return out

    def journal(self, run_id: str) -> DrillRecord | None:
        """The record of one run, read back from the journal kept with it."""
        rows = self.db.query("SELECT journal FROM drill_runs WHERE run_id = ?", (run_id,))
        return record_from_dict(json.loads(rows[0][0])) if rows else None

    def procedures(self) -> list[Procedure]:
        """Every recovery procedure tested, with its measured times."""
        out = []
        for row in self.db.query(
            "SELECT scenario, engine, procedure_steps, rto_objective_s, last_tested_at, tests, "
            "recoveries, median_rto_s, worst_rto_s, last_rto_s FROM recovery_procedures "
            "ORDER BY scenario, engine"
        ):
            scenario, engine, steps, objective, last_at, tests, recoveries, med, worst, last = row
            out.append(
                Procedure(
                    scenario,
                    engine,
                    tuple(json.loads(steps)),
                    _float(objective),
                    last_at,
                    int(tests),
                    int(recoveries),
                    _float(med),
                    _float(worst),
                    _float(last),
                )
            )
        return out

    @staticmethod
    def _where(*, since: str | None, run_ids: list[str] | None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("r.started_at >= ?")
            params.append(since)
        if run_ids is not None:
            if not run_ids:
                clauses.append("1 = 0")
            else:
                clauses.append(f"r.run_id IN ({', '.join('?' for _ in run_ids)})")
                params.extend(run_ids)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
