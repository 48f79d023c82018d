"""The versioned history schema: ordered migrations, applied forward, never losing a row.

``schema_version`` lists every migration applied (version, description, when). Opening a
history applies the missing ones in order, each in its own transaction together with its
``schema_version`` row, so an interrupted upgrade leaves the database at the last complete
version. A database newer than this program is refused rather than written to.

    v1  drill runs, their steps (the timeline) and measured figures; the journal verbatim
    v2  backup catalog, backup verification tests, recovery procedures (backfilled from v1)
    v3  the drill plan a run belonged to
    v4  the recovery strategy of a run (scenarios that compare strategies); procedures per
        strategy
    v5  the source database of a catalogued backup (what ``gate`` and ``audit`` look up)
    v6  backups made outside the tool (restore-test) and their restore tests
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import InputError
from harness.report.history import records
from harness.report.history.db import Database
from harness.report.journal import record_from_dict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its number, what it does, and the function that does it."""

    version: int
    description: str
    apply: Callable[[Database], None]


def _v1(db: Database) -> None:
    db.execute(
        """CREATE TABLE drill_runs (
            run_id TEXT PRIMARY KEY,
            scenario TEXT NOT NULL,
            engine TEXT NOT NULL,
            scenario_file TEXT,
            summary TEXT,
            status TEXT NOT NULL,
            verdict TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            duration_s DOUBLE PRECISION,
            image TEXT,
            error TEXT,
            reasons TEXT NOT NULL,
            rto_objective_s DOUBLE PRECISION,
            rpo_objective_s DOUBLE PRECISION,
            max_lost_writes_objective BIGINT,
            objectives_met BOOLEAN,
            objectives_missed TEXT NOT NULL,
            data_verified BOOLEAN,
            restored_from TEXT,
            journal TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX drill_runs_started ON drill_runs (started_at)")
    db.execute("CREATE INDEX drill_runs_drill ON drill_runs (scenario, engine, started_at)")
    db.execute(
        """CREATE TABLE drill_steps (
            run_id TEXT NOT NULL REFERENCES drill_runs (run_id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            outcome TEXT,
            offset_s DOUBLE PRECISION,
            duration_s DOUBLE PRECISION,
            detail TEXT,
            PRIMARY KEY (run_id, ordinal)
        )"""
    )
    db.execute(
        """CREATE TABLE drill_figures (
            run_id TEXT NOT NULL REFERENCES drill_runs (run_id) ON DELETE CASCADE,
            figure TEXT NOT NULL,
            value DOUBLE PRECISION,
            PRIMARY KEY (run_id, figure)
        )"""
    )


def _v2(db: Database) -> None:
    db.execute(
        """CREATE TABLE backup_catalog (
            run_id TEXT NOT NULL REFERENCES drill_runs (run_id) ON DELETE CASCADE,
            backup_name TEXT NOT NULL,
            backup_method TEXT NOT NULL,
            engine TEXT NOT NULL,
            store TEXT,
            location TEXT,
            started_at TEXT,
            ended_at TEXT,
            size_bytes BIGINT,
            source_bytes BIGINT,
            sha256 TEXT,
            exit_code INTEGER,
            verification TEXT NOT NULL,
            is_verified BOOLEAN NOT NULL,
            used_for_recovery BOOLEAN NOT NULL,
            PRIMARY KEY (run_id, backup_name)
        )"""
    )
    db.execute(
        """CREATE TABLE backup_verification_tests (
            run_id TEXT NOT NULL,
            backup_name TEXT NOT NULL,
            ordinal INTEGER NOT NULL,
            test_type TEXT NOT NULL,
            passed BOOLEAN NOT NULL,
            detail TEXT,
            PRIMARY KEY (run_id, backup_name, ordinal),
            FOREIGN KEY (run_id, backup_name)
                REFERENCES backup_catalog (run_id, backup_name) ON DELETE CASCADE
        )"""
    )
    db.execute(
        """CREATE TABLE recovery_procedures (
            scenario TEXT NOT NULL,
            engine TEXT NOT NULL,
            procedure_steps TEXT NOT NULL,
            rto_objective_s DOUBLE PRECISION,
            last_tested_at TEXT,
            tests INTEGER NOT NULL,
            recoveries INTEGER NOT NULL,
            median_rto_s DOUBLE PRECISION,
            worst_rto_s DOUBLE PRECISION,
            last_rto_s DOUBLE PRECISION,
            PRIMARY KEY (scenario, engine)
        )"""
    )
    # Backfill from the journals that v1 kept verbatim: old runs gain a catalog too.
    drills: set[tuple[str, str]] = set()
    for scenario, engine, text in db.query(
        "SELECT scenario, engine, journal FROM drill_runs ORDER BY started_at"
    ):
        record = record_from_dict(json.loads(text))
        records.insert_backups(db, record, columns=records.BACKUP_COLUMNS_V2)
        drills.add((scenario, engine))
    for scenario, engine in sorted(drills):
        records.refresh_procedure(db, scenario, engine, strategy=None, by_strategy=False)


def _v3(db: Database) -> None:
    db.execute("ALTER TABLE drill_runs ADD COLUMN plan TEXT")


def _v4(db: Database) -> None:
    db.execute("ALTER TABLE drill_runs ADD COLUMN strategy TEXT")
    for run_id, text in db.query("SELECT run_id, journal FROM drill_runs"):
        strategy = record_from_dict(json.loads(text)).strategy
        if strategy:
            db.execute("UPDATE drill_runs SET strategy = ? WHERE run_id = ?", (strategy, run_id))
    # Procedures were per scenario; a scenario that compares strategies has one per strategy.
    db.execute("DELETE FROM recovery_procedures")
    for scenario, engine, strategy in db.query(
        "SELECT DISTINCT scenario, engine, strategy FROM drill_runs"
    ):
        records.refresh_procedure(db, scenario, engine, strategy=strategy)


def _v5(db: Database) -> None:
    db.execute("ALTER TABLE backup_catalog ADD COLUMN source_database TEXT")
    db.execute("CREATE INDEX backup_catalog_source ON backup_catalog (source_database)")
    for run_id, text in db.query("SELECT run_id, journal FROM drill_runs"):
        for b in record_from_dict(json.loads(text)).backups:
            if b.source_database:
                db.execute(
                    "UPDATE backup_catalog SET source_database = ? "
                    "WHERE run_id = ? AND backup_name = ?",
                    (b.source_database, run_id, b.name),
                )


def _v6(db: Database) -> None:
    # Backups made outside the tool and restore-tested (recovery-drill restore-test), with
    # seed 001's catalog fields; one row per backup (location + sha256), its tests below.
    db.execute(
        """CREATE TABLE external_backups (
            backup_location TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            backup_name TEXT NOT NULL,
            backup_type TEXT NOT NULL,
            backup_kind TEXT NOT NULL,
            engine TEXT NOT NULL,
            source_database TEXT,
            backup_start_time TEXT,
            backup_end_time TEXT,
            backup_size_bytes BIGINT,
            verification TEXT NOT NULL,
            is_verified BOOLEAN NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_restore_test_at TEXT,
            last_restore_test_status TEXT,
            last_restorable_at TEXT,
            PRIMARY KEY (backup_location, sha256)
        )"""
    )
    db.execute(
        """CREATE TABLE external_restore_tests (
            backup_location TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            fetch_s DOUBLE PRECISION,
            restore_s DOUBLE PRECISION,
            verify_s DOUBLE PRECISION,
            rto_s DOUBLE PRECISION,
            verification TEXT NOT NULL,
            result TEXT NOT NULL,
            PRIMARY KEY (backup_location, sha256, started_at),
            FOREIGN KEY (backup_location, sha256)
                REFERENCES external_backups (backup_location, sha256) ON DELETE CASCADE
        )"""
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "drill runs, steps and measured figures", _v1),
    Migration(2, "backup catalog, verification tests, recovery procedures", _v2),
    Migration(3, "the drill plan a run belonged to", _v3),
    Migration(4, "the recovery strategy of a run; procedures per strategy", _v4),
    Migration(5, "the source database of a catalogued backup", _v5),
    Migration(6, "backups made outside the tool, and their restore tests", _v6),
)
LATEST = MIGRATIONS[-1].version


def current_version(db: Database) -> int:
    """The schema version of ``db`` (0: empty)."""
    if not db.table_exists("schema_version"):
        return 0
    rows = db.query("SELECT MAX(version) FROM schema_version")
    return int(rows[0][0] or 0)


def migrate(db: Database, *, upto: int = LATEST) -> list[int]:
    """Bring ``db`` forward to version ``upto``; return the versions applied."""
    applied: list[int] = []
    with db.transaction():
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
            "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    found = current_version(db)
    if found > LATEST:
        raise InputError(
            f"history database {db.where} has schema version {found}, newer than this "
            f"recovery-drill understands ({LATEST}); upgrade recovery-drill to use it"
        )
    for migration in MIGRATIONS:
        if migration.version > upto:
            break
        with db.transaction():
            # Re-read under the lock: another process may have migrated meanwhile.
            if migration.version <= current_version(db):
                continue
            log.info(
                "history %s: migrating to v%d (%s)",
                db.where,
                migration.version,
                migration.description,
            )
            migration.apply(db)
            db.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, _now()),
            )
        applied.append(migration.version)
    return applied


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
