"""The history's catalog of backups made outside the tool: each restore test recorded, and
the catalog listed with when each backup (drilled or external) was last proven restorable."""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness.report.history.db import Database
from harness.report.restore_tests import RestoreTestResult


@dataclass(frozen=True)
class CatalogRow:
    """One catalogued backup and its restore-test state."""

    origin: str  # external (restore-test) or drill
    name: str
    engine: str
    backup_type: str
    location: str
    size_bytes: int | None
    sha256: str
    ended_at: str | None
    verification: str
    last_tested_at: str | None
    last_status: str | None
    last_restorable_at: str | None


def record_restore_test(db: Database, r: RestoreTestResult) -> None:
    """Upsert the backup (keyed by location and sha256) and add the test."""
    passed = r.status == "pass"
    with db.transaction():
        found = db.query(
            "SELECT last_restorable_at FROM external_backups "
            "WHERE backup_location = ? AND sha256 = ?",
            (r.location, r.sha256),
        )
        if not found:
            db.execute(
                "INSERT INTO external_backups (backup_location, sha256, backup_name, backup_type, "
                "backup_kind, engine, source_database, backup_start_time, backup_end_time, "
                "backup_size_bytes, verification, is_verified, first_seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.location,
                    r.sha256,
                    r.name,
                    r.backup_type,
                    r.kind,
                    r.engine,
                    r.source_database,
                    r.backup_started_at or None,
                    r.backup_ended_at or None,
                    r.size_bytes,
                    r.verification,
                    passed,
                    r.started_at,
                ),
            )
        last_ok = r.ended_at if passed else (found[0][0] if found else None)
        db.execute(
            "UPDATE external_backups SET verification = ?, is_verified = ?, "
            "last_restore_test_at = ?, last_restore_test_status = ?, last_restorable_at = ? "
            "WHERE backup_location = ? AND sha256 = ?",
            (
                r.verification,
                passed,
                r.ended_at,
                r.status,
                last_ok,
                r.location,
                r.sha256,
            ),
        )
        db.execute(
            "INSERT INTO external_restore_tests (backup_location, sha256, started_at, ended_at, "
            "status, reason, fetch_s, restore_s, verify_s, rto_s, verification, result) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.location,
                r.sha256,
                r.started_at,
                r.ended_at,
                r.status,
                r.reason,
                r.fetch_s,
                r.restore_s,
                r.verify_s,
                r.rto_s,
                r.verification,
                json.dumps(r.as_dict()),
            ),
        )


def catalog(db: Database) -> list[CatalogRow]:
    """External backups, then drill backups, each with when it was last proven restorable."""
    rows = [
        CatalogRow("external", *r)
        for r in db.query(
            "SELECT backup_name, engine, backup_type, backup_location, backup_size_bytes, "
            "sha256, backup_end_time, verification, last_restore_test_at, "
            "last_restore_test_status, last_restorable_at FROM external_backups "
            "ORDER BY last_restore_test_at DESC"
        )
    ]
    for r in db.query(
        "SELECT b.backup_name, b.engine, b.backup_method, b.location, b.size_bytes, b.sha256, "
        "b.ended_at, b.verification, d.started_at, d.verdict FROM backup_catalog b "
        "JOIN drill_runs d ON d.run_id = b.run_id ORDER BY d.started_at DESC"
    ):
        name, engine, method, location, size, sha, ended, level, run_at, verdict = r
        tested = level == "restore_tested"
        rows.append(
            CatalogRow(
                "drill",
                str(name),
                str(engine),
                str(method),
                str(location or ""),
                size,
                str(sha or ""),
                ended,
                str(level),
                str(run_at) if tested else None,
                str(verdict) if tested else None,
                str(ended) if tested else None,
            )
        )
    return rows
