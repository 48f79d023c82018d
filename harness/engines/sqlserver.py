"""SQL Server adapter: pyodbc (imported lazily), native BACKUP / RESTORE, bcp logical dumps.

Only where the official image (mcr.microsoft.com/mssql/server) can be pulled: the build
machines have no SQL Server package and no registry, so nothing here runs on them; its tests
skip there with that reason, and a drill without the image ends with exit 3.

pyodbc runs BACKUP and RESTORE as batches whose errors may arrive in a later result set, after
informational messages: without autocommit the statement fails ("cannot run inside a user
transaction") and without draining every result set a failure goes unnoticed. ``run_batch``
drains them all, so a failed BACKUP raises.
"""

from __future__ import annotations

import datetime as dt
import decimal
import shlex
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import ExecWaitStrategy

from harness.dataset import DatasetSpec, Fingerprint, rows, table_name
from harness.engines.base import (
    PROBE_TABLE,
    WRITES_TABLE,
    Credentials,
    DumpJob,
    Endpoint,
    ProbeFailed,
)
from harness.errors import EngineUnavailable

PORT = 1433
DATA_DIR = "/var/opt/mssql/data"
QUERY_TIMEOUT_S = 60
INSERT_BATCH_ROWS = 10_000
READY_TIMEOUT_S = 180
READY_POLL_S = 0.5
# 2022 images ship mssql-tools18 (sqlcmd/bcp need -C / -u to trust the self-signed
# certificate); older ones mssql-tools. The shell picks whichever exists.
_TOOLS = 'T="$(ls -d /opt/mssql-tools18/bin /opt/mssql-tools/bin 2>/dev/null | head -n1)"'
DRIVER_HINT = (
    "install the optional dependency group (`pip install 'recovery-drill[sqlserver]'`) and "
    "Microsoft's ODBC Driver 18 for SQL Server (package msodbcsql18)"
)

# The fingerprint in SQL: the same text form and 60-bit md5 prefix as harness.dataset. Every
# part is VARCHAR so HASHBYTES sees the same bytes as Python (NVARCHAR would hash UTF-16);
# DECIMAL(12,2) renders as 123.45 and DATE style 23 as yyyy-mm-dd. The first 15 hex digits are
# the first 7 bytes and the high nibble of the 8th; DECIMAL(38,0) keeps the sum exact.
_FINGERPRINT_SQL = (
    "SELECT COUNT_BIG(*), COALESCE(SUM(CAST(CAST(SUBSTRING(h.v, 1, 7) AS BIGINT) * 16 "
    "+ CAST(SUBSTRING(h.v, 8, 1) AS INT) / 16 AS DECIMAL(38, 0))), 0) FROM {table} "
    "CROSS APPLY (SELECT HASHBYTES('MD5', CONCAT_WS('|', CAST(id AS VARCHAR(20)), "
    "CAST(account AS VARCHAR(11)), CAST(amount AS VARCHAR(20)), note, "
    "CONVERT(VARCHAR(10), created, 23))) AS v) AS h"
)

# CREATE TABLE statements for every user table, from the catalog: column types, identity,
# nullability, defaults and the primary key (what the drill's tables use). One per line.
_SCHEMA_SQL = """SET NOCOUNT ON;
SELECT CONCAT('CREATE TABLE ', QUOTENAME(t.name), ' (',
  (SELECT STRING_AGG(CAST(CONCAT(QUOTENAME(c.name), ' ',
     CASE WHEN ty.name IN ('decimal', 'numeric')
            THEN CONCAT(ty.name, '(', c.precision, ',', c.scale, ')')
          WHEN ty.name IN ('varchar', 'char', 'varbinary', 'binary')
            THEN CONCAT(ty.name, '(', IIF(c.max_length = -1, 'max',
                        CAST(c.max_length AS VARCHAR(10))), ')')
          WHEN ty.name IN ('nvarchar', 'nchar')
            THEN CONCAT(ty.name, '(', IIF(c.max_length = -1, 'max',
                        CAST(c.max_length / 2 AS VARCHAR(10))), ')')
          WHEN ty.name IN ('datetime2', 'time', 'datetimeoffset')
            THEN CONCAT(ty.name, '(', c.scale, ')')
          ELSE ty.name END,
     IIF(c.is_identity = 1, CONCAT(' IDENTITY(', CAST(IDENT_SEED(t.name) AS VARCHAR(20)), ',',
                                   CAST(IDENT_INCR(t.name) AS VARCHAR(20)), ')'), ''),
     IIF(c.is_nullable = 1, ' NULL', ' NOT NULL'),
     IIF(dc.definition IS NULL, '', CONCAT(' DEFAULT ', dc.definition))) AS NVARCHAR(MAX)),
     ', ') WITHIN GROUP (ORDER BY c.column_id)
   FROM sys.columns c
   JOIN sys.types ty ON ty.user_type_id = c.user_type_id
   LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id
   WHERE c.object_id = t.object_id),
  (SELECT CONCAT(', PRIMARY KEY (',
            STRING_AGG(QUOTENAME(c.name), ', ') WITHIN GROUP (ORDER BY ic.key_ordinal), ')')
   FROM sys.indexes i
   JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
   JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
   WHERE i.object_id = t.object_id AND i.is_primary_key = 1),
  ');')
FROM sys.tables t WHERE t.is_ms_shipped = 0 ORDER BY t.name;"""
_TABLES_SQL = "SET NOCOUNT ON; SELECT name FROM sys.tables WHERE is_ms_shipped = 0 ORDER BY name"


def _pyodbc() -> Any:
    """The pyodbc module, imported only when a SQL Server drill really needs it."""
    try:
        import pyodbc
    except ImportError as exc:  # also raised when unixODBC's libodbc is missing
        raise EngineUnavailable(f"SQL Server needs pyodbc ({exc}); {DRIVER_HINT}") from exc
    return pyodbc


def odbc_driver(installed: Sequence[str]) -> str:
    """The newest "ODBC Driver NN for SQL Server" among the installed ODBC drivers."""
    found = sorted(
        (int(name.split()[2]), name)
        for name in installed
        if name.startswith("ODBC Driver ")
        and name.endswith(" for SQL Server")
        and name.split()[2].isdigit()
    )
    if not found:
        raise EngineUnavailable(
            f"no Microsoft ODBC driver for SQL Server installed (found: "
            f"{', '.join(installed) or 'none'}); {DRIVER_HINT}"
        )
    return found[-1][1]


def quote_literal(text: str) -> str:
    """A T-SQL N'...' literal."""
    return "N'" + text.replace("'", "''") + "'"


def quote_name(name: str) -> str:
    """A T-SQL [identifier]."""
    return "[" + name.replace("]", "]]") + "]"


def run_batch(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[list[tuple[Any, ...]]]:
    """Execute ``sql`` and drain every result set; an error in any of them raises.

    Returns the rows of each result set that has columns (in order). BACKUP and RESTORE report
    progress as messages and their failures (e.g. error 3201, then 3013 "BACKUP DATABASE is
    terminating abnormally") only when the driver reaches that result set.
    """
    cursor = conn.cursor()
    try:
        cursor.execute(sql, *([tuple(params)] if params else []))
        results: list[list[tuple[Any, ...]]] = []
        while True:
            if cursor.description is not None:
                results.append([tuple(r) for r in cursor.fetchall()])
            if not cursor.nextset():
                return results
    finally:
        cursor.close()


@dataclass(frozen=True)
class BackupFile:
    """One file of a native backup, as RESTORE FILELISTONLY lists it."""

    logical_name: str
    physical_name: str
    type: str  # D data, L log

    def moved_to(self, database: str, data_dir: str = DATA_DIR) -> str:
        """MOVE target on Linux: the data directory, one file per logical name."""
        suffix = "ldf" if self.type == "L" else "mdf"
        return f"{data_dir}/{database}_{self.logical_name}.{suffix}"


class SqlServerContainer(DockerContainer):
    """The official SQL Server image; ready when sa can log in and the drill database exists
    (the image has no variable that creates a database, so readiness creates it once)."""

    def __init__(self, image: str, *, credentials: Credentials, wait: bool = True) -> None:
        super().__init__(image)
        self.with_exposed_ports(PORT)
        self.with_env("ACCEPT_EULA", "Y")
        self.with_env("MSSQL_SA_PASSWORD", credentials.password)
        self.with_env("MSSQL_PID", "Developer")
        if not wait:
            return
        db = credentials.database
        create = f"IF DB_ID({quote_literal(db)}) IS NULL CREATE DATABASE {quote_name(db)}"
        ready = (
            f'{_TOOLS}; SQLCMDPASSWORD="$MSSQL_SA_PASSWORD" "$T/sqlcmd" -C -b -S localhost '
            f"-U {shlex.quote(credentials.user)} -Q {shlex.quote(create)}"
        )
        self.waiting_for(
            ExecWaitStrategy(["bash", "-c", ready])
            .with_startup_timeout(READY_TIMEOUT_S)
            .with_poll_interval(READY_POLL_S)
        )


class SqlServerEngine:
    """SQL Server 2022 through the official image; verified only where it can be pulled."""

    name = "sqlserver"
    default_image = "mcr.microsoft.com/mssql/server:2022-latest"
    local_image: str | None = None
    port = PORT
    datadir = "/var/opt/mssql"
    datadir_marker = "data/master.mdf"
    # Dumps, crashes and wipes only: native BACKUP LOG / RESTORE ... STOPAT exist below, but no
    # log shipping into a store, no physical backups of the data directory and no replicas.
    physical = None
    archive = None
    replication = None
    # The error log's lines about starting and recovering databases.
    recovery_log_markers = ("Recovery is complete", "Recovery of database", "Error:")

    def __init__(self) -> None:
        # The image's password policy wants upper, lower, digits and symbols, 8+ characters.
        self.credentials = Credentials(user="sa", password="Drill_Secret_42x", database="drill")

    def container(self, image: str, *, wait: bool = True) -> SqlServerContainer:
        return SqlServerContainer(image, credentials=self.credentials, wait=wait)

    def server_command(self) -> list[str]:
        """The image's own command."""
        return ["/opt/mssql/bin/sqlservr"]

    def after_start_script(self) -> None:
        """Nothing to prepare: readiness already created the drill database."""
        return None

    # -- connections and errors -----------------------------------------------------------------
    def connection_string(self, endpoint: Endpoint, *, driver: str, database: str) -> str:
        c = self.credentials
        password = "{" + c.password.replace("}", "}}") + "}"
        return (
            f"DRIVER={{{driver}}};SERVER=tcp:{endpoint.host},{endpoint.port};"
            f"DATABASE={database};UID={c.user};PWD={password};"
            "Encrypt=yes;TrustServerCertificate=yes"
        )

    def connect(self, endpoint: Endpoint, *, timeout_s: float, database: str | None = None) -> Any:
        pyodbc = _pyodbc()
        conn = pyodbc.connect(
            self.connection_string(
                endpoint,
                driver=odbc_driver(pyodbc.drivers()),
                database=database or self.credentials.database,
            ),
            # BACKUP/RESTORE refuse to run inside a transaction; every statement commits alone.
            autocommit=True,
            timeout=max(1, round(timeout_s)),
        )
        conn.timeout = QUERY_TIMEOUT_S
        return conn

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (_pyodbc().Error,)

    def is_definite_failure(self, exc: BaseException) -> bool:
        # pyodbc errors carry (SQLSTATE, message). Classes 22 (data), 23 (constraint), 28
        # (login), 40 (rolled back) and 42 (syntax, access, missing object) are the server
        # refusing the statement. 08 (connection), HYT00/HYT01 (timeouts) and the catch-all
        # HY000 leave the outcome unknown: unknown is never counted as lost, so doubt is safe.
        sqlstate = str(exc.args[0]) if getattr(exc, "args", None) else ""
        return sqlstate[:2] in {"22", "23", "28", "40", "42"}

    # -- schema, seed, fingerprints, writer -----------------------------------------------------
    def prepare(self, conn: Any) -> None:
        run_batch(
            conn,
            f"IF OBJECT_ID(N'dbo.{WRITES_TABLE}', N'U') IS NULL CREATE TABLE {WRITES_TABLE} "
            "(seq BIGINT PRIMARY KEY, client_ts DATETIME2(6) NOT NULL, "
            "payload VARCHAR(64) NOT NULL)",
        )
        run_batch(
            conn,
            f"IF OBJECT_ID(N'dbo.{PROBE_TABLE}', N'U') IS NULL CREATE TABLE {PROBE_TABLE} "
            "(id BIGINT IDENTITY(1,1) PRIMARY KEY, "
            "created_at DATETIME2(6) NOT NULL DEFAULT SYSUTCDATETIME())",
        )

    def seed(self, conn: Any, dataset: DatasetSpec) -> None:
        cursor = conn.cursor()
        cursor.fast_executemany = True  # one round trip per batch (array binding)
        try:
            for index in range(1, dataset.tables + 1):
                table = table_name(index)
                run_batch(
                    conn,
                    f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, account INT NOT NULL, "
                    "amount DECIMAL(12,2) NOT NULL, note VARCHAR(255) NOT NULL, "
                    "created DATE NOT NULL)",
                )
                insert = (
                    f"INSERT INTO {table} (id, account, amount, note, created) "
                    "VALUES (?, ?, ?, ?, ?)"
                )
                for batch in _batches(
                    rows(seed=dataset.seed, table_index=index, count=dataset.rows_per_table),
                    size=INSERT_BATCH_ROWS,
                    convert=_typed_row,
                ):
                    cursor.executemany(insert, batch)
                run_batch(conn, f"UPDATE STATISTICS {table}")
        finally:
            cursor.close()

    def fingerprints(self, conn: Any, tables: list[str]) -> dict[str, Fingerprint]:
        result: dict[str, Fingerprint] = {}
        for table in tables:
            (row,) = run_batch(conn, _FINGERPRINT_SQL.format(table=table))[0]
            result[table] = Fingerprint(rows=int(row[0]), digest=str(int(row[1])))
        return result

    def source_bytes(self, conn: Any, tables: list[str]) -> int:
        names = [*tables, WRITES_TABLE]
        marks = ", ".join("?" * len(names))
        sets = run_batch(
            conn,
            "SELECT COALESCE(SUM(CAST(a.total_pages AS BIGINT)) * 8192, 0) FROM sys.tables t "
            "JOIN sys.partitions p ON p.object_id = t.object_id "
            "JOIN sys.allocation_units a ON a.container_id = p.partition_id "
            f"WHERE t.name IN ({marks})",
            names,
        )
        return int(sets[0][0][0])

    def insert_write(self, conn: Any, seq: int, client_ts: dt.datetime) -> None:
        naive_utc = client_ts.astimezone(dt.UTC).replace(tzinfo=None)
        run_batch(
            conn,
            f"INSERT INTO {WRITES_TABLE} (seq, client_ts, payload) VALUES (?, ?, ?)",
            (seq, naive_utc, f"write-{seq}"),
        )

    def delete_writes(self, conn: Any, seqs: list[int]) -> int:
        deleted = 0
        for start in range(0, len(seqs), 1000):  # a statement takes at most 2100 parameters
            part = seqs[start : start + 1000]
            cursor = conn.cursor()
            try:
                marks = ", ".join("?" * len(part))
                cursor.execute(f"DELETE FROM {WRITES_TABLE} WHERE seq IN ({marks})", *part)
                deleted += max(0, cursor.rowcount)
            finally:
                cursor.close()
        return deleted

    def count_rows(self, conn: Any, table: str) -> int:
        return int(run_batch(conn, f"SELECT COUNT_BIG(*) FROM {table}")[0][0][0])

    def run_sql(self, conn: Any, statements: list[str]) -> None:
        """Run statements in one transaction (SQL Server DDL is transactional)."""
        script = "\n".join(statements)
        run_batch(
            conn,
            f"SET XACT_ABORT ON; BEGIN TRANSACTION;\n{script}\nCOMMIT TRANSACTION;",
        )

    def write_seqs(self, conn: Any) -> set[int]:
        return {int(r[0]) for r in run_batch(conn, f"SELECT seq FROM {WRITES_TABLE}")[0]}

    def probe(self, conn: Any) -> None:
        # SQL Server holds its files open, so a wiped data directory may still serve cached
        # pages: ask the server whether the database's files still exist (not verifiable on the
        # build machines).
        (state,) = run_batch(
            conn,
            "SELECT d.state_desc, (SELECT COUNT(*) FROM sys.database_files f "
            "CROSS APPLY sys.dm_os_file_exists(f.physical_name) e WHERE e.file_exists = 0) "
            "FROM sys.databases d WHERE d.name = DB_NAME()",
        )[0]
        if state[0] != "ONLINE" or int(state[1]) > 0:
            raise ProbeFailed(f"database {state[0]}, {state[1]} of its files missing")
        run_batch(conn, f"SELECT TOP 1 1 FROM {table_name(1)}")
        written = run_batch(conn, f"INSERT INTO {PROBE_TABLE} OUTPUT INSERTED.id DEFAULT VALUES")
        new_id = written[0][0][0]
        if not run_batch(conn, f"SELECT id FROM {PROBE_TABLE} WHERE id = ?", (new_id,))[0]:
            raise ProbeFailed(f"probe row {new_id} not readable after its insert")

    def in_recovery(self, conn: Any) -> bool:
        """The drill database is restoring or recovering (not yet online)."""
        (state,) = run_batch(conn, "SELECT state_desc FROM sys.databases WHERE name = DB_NAME()")[0]
        return str(state[0]) in {"RESTORING", "RECOVERING", "RECOVERY_PENDING"}

    # -- native backups (server-side paths) -------------------------------------------------------
    def backup_database(self, conn: Any, *, path: str, database: str | None = None) -> None:
        """BACKUP DATABASE ... WITH CHECKSUM to a file the server can write; raises on failure."""
        db = quote_name(database or self.credentials.database)
        run_batch(
            conn,
            f"BACKUP DATABASE {db} TO DISK = {quote_literal(path)} WITH CHECKSUM, INIT, FORMAT",
        )

    def backup_log(self, conn: Any, *, path: str, database: str | None = None) -> None:
        """BACKUP LOG ... WITH CHECKSUM (needs the FULL recovery model and a full backup)."""
        db = quote_name(database or self.credentials.database)
        run_batch(conn, f"BACKUP LOG {db} TO DISK = {quote_literal(path)} WITH CHECKSUM, INIT")

    def set_full_recovery(self, conn: Any, *, database: str | None = None) -> None:
        """Log backups (and STOPAT) need the FULL recovery model."""
        db = quote_name(database or self.credentials.database)
        run_batch(conn, f"ALTER DATABASE {db} SET RECOVERY FULL")

    def verify_backup(self, conn: Any, *, path: str) -> None:
        """RESTORE VERIFYONLY ... WITH CHECKSUM; raises if the backup is unreadable or corrupt."""
        run_batch(conn, f"RESTORE VERIFYONLY FROM DISK = {quote_literal(path)} WITH CHECKSUM")

    def backup_files(self, conn: Any, *, path: str) -> list[BackupFile]:
        """RESTORE FILELISTONLY: the logical and physical files a backup would recreate."""
        sets = run_batch(conn, f"RESTORE FILELISTONLY FROM DISK = {quote_literal(path)}")
        # Columns: LogicalName, PhysicalName, Type, ... (stable across versions).
        return [BackupFile(str(r[0]), str(r[1]), str(r[2])) for r in (sets[0] if sets else [])]

    def restore_statements(
        self,
        files: list[BackupFile],
        *,
        full: str,
        logs: Sequence[str] = (),
        database: str | None = None,
        stop_at: dt.datetime | None = None,
        data_dir: str = DATA_DIR,
    ) -> list[str]:
        """RESTORE DATABASE (MOVE to Linux paths) and RESTORE LOG ... STOPAT, in order."""
        name = database or self.credentials.database
        db = quote_name(name)
        moves = ", ".join(
            f"MOVE {quote_literal(f.logical_name)} TO {quote_literal(f.moved_to(name, data_dir))}"
            for f in files
        )
        last = "RECOVERY" if not logs else "NORECOVERY"
        statements = [
            f"RESTORE DATABASE {db} FROM DISK = {quote_literal(full)} "
            f"WITH {moves}, CHECKSUM, REPLACE, {last}"
        ]
        stop = (
            f", STOPAT = '{stop_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat()}'"
            if stop_at is not None
            else ""
        )
        for i, log_path in enumerate(logs):
            mode = "RECOVERY" if i == len(logs) - 1 else "NORECOVERY"
            statements.append(
                f"RESTORE LOG {db} FROM DISK = {quote_literal(log_path)} "
                f"WITH CHECKSUM{stop}, {mode}"
            )
        return statements

    def restore_database(
        self,
        conn: Any,
        *,
        full: str,
        logs: Sequence[str] = (),
        database: str | None = None,
        stop_at: dt.datetime | None = None,
    ) -> None:
        """Restore a full backup and its log backups, optionally stopping at ``stop_at``."""
        run_batch(conn, "USE [master]")
        files = self.backup_files(conn, path=full)
        for statement in self.restore_statements(
            files, full=full, logs=logs, database=database, stop_at=stop_at
        ):
            run_batch(conn, statement)

    # -- logical dumps run by the backup agent (the SQL Server image: sqlcmd and bcp) -------------
    def tool_env(self) -> dict[str, str]:
        return {"SQLCMDPASSWORD": self.credentials.password}

    def _login(self, host: str) -> str:
        return f"-S {shlex.quote(f'{host},{PORT}')} -U {shlex.quote(self.credentials.user)}"

    def dump_command(self, job: DumpJob) -> str:
        """Schema script plus one native-format bcp file per table, tarred and gzipped.

        The archive is built in a subshell that stops at the first failure; without pipefail
        that failure is hidden behind gzip, exactly as with pg_dump.
        """
        head = "set -o pipefail; " if job.pipefail else ""
        login, db = self._login(job.source_host), shlex.quote(job.database)
        sqlcmd = f'"$T/sqlcmd" -C -b {login} -d {db} -h -1'
        return (
            f"{head}{_TOOLS}; export SQLCMDPASSWORD={shlex.quote(job.password)}; "
            '( set -e; d="$(mktemp -d)"; '
            f'{sqlcmd} -y 0 -Q {shlex.quote(_SCHEMA_SQL)} -o "$d/schema.sql"; '
            f'{sqlcmd} -W -Q {shlex.quote(_TABLES_SQL)} -o "$d/tables"; '
            'while read -r t; do [ -n "$t" ] || continue; '
            f'"$T/bcp" "[dbo].[$t]" out "$d/$t.bcp" -n -u -d {db} {login} '
            '-P "$SQLCMDPASSWORD" >/dev/null; done < "$d/tables"; '
            'tar -C "$d" -cf - .; rm -rf "$d" ) '
            f"| gzip -1 > {shlex.quote(job.path)}"
        )

    def restore_command(self, *, path: str, target_host: str) -> str:
        login, db = self._login(target_host), shlex.quote(self.credentials.database)
        return (
            f'set -eo pipefail; {_TOOLS}; d="$(mktemp -d)"; '
            f'gunzip -c {shlex.quote(path)} | tar -xf - -C "$d"; '
            f'"$T/sqlcmd" -C -b {login} -d {db} -i "$d/schema.sql"; '
            'while read -r t; do [ -n "$t" ] || continue; '
            f'"$T/bcp" "[dbo].[$t]" in "$d/$t.bcp" -n -E -u -b 10000 -d {db} {login} '
            '-P "$SQLCMDPASSWORD" >/dev/null; done < "$d/tables"; rm -rf "$d"'
        )


def _typed_row(row: tuple[int, int, str, str, str]) -> tuple[Any, ...]:
    row_id, account, amount, note, created = row
    return row_id, account, decimal.Decimal(amount), note, dt.date.fromisoformat(created)


def _batches(
    items: Iterator[tuple[int, int, str, str, str]],
    *,
    size: int,
    convert: Callable[[tuple[int, int, str, str, str]], tuple[Any, ...]],
) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for item in items:
        batch.append(convert(item))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
