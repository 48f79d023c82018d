"""The audit of a MariaDB (or MySQL) database: what a read-only account can see, then findings.

Variables are read from ``@@global`` one by one, so a variable this flavour lacks is simply
absent. Replication state needs REPLICATION CLIENT (MariaDB: SLAVE MONITOR / BINLOG MONITOR);
without it the finding says so instead of guessing.
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
)
from harness.audit.model import Finding, Severity, TableInfo

VARIABLES = (
    "log_bin",
    "binlog_format",
    "sync_binlog",
    "innodb_flush_log_at_trx_commit",
    "binlog_expire_logs_seconds",
    "expire_logs_days",
    "gtid_strict_mode",
    "gtid_binlog_pos",
    "gtid_mode",
    "rpl_semi_sync_master_enabled",
    "read_only",
)
MAX_REPLICA_LAG_S = 60
MONITOR_GRANT = "REPLICATION CLIENT (MariaDB: SLAVE MONITOR, BINLOG MONITOR)"


@dataclass(frozen=True)
class ReplicaOf:
    """This server's own replication from a source (SHOW SLAVE STATUS)."""

    source: str
    io_running: str
    sql_running: str
    seconds_behind: int | None
    last_error: str


@dataclass(frozen=True)
class MariaFacts:
    version: str
    flavor: str  # mariadb or mysql
    database: str
    variables: dict[str, str]  # absent: this flavour has no such variable
    tracking_tables: list[str] = field(default_factory=list)
    tables: list[TableInfo] = field(default_factory=list)
    stats_visible: bool = True
    migration_tables: list[MigrationTable] = field(default_factory=list)
    replica_of: list[ReplicaOf] | None = None  # None: not visible to this account
    replicas_connected: int | None = None  # None: not visible to this account


def _rows(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _denied(exc: BaseException) -> bool:
    import pymysql

    code = exc.args[0] if exc.args else None
    # 1044/1045 access denied, 1142/1143 table/column denied, 1227 needs a privilege
    return isinstance(exc, pymysql.MySQLError) and code in (1044, 1045, 1142, 1143, 1227)


def collect(conn: Any) -> MariaFacts:
    """Read what the audit needs; ``conn`` is an autocommit PyMySQL connection."""
    import pymysql

    with conn.cursor() as cur:
        cur.execute("SET SESSION TRANSACTION READ ONLY")
    version = str(_rows(conn, "SELECT VERSION()")[0][0])
    flavor = "mariadb" if "mariadb" in version.lower() else "mysql"
    database = str(_rows(conn, "SELECT DATABASE()")[0][0])
    variables: dict[str, str] = {}
    for name in VARIABLES:
        try:
            value = _rows(conn, f"SELECT @@global.{name}")[0][0]
        except pymysql.MySQLError:
            continue  # not a variable of this flavour or version
        variables[name] = "" if value is None else str(value)
    tracking = [
        r[0]
        for r in _rows(
            conn,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
            f"AND table_name IN ({', '.join(['%s'] * len(TRACKING_TABLES))})",
            TRACKING_TABLES,
        )
    ]
    stats: dict[str, dt.datetime] = {}
    stats_visible = True
    try:
        for table, updated in _rows(
            conn,
            "SELECT table_name, last_update FROM mysql.innodb_table_stats "
            "WHERE database_name = DATABASE()",
        ):
            stats[table] = updated
    except pymysql.MySQLError as exc:
        if not _denied(exc):
            raise
        stats_visible = False
    now = _rows(conn, "SELECT NOW()")[0][0]
    tables = [
        TableInfo(
            schema=database,
            name=name,
            size_bytes=int(size) if size is not None else None,
            rows_estimate=int(rows) if rows is not None else None,
            stats_age_days=((now - stats[name]).total_seconds() / 86400 if name in stats else None),
        )
        for name, size, rows in _rows(
            conn,
            "SELECT table_name, data_length + index_length, table_rows "
            "FROM information_schema.tables WHERE table_schema = DATABASE() "
            "AND table_type = 'BASE TABLE' ORDER BY data_length + index_length DESC, table_name",
        )
    ]
    columns: dict[str, list[str]] = {}
    for table, column in _rows(
        conn,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND table_name LIKE '%%migration%%' "
        "ORDER BY table_name, ordinal_position",
    ):
        columns.setdefault(table, []).append(column)
    replica_of: list[ReplicaOf] | None
    try:
        status = "SHOW ALL SLAVES STATUS" if flavor == "mariadb" else "SHOW REPLICA STATUS"
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(status)
            replica_of = [
                ReplicaOf(
                    source=f"{r.get('Master_Host') or r.get('Source_Host')}",
                    io_running=str(r.get("Slave_IO_Running") or r.get("Replica_IO_Running")),
                    sql_running=str(r.get("Slave_SQL_Running") or r.get("Replica_SQL_Running")),
                    seconds_behind=_int(
                        r.get("Seconds_Behind_Master", r.get("Seconds_Behind_Source"))
                    ),
                    last_error=str(r.get("Last_Error") or ""),
                )
                for r in cur.fetchall()
            ]
    except pymysql.MySQLError as exc:
        if not _denied(exc):
            raise
        replica_of = None
    replicas: int | None
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GRANTS")
            grants = " ".join(str(r[0]) for r in cur.fetchall()).upper()
        sees_all = any(p in grants for p in ("ALL PRIVILEGES ON *.*", "PROCESS"))
        replicas = (
            int(
                _rows(
                    conn,
                    "SELECT COUNT(*) FROM information_schema.processlist "
                    "WHERE command IN ('Binlog Dump', 'Binlog Dump GTID')",
                )[0][0]
            )
            if sees_all
            else None
        )
    except pymysql.MySQLError as exc:
        if not _denied(exc):
            raise
        replicas = None
    return MariaFacts(
        version=version,
        flavor=flavor,
        database=database,
        variables=variables,
        tracking_tables=tracking,
        tables=tables,
        stats_visible=stats_visible,
        migration_tables=[classify_migration_columns(t, c) for t, c in columns.items()],
        replica_of=replica_of,
        replicas_connected=replicas,
    )


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _on(value: str | None) -> bool:
    return (value or "").upper() in ("ON", "1", "TRUE")


def judge_pitr(facts: MariaFacts) -> list[Finding]:
    v = facts.variables
    out: list[Finding] = []
    if not _on(v.get("log_bin")):
        out.append(
            Finding(
                "pitr",
                Severity.CRITICAL,
                "the binary log is off: no point-in-time recovery, no replica",
                "log_bin=OFF",
                "log_bin (and keep the binlogs off this host), binlog_format=ROW",
            )
        )
        return out
    fmt = (v.get("binlog_format") or "").upper()
    out.append(Finding("pitr", Severity.OK, f"binary log on (binlog_format={fmt or '?'})"))
    if fmt == "STATEMENT":
        out.append(
            Finding(
                "pitr",
                Severity.WARNING,
                "binlog_format=STATEMENT: replaying the log may not give the same data",
                fix="binlog_format=ROW",
            )
        )
    if v.get("sync_binlog") not in (None, "1"):
        out.append(
            Finding(
                "durability",
                Severity.WARNING,
                f"sync_binlog={v['sync_binlog']}: a crash can lose committed transactions from "
                "the binlog",
                fix="sync_binlog=1",
            )
        )
    if v.get("innodb_flush_log_at_trx_commit") not in (None, "1"):
        out.append(
            Finding(
                "durability",
                Severity.WARNING,
                f"innodb_flush_log_at_trx_commit={v['innodb_flush_log_at_trx_commit']}: a crash "
                "can lose acknowledged transactions",
                fix="innodb_flush_log_at_trx_commit=1",
            )
        )
    seconds = _int(v.get("binlog_expire_logs_seconds"))
    days = _int(v.get("expire_logs_days"))
    keep = seconds if seconds else (days * 86400 if days else 0)
    if keep:
        out.append(
            Finding(
                "binlog_retention",
                Severity.INFO,
                f"binlogs kept {keep / 86400:.1f} days: point-in-time recovery reaches back "
                "that far from the newest binlog, if the binlogs are also copied off this host",
            )
        )
    else:
        out.append(
            Finding(
                "binlog_retention",
                Severity.INFO,
                "binlogs are never purged automatically",
                fix="binlog_expire_logs_seconds, longer than the interval between full backups",
            )
        )
    if facts.flavor == "mysql":
        if (v.get("gtid_mode") or "").upper() != "ON":
            out.append(
                Finding(
                    "gtid",
                    Severity.WARNING,
                    f"gtid_mode={v.get('gtid_mode') or '?'}: failover and PITR positions by "
                    "file and offset",
                    fix="gtid_mode=ON, enforce_gtid_consistency=ON",
                )
            )
    else:
        pos = v.get("gtid_binlog_pos") or ""
        out.append(
            Finding(
                "gtid",
                Severity.OK if pos else Severity.INFO,
                f"GTID position {pos}" if pos else "no GTID in the binlog yet",
                f"gtid_strict_mode={v.get('gtid_strict_mode', '?')}",
            )
        )
    return out


def judge_replication(facts: MariaFacts) -> list[Finding]:
    out: list[Finding] = []
    if facts.replica_of is None:
        out.append(
            Finding(
                "replication",
                Severity.INFO,
                "replication state is not visible to this account",
                fix=f"audit with an account holding {MONITOR_GRANT}",
            )
        )
    for r in facts.replica_of or []:
        running = r.io_running.upper() == "YES" and r.sql_running.upper() == "YES"
        if not running:
            out.append(
                Finding(
                    "replication",
                    Severity.CRITICAL,
                    f"this replica of {r.source} is not replicating",
                    f"IO {r.io_running}, SQL {r.sql_running}; {r.last_error}".rstrip("; "),
                )
            )
        elif r.seconds_behind is not None and r.seconds_behind > MAX_REPLICA_LAG_S:
            out.append(
                Finding(
                    "replication",
                    Severity.WARNING,
                    f"this replica is {r.seconds_behind} s behind {r.source}",
                )
            )
        else:
            out.append(
                Finding(
                    "replication",
                    Severity.OK,
                    f"replicating from {r.source} ({r.seconds_behind} s behind)",
                )
            )
    if facts.replicas_connected is None:
        if facts.replica_of is not None and not facts.replica_of:
            out.append(
                Finding(
                    "replication",
                    Severity.INFO,
                    "replicas of this server are not visible to this account",
                    fix="audit with an account holding PROCESS",
                )
            )
    elif facts.replicas_connected == 0 and not facts.replica_of:
        out.append(
            Finding(
                "replication",
                Severity.WARNING,
                "no replica reads this server's binlog: no failover target",
                fix="a replica (and a delayed one: a replica is not a backup)",
            )
        )
    elif facts.replicas_connected:
        semi = _on(facts.variables.get("rpl_semi_sync_master_enabled"))
        out.append(
            Finding(
                "replication",
                Severity.OK,
                f"{facts.replicas_connected} replicas read this server's binlog",
                "semi-synchronous" if semi else "asynchronous",
            )
        )
        if not semi:
            out.append(
                Finding(
                    "replication",
                    Severity.INFO,
                    "replication is asynchronous: a failover can lose the last acknowledged writes",
                    fix="semi-synchronous replication where no acknowledged write may be lost",
                )
            )
    return out


def judge(facts: MariaFacts) -> list[Finding]:
    """Every finding about a MariaDB or MySQL database from its collected facts."""
    return [
        judge_tracking(facts.tracking_tables),
        *judge_tables(facts.tables, stats_visible=facts.stats_visible),
        *judge_migrations(facts.migration_tables),
        *judge_pitr(facts),
        *judge_replication(facts),
    ]
