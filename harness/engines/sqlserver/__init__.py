"""SQL Server adapter: pyodbc (imported lazily), native BACKUP / RESTORE, bcp logical dumps.

Only where the official image (mcr.microsoft.com/mssql/server) can be pulled: the build
machines have no SQL Server package and no registry, so nothing here runs on them; its tests
skip there with that reason, and a drill without the image ends with exit 3.

The engine is the core alone (tsql.py: the driver and batches; tools.py: sqlcmd/bcp dumps;
native.py: native BACKUP / RESTORE statements, not yet shipped into a store): it holds no
physical-backup, log-archive or replication collaborator.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterator
from typing import Any

from harness.dataset import DatasetSpec, Fingerprint, rows, table_name
from harness.engines.base import (
    PROBE_TABLE,
    WRITES_TABLE,
    Credentials,
    Endpoint,
    ProbeFailed,
)
from harness.engines.sqlserver.container import SqlServerContainer
from harness.engines.sqlserver.native import NativeBackups
from harness.engines.sqlserver.tools import DumpTools
from harness.engines.sqlserver.tsql import PORT, odbc_driver, pyodbc_module, run_batch

QUERY_TIMEOUT_S = 60
INSERT_BATCH_ROWS = 10_000

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


class SqlServerEngine(NativeBackups, DumpTools):
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
    # The table the probe reads (seeded table 1).
    probe_read_table = table_name(1)
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

        def braced(value: str) -> str:  # an ODBC attribute value, quoted as {...}
            return "{" + value.replace("}", "}}") + "}"

        return (
            f"DRIVER={{{driver}}};SERVER=tcp:{endpoint.host},{endpoint.port};"
            f"DATABASE={braced(database)};UID={braced(c.user)};PWD={braced(c.password)};"
            "Encrypt=yes;TrustServerCertificate=yes"
        )

    def connect(self, endpoint: Endpoint, *, timeout_s: float, database: str | None = None) -> Any:
        pyodbc = pyodbc_module()
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
        return (pyodbc_module().Error,)

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

    def seed_plan(self, dataset: DatasetSpec, *, parts: int) -> None:
        """Rows come from Python (harness.dataset.rows) over one connection: ``seed`` only."""
        return None

    def seed(self, conn: Any, dataset: DatasetSpec) -> None:
        for index in range(1, dataset.tables + 1):
            self.seed_table(conn, dataset, index)

    def seed_table(self, conn: Any, dataset: DatasetSpec, index: int) -> None:
        cursor = conn.cursor()
        cursor.fast_executemany = True  # one round trip per batch (array binding)
        try:
            table = table_name(index)
            run_batch(
                conn,
                f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, account INT NOT NULL, "
                "amount DECIMAL(12,2) NOT NULL, note VARCHAR(255) NOT NULL, "
                "created DATE NOT NULL)",
            )
            insert = (
                f"INSERT INTO {table} (id, account, amount, note, created) VALUES (?, ?, ?, ?, ?)"
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
        run_batch(conn, f"SELECT TOP 1 1 FROM {self.probe_read_table}")
        written = run_batch(conn, f"INSERT INTO {PROBE_TABLE} OUTPUT INSERTED.id DEFAULT VALUES")
        new_id = written[0][0][0]
        if not run_batch(conn, f"SELECT id FROM {PROBE_TABLE} WHERE id = ?", (new_id,))[0]:
            raise ProbeFailed(f"probe row {new_id} not readable after its insert")

    def in_recovery(self, conn: Any) -> bool:
        """The drill database is restoring or recovering (not yet online)."""
        (state,) = run_batch(conn, "SELECT state_desc FROM sys.databases WHERE name = DB_NAME()")[0]
        return str(state[0]) in {"RESTORING", "RECOVERING", "RECOVERY_PENDING"}


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
