"""The audit of a PostgreSQL database: what a read-only account can see, then the findings.

Everything runs in one read-only session (``default_transaction_read_only``, autocommit, so one
refused query does not abort the next). A setting or view this account may not read is
recorded as unknown and named in a finding, never guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from harness.audit.common import (
    TRACKING_TABLES,
    MigrationTable,
    classify_migration_columns,
    judge_migrations,
    judge_tables,
    judge_tracking,
    listed,
)
from harness.audit.model import Finding, Severity, TableInfo

SETTINGS = (
    "wal_level",
    "archive_mode",
    "archive_command",
    "archive_library",
    "archive_timeout",
    "data_checksums",
    "synchronous_standby_names",
    "max_wal_senders",
)
MAX_REPLAY_LAG_S = 60.0
STALE_ARCHIVE_S = 24 * 3600.0
MONITOR_ROLE = "pg_monitor (or pg_read_all_settings / pg_read_all_stats)"


@dataclass(frozen=True)
class Archiver:
    archived_count: int
    last_archived_wal: str | None
    last_archived_age_s: float | None
    failed_count: int
    last_failed_wal: str | None
    last_failed_age_s: float | None


@dataclass(frozen=True)
class Standby:
    name: str
    state: str | None  # None: not visible to this account
    sync_state: str | None
    replay_lag_s: float | None


@dataclass(frozen=True)
class Slot:
    name: str
    active: bool
    retained_bytes: int | None


@dataclass(frozen=True)
class PgFacts:
    version: str
    database: str
    in_recovery: bool
    settings: dict[str, str | None]  # None: not readable by this account
    tracking_tables: list[str] = field(default_factory=list)
    tables: list[TableInfo] = field(default_factory=list)
    migration_tables: list[MigrationTable] = field(default_factory=list)
    archiver: Archiver | None = None
    standbys: list[Standby] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    receiver_status: str | None = None
    last_replay_age_s: float | None = None


def _one(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        return row[0] if row else None


def _all(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _setting(conn: Any, name: str) -> str | None:
    import psycopg

    try:
        value = _one(conn, "SELECT current_setting(%s, true)", (name,))
    except psycopg.errors.InsufficientPrivilege:
        return None
    return "" if value is None else str(value)


def _age_s(value: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if value is None else max(0.0, (now - value).total_seconds())


def collect(conn: Any) -> PgFacts:
    """Read what the audit needs; ``conn`` is an autocommit psycopg connection."""
    import psycopg

    conn.execute("SET default_transaction_read_only = on")
    now = _one(conn, "SELECT now()")
    settings = {name: _setting(conn, name) for name in SETTINGS}
    tracking = [
        r[0]
        for r in _all(
            conn,
            "SELECT DISTINCT table_name FROM information_schema.tables "
            "WHERE table_name = ANY(%s) AND table_schema NOT IN ('pg_catalog', "
            "'information_schema')",
            (list(TRACKING_TABLES),),
        )
    ]
    tables = [
        TableInfo(
            schema=s,
            name=n,
            size_bytes=int(size) if size is not None else None,
            rows_estimate=int(rows) if rows is not None else None,
            stats_age_days=None if analysed is None else (now - analysed).total_seconds() / 86400,
        )
        for s, n, size, rows, analysed in _all(
            conn,
            "SELECT schemaname, relname, pg_total_relation_size(relid), n_live_tup, "
            "GREATEST(last_analyze, last_autoanalyze) FROM pg_stat_user_tables "
            "ORDER BY pg_total_relation_size(relid) DESC, schemaname, relname",
        )
    ]
    columns: dict[str, list[str]] = {}
    for table, column in _all(
        conn,
        "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns "
        "WHERE table_name ILIKE '%%migration%%' AND table_schema NOT IN ('pg_catalog', "
        "'information_schema') ORDER BY 1, ordinal_position",
    ):
        columns.setdefault(table, []).append(column)
    migration_tables = [classify_migration_columns(t, c) for t, c in columns.items()]
    archiver = None
    try:
        row = _all(
            conn,
            "SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
            "last_failed_wal, last_failed_time FROM pg_stat_archiver",
        )[0]
        archiver = Archiver(
            archived_count=int(row[0]),
            last_archived_wal=row[1],
            last_archived_age_s=_age_s(row[2], now),
            failed_count=int(row[3]),
            last_failed_wal=row[4],
            last_failed_age_s=_age_s(row[5], now),
        )
    except psycopg.errors.InsufficientPrivilege:
        archiver = None
    in_recovery = bool(_one(conn, "SELECT pg_is_in_recovery()"))
    standbys = [
        Standby(
            name=name or "?",
            state=state,
            sync_state=sync,
            replay_lag_s=lag.total_seconds() if lag is not None else None,
        )
        for name, state, sync, lag in _all(
            conn,
            "SELECT application_name, state, sync_state, replay_lag FROM pg_stat_replication",
        )
    ]
    slots = [
        Slot(name=n, active=bool(a), retained_bytes=int(b) if b is not None else None)
        for n, a, b in _all(
            conn,
            "SELECT slot_name, active, CASE WHEN restart_lsn IS NULL THEN NULL ELSE "
            "pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
            "ELSE pg_current_wal_lsn() END, restart_lsn) END FROM pg_replication_slots",
        )
    ]
    receiver = None
    replay_age = None
    if in_recovery:
        receiver = _one(conn, "SELECT status FROM pg_stat_wal_receiver")
        replay_age = _age_s(_one(conn, "SELECT pg_last_xact_replay_timestamp()"), now)
    return PgFacts(
        version=str(_one(conn, "SHOW server_version")),
        database=str(_one(conn, "SELECT current_database()")),
        in_recovery=in_recovery,
        settings=settings,
        tracking_tables=tracking,
        tables=tables,
        migration_tables=migration_tables,
        archiver=archiver,
        standbys=standbys,
        slots=slots,
        receiver_status=receiver,
        last_replay_age_s=replay_age,
    )


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def judge_pitr(facts: PgFacts) -> list[Finding]:
    """Point-in-time recovery: WAL level, archiving on, a command, and archiving working."""
    s = facts.settings
    out: list[Finding] = []
    if s.get("wal_level") == "minimal":
        out.append(
            Finding(
                "pitr",
                Severity.CRITICAL,
                "wal_level=minimal: no WAL archiving, no replica, no point-in-time recovery",
                fix="wal_level=replica (restart), then archive_mode=on and an archive_command",
            )
        )
    mode = s.get("archive_mode")
    command, library = s.get("archive_command"), s.get("archive_library")
    if mode is None:
        out.append(
            Finding(
                "pitr",
                Severity.WARNING,
                "archive_mode is not readable by this account",
                fix=f"audit with an account holding {MONITOR_ROLE}",
            )
        )
    elif mode == "off":
        out.append(
            Finding(
                "pitr",
                Severity.CRITICAL,
                "WAL archiving is off: a restore can only return to the last backup",
                "archive_mode=off",
                "archive_mode=on with an archive_command (or archive_library) shipping WAL off "
                "this host",
            )
        )
    elif command is None and library is None:
        out.append(
            Finding(
                "pitr",
                Severity.WARNING,
                f"archive_mode={mode}, but archive_command is not readable by this account",
                fix=f"audit with an account holding {MONITOR_ROLE}",
            )
        )
    elif not command and not library:
        out.append(
            Finding(
                "pitr",
                Severity.CRITICAL,
                f"archive_mode={mode} but no archive_command or archive_library: WAL piles up "
                "and nothing is archived",
                fix="set archive_command (or archive_library)",
            )
        )
    else:
        how = f"archive_command={command!r}" if command else f"archive_library={library!r}"
        out.append(Finding("pitr", Severity.OK, f"WAL archiving on ({how})"))
    a = facts.archiver
    if mode not in (None, "off") and a is not None:
        failing = a.failed_count > 0 and (
            a.last_archived_age_s is None
            or (a.last_failed_age_s is not None and a.last_failed_age_s < a.last_archived_age_s)
        )
        if failing:
            out.append(
                Finding(
                    "archiver",
                    Severity.CRITICAL,
                    "WAL archiving is failing",
                    f"{a.failed_count} failures, last {_ago(a.last_failed_age_s)} "
                    f"({a.last_failed_wal}); last success {_ago(a.last_archived_age_s)}",
                    "fix the archive_command (see the server log); until then PITR ends at the "
                    "last archived segment",
                )
            )
        elif a.archived_count == 0:
            out.append(
                Finding(
                    "archiver",
                    Severity.WARNING,
                    "no WAL segment has been archived yet",
                    fix="SELECT pg_switch_wal() and check pg_stat_archiver",
                )
            )
        elif a.last_archived_age_s is not None and a.last_archived_age_s > STALE_ARCHIVE_S:
            out.append(
                Finding(
                    "archiver",
                    Severity.WARNING,
                    f"last WAL archived {_ago(a.last_archived_age_s)}",
                    f"{a.last_archived_wal}",
                    "set archive_timeout so that a quiet server still archives",
                )
            )
        else:
            detail = f"{a.archived_count} archived, last {_ago(a.last_archived_age_s)}"
            if a.failed_count:
                detail += f"; {a.failed_count} earlier failures, recovered since"
            out.append(Finding("archiver", Severity.OK, "WAL archiving works", detail))
    checksums = s.get("data_checksums")
    if checksums == "off":
        out.append(
            Finding(
                "checksums",
                Severity.INFO,
                "data page checksums are off: corruption is found only when a page is read",
                fix="initdb --data-checksums, or pg_checksums --enable on a stopped cluster",
            )
        )
    elif checksums == "on":
        out.append(Finding("checksums", Severity.OK, "data page checksums on"))
    return out


def judge_replication(facts: PgFacts) -> list[Finding]:
    out: list[Finding] = []
    if facts.in_recovery:
        out.append(
            Finding(
                "replication",
                Severity.INFO,
                "this server is a standby (in recovery)",
                f"WAL receiver {facts.receiver_status or 'not running'}; last replayed "
                f"transaction {_ago(facts.last_replay_age_s)}",
            )
        )
        if facts.receiver_status not in (None, "streaming"):
            out.append(
                Finding(
                    "replication",
                    Severity.WARNING,
                    f"the WAL receiver is {facts.receiver_status}, not streaming",
                )
            )
    elif not facts.standbys:
        out.append(
            Finding(
                "replication",
                Severity.WARNING,
                "no standby streams from this server: no failover target",
                fix="a streaming replica (and a delayed one: a replica is not a backup)",
            )
        )
    else:
        hidden = [r.name for r in facts.standbys if r.state is None]
        if hidden:
            out.append(
                Finding(
                    "replication",
                    Severity.INFO,
                    f"{len(facts.standbys)} replication connections; their state is not "
                    "visible to this account",
                    fix=f"audit with an account holding {MONITOR_ROLE}",
                )
            )
        for r in facts.standbys:
            if r.state is None:
                continue
            if r.state != "streaming":
                out.append(
                    Finding("replication", Severity.WARNING, f"standby {r.name} is {r.state}")
                )
            elif r.replay_lag_s is not None and r.replay_lag_s > MAX_REPLAY_LAG_S:
                out.append(
                    Finding(
                        "replication",
                        Severity.WARNING,
                        f"standby {r.name} replays {r.replay_lag_s:.0f} s behind",
                    )
                )
            else:
                lag = "" if r.replay_lag_s is None else f", replay lag {r.replay_lag_s:.2f} s"
                out.append(
                    Finding(
                        "replication",
                        Severity.OK,
                        f"standby {r.name} streaming ({r.sync_state}{lag})",
                    )
                )
        visible = [r for r in facts.standbys if r.sync_state is not None]
        if visible and all(r.sync_state == "async" for r in visible):
            out.append(
                Finding(
                    "replication",
                    Severity.INFO,
                    "replication is asynchronous: a failover can lose the last acknowledged writes",
                    fix="synchronous_standby_names where no acknowledged write may be lost",
                )
            )
    idle = [s.name for s in facts.slots if not s.active]
    if idle:
        held = sum(s.retained_bytes or 0 for s in facts.slots if not s.active)
        out.append(
            Finding(
                "replication_slots",
                Severity.WARNING,
                f"{len(idle)} inactive replication slots hold WAL on this server",
                f"{listed(idle)}; {held / 2**20:.1f} MiB retained",
                "drop the slots nobody uses, or bring their consumer back",
            )
        )
    return out


def judge(facts: PgFacts) -> list[Finding]:
    """Every finding about a PostgreSQL database from its collected facts."""
    return [
        judge_tracking(facts.tracking_tables),
        *judge_tables(facts.tables),
        *judge_migrations(facts.migration_tables),
        *judge_pitr(facts),
        *judge_replication(facts),
    ]
