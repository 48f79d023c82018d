"""What the drill history proves about a database: its restore-tested backups.

A backup counts as proof when the history names this database as its source and a restore
test of it passed: a ``restore-test`` run (restored into a scratch server, read and written,
the team's checks met), or a drill whose backup reached ``restore_tested`` with its data
verified. Drills of the synthetic dataset prove nothing about a team's database and are
never counted: their backups name no source database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from harness.audit.model import Finding, Severity
from harness.report.history import History

RESTORE_TESTED = "restore_tested"
STALE_PROOF_DAYS = 7.0


@dataclass(frozen=True)
class RestoreProof:
    """One restore test of a backup of the database, newest first in lists."""

    run_id: str
    backup_name: str
    engine: str
    backup_ended_at: dt.datetime | None  # when the backup was taken (finished)
    tested_at: dt.datetime | None  # when the restore test ended
    data_verified: bool
    location: str | None

    def backup_age_s(self, now: dt.datetime) -> float | None:
        return (
            None if self.backup_ended_at is None else (now - self.backup_ended_at).total_seconds()
        )


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def family_of(engine: str) -> str:
    """``postgres@17`` and ``postgres`` are one family; so are ``mariadb`` and ``mysql``."""
    name = engine.split("@", 1)[0]
    return "mariadb" if name == "mysql" else name


def restore_proofs(history: History, *, database: str, family: str) -> list[RestoreProof]:
    """Every restore test of a backup of ``database`` on an engine of ``family``, newest first:
    ``recovery-drill restore-test`` runs of backups made outside the tool (a test that passed
    verified the data: restored, read and written, the team's checks met), and drill backups
    whose catalog row names the database."""
    proofs = [
        RestoreProof(
            run_id=f"restore-test {started}",
            backup_name=name,
            engine=engine,
            backup_ended_at=_time(ended),
            tested_at=_time(tested),
            data_verified=status == "pass",
            location=location,
        )
        for name, engine, ended, started, tested, status, location in history.db.query(
            "SELECT b.backup_name, b.engine, COALESCE(b.backup_end_time, b.backup_start_time), "
            "t.started_at, t.ended_at, t.status, b.backup_location FROM external_backups b "
            "JOIN external_restore_tests t ON t.backup_location = b.backup_location "
            "AND t.sha256 = b.sha256 WHERE b.source_database = ?",
            (database,),
        )
    ]
    proofs += [
        RestoreProof(
            run_id=run_id,
            backup_name=name,
            engine=engine,
            backup_ended_at=_time(ended),
            tested_at=_time(tested),
            data_verified=bool(verified),
            location=location,
        )
        for run_id, name, engine, ended, tested, verified, location in history.db.query(
            "SELECT b.run_id, b.backup_name, b.engine, COALESCE(b.ended_at, b.started_at), "
            "r.ended_at, r.data_verified, b.location FROM backup_catalog b "
            "JOIN drill_runs r ON r.run_id = b.run_id "
            "WHERE b.source_database = ? AND b.verification = ?",
            (database, RESTORE_TESTED),
        )
    ]
    mine = [p for p in proofs if family_of(p.engine) == family]
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(mine, key=lambda p: p.tested_at or oldest, reverse=True)


def judge_proofs(
    proofs: list[RestoreProof], *, database: str, where: str, now: dt.datetime
) -> Finding:
    """The audit's finding about the last restore test of this database's backups."""
    if not proofs:
        return Finding(
            "restore_test",
            Severity.CRITICAL,
            f"no backup of {database} was ever restore-tested (history {where})",
            "backups nobody restores are a hope, not a plan",
            f"recovery-drill restore-test BACKUP --engine ENGINE (source database {database})",
        )
    last = proofs[0]
    tested = last.tested_at
    age_days = None if tested is None else (now - tested).total_seconds() / 86400
    detail = f"{last.backup_name} (run {last.run_id}), data " + (
        "verified" if last.data_verified else "NOT verified"
    )
    if not last.data_verified:
        return Finding(
            "restore_test",
            Severity.CRITICAL,
            "the last restore test of this database did not verify its data",
            detail,
            "restore-test again with --checks; find what differed in its journal",
        )
    if age_days is not None and age_days > STALE_PROOF_DAYS:
        return Finding(
            "restore_test",
            Severity.WARNING,
            f"last restore test {age_days:.0f} days ago",
            detail,
            "restore-test a recent backup (weekly at least)",
        )
    when = "at an unknown time" if age_days is None else f"{age_days * 24:.1f} h ago"
    return Finding("restore_test", Severity.OK, f"last restore test {when}", detail)
