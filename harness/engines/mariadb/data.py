"""The drill's tables on MariaDB and MySQL 8: schema, LOAD DATA LOCAL seeding, SQL
fingerprints, the writer's statements and migrations."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from harness.dataset import DatasetSpec, Fingerprint, table_name, tsv_chunks
from harness.engines.base import PROBE_TABLE, WRITES_TABLE

if TYPE_CHECKING:
    from pymysql.connections import Connection
    from pymysql.cursors import Cursor

# Rows per LOAD DATA statement: one autocommit transaction each, bounded temp file size.
LOAD_CHUNK_ROWS = 100_000
# The fingerprint in SQL: the same text form and 60-bit md5 prefix as harness.dataset. The
# CAST keeps SUM exact (a sum of integers is DECIMAL; a sum of CONV's strings would be DOUBLE).
_FINGERPRINT_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, account, amount, note, "
    "created)), 15), 16, 10) AS UNSIGNED)), 0) FROM {table}"
)


class MariaDBData:
    """SQL on the drill's tables (no state: every method takes its connection)."""

    def prepare(self, conn: Connection) -> None:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {WRITES_TABLE} (seq BIGINT PRIMARY KEY, "
                "client_ts DATETIME(6) NOT NULL, payload VARCHAR(64) NOT NULL) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                "created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )

    def seed(self, conn: Connection, dataset: DatasetSpec) -> None:
        with (
            conn.cursor() as cur,
            tempfile.TemporaryDirectory(prefix="recovery-drill-seed-") as tmp,
        ):
            chunk_file = Path(tmp) / "rows.tsv"
            for index in range(1, dataset.tables + 1):
                table = table_name(index)
                cur.execute(
                    f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, account INT NOT NULL, "
                    "amount DECIMAL(12,2) NOT NULL, note VARCHAR(255) NOT NULL, "
                    "created DATE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
                )
                for chunk in tsv_chunks(
                    seed=dataset.seed,
                    table_index=index,
                    count=dataset.rows_per_table,
                    chunk_rows=LOAD_CHUNK_ROWS,
                ):
                    chunk_file.write_bytes(chunk)
                    _load(cur, table, chunk_file, expected=chunk.count(b"\n"))
                cur.execute(f"ANALYZE TABLE {table}")
                cur.fetchall()

    def fingerprints(
        self,
        conn: Connection,
        tables: list[str],
    ) -> dict[str, Fingerprint]:
        result: dict[str, Fingerprint] = {}
        with conn.cursor() as cur:
            for table in tables:
                cur.execute(_FINGERPRINT_SQL.format(table=table))
                row = cur.fetchone()
                assert row is not None
                result[table] = Fingerprint(rows=int(row[0]), digest=str(int(row[1])))
        return result

    def source_bytes(self, conn: Connection, tables: list[str]) -> int:
        names = [*tables, WRITES_TABLE]
        marks = ", ".join(["%s"] * len(names))
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COALESCE(SUM(data_length + index_length), 0) "
                "FROM information_schema.TABLES "
                f"WHERE table_schema = DATABASE() AND table_name IN ({marks})",
                names,
            )
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def insert_write(self, conn: Connection, seq: int, client_ts: dt.datetime) -> None:
        naive_utc = client_ts.astimezone(dt.UTC).replace(tzinfo=None)
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {WRITES_TABLE} (seq, client_ts, payload) VALUES (%s, %s, %s)",
                (seq, naive_utc, f"write-{seq}"),
            )

    def delete_writes(self, conn: Connection, seqs: list[int]) -> int:
        if not seqs:
            return 0
        marks = ", ".join(["%s"] * len(seqs))
        with conn.cursor() as cur:
            return int(cur.execute(f"DELETE FROM {WRITES_TABLE} WHERE seq IN ({marks})", seqs))

    def count_rows(self, conn: Connection, table: str) -> int:
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def run_sql(self, conn: Connection, statements: list[str]) -> None:
        """Run statements in one transaction (DDL commits implicitly here, unlike PostgreSQL)."""
        with conn.cursor() as cur:
            conn.begin()
            try:
                for statement in statements:
                    cur.execute(statement)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def write_seqs(self, conn: Connection) -> set[int]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT seq FROM {WRITES_TABLE}")
            return {int(r[0]) for r in cur.fetchall()}


def _load(cur: Cursor, table: str, path: Path, *, expected: int) -> None:
    # With LOCAL the server cannot abort the transfer, so bad rows become warnings, not
    # errors (duplicates are skipped as with IGNORE): count both and refuse either.
    import pymysql.err

    cur.execute(
        f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4 "
        "FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' "
        "(id, account, amount, note, created)",
        (str(path),),
    )
    loaded = cur.rowcount
    cur.execute("SHOW WARNINGS LIMIT 3")
    warnings = cur.fetchall()
    if loaded != expected or warnings:
        raise pymysql.err.DataError(
            0, f"LOAD DATA into {table} loaded {loaded} of {expected} rows: {warnings}"
        )
