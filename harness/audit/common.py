"""Rules shared by every engine's audit: tracking tables, table statistics, migration tables."""

from __future__ import annotations

from dataclasses import dataclass

from harness.audit.model import Finding, Severity, TableInfo

# Seed 001: tables a team keeps to track its backups and their tests.
TRACKING_TABLES = (
    "backup_history",
    "backup_tests",
    "recovery_tests",
    "backup_catalog",
    "backup_verification_tests",
)
STALE_STATS_DAYS = 30.0
SHOWN = 5  # names listed in one finding before "and N more"


@dataclass(frozen=True)
class MigrationTable:
    """A table whose name says it tracks migrations, with its safety columns."""

    name: str
    backup_columns: tuple[str, ...]
    rollback_columns: tuple[str, ...]
    verification_columns: tuple[str, ...]


def classify_migration_columns(table: str, columns: list[str]) -> MigrationTable:
    low = [(c, c.lower()) for c in columns]
    return MigrationTable(
        name=table,
        backup_columns=tuple(c for c, lc in low if "backup" in lc),
        rollback_columns=tuple(c for c, lc in low if "rollback" in lc),
        verification_columns=tuple(c for c, lc in low if "verif" in lc),
    )


def listed(names: list[str]) -> str:
    head = ", ".join(names[:SHOWN])
    return head if len(names) <= SHOWN else f"{head} and {len(names) - SHOWN} more"


def judge_tracking(found: list[str]) -> Finding:
    if found:
        return Finding(
            "backup_tracking",
            Severity.OK,
            "backup tracking tables present",
            f"found: {', '.join(sorted(found))}",
        )
    return Finding(
        "backup_tracking",
        Severity.WARNING,
        "no backup tracking table in this database",
        f"none of {', '.join(TRACKING_TABLES)} exists",
        "catalogue backups and their restore tests (recovery-drill catalog keeps one)",
    )


def judge_tables(tables: list[TableInfo], *, stats_visible: bool = True) -> list[Finding]:
    if not tables:
        return [Finding("tables", Severity.INFO, "no user table in this database")]
    never = [f"{t.schema}.{t.name}" for t in tables if t.stats_age_days is None]
    stale = [
        f"{t.schema}.{t.name}"
        for t in tables
        if t.stats_age_days is not None and t.stats_age_days > STALE_STATS_DAYS
    ]
    out = []
    if not stats_visible:
        out.append(
            Finding(
                "table_statistics",
                Severity.INFO,
                "the age of table statistics is not visible to this account",
                f"{len(tables)} user tables",
            )
        )
    elif never:
        out.append(
            Finding(
                "table_statistics",
                Severity.WARNING,
                f"{len(never)} of {len(tables)} tables never analysed: backup status unknown",
                listed(never),
                "ANALYZE them, and make sure a verified backup covers them",
            )
        )
    if stale:
        out.append(
            Finding(
                "table_statistics",
                Severity.WARNING,
                f"{len(stale)} tables with statistics older than {STALE_STATS_DAYS:.0f} days",
                listed(stale),
                "verify that recent backups cover them",
            )
        )
    if stats_visible and not never and not stale:
        out.append(
            Finding(
                "table_statistics",
                Severity.OK,
                f"all {len(tables)} tables analysed within {STALE_STATS_DAYS:.0f} days",
            )
        )
    return out


def judge_migrations(tables: list[MigrationTable]) -> list[Finding]:
    if not tables:
        return [
            Finding(
                "migration_tracking",
                Severity.INFO,
                "no migration tracking table",
                "no table named like %migration%",
            )
        ]
    out = []
    for t in tables:
        has = [
            label
            for label, cols in (
                ("backup reference", t.backup_columns),
                ("rollback planning", t.rollback_columns),
                ("verification tracking", t.verification_columns),
            )
            if cols
        ]
        if len(has) == 3:
            out.append(Finding("migration_tracking", Severity.OK, f"{t.name}: {', '.join(has)}"))
        else:
            missing = [
                x
                for x in ("backup reference", "rollback planning", "verification tracking")
                if x not in has
            ]
            out.append(
                Finding(
                    "migration_tracking",
                    Severity.WARNING,
                    f"migration table {t.name} has no {' / '.join(missing)}",
                    f"has: {', '.join(has) or 'none of them'}",
                    "record per migration the backup taken, the rollback plan and its verification",
                )
            )
    return out
