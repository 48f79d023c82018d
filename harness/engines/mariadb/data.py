"""The drill's tables on MariaDB and MySQL 8: schema, server-side seeding, SQL
fingerprints, the writer's statements and migrations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from harness.dataset import DatasetSpec, Fingerprint, SeedPlan, id_ranges, select_sql, table_name
from harness.engines.base import PROBE_TABLE, WRITES_TABLE

if TYPE_CHECKING:
    from pymysql.connections import Connection

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
        plan = self.seed_plan(dataset, parts=1)
        for stage in plan.stages():
            for unit in stage:
                self.run_sql(conn, unit)

    def seed_plan(self, dataset: DatasetSpec, *, parts: int) -> SeedPlan:
        # The rows are computed on the server (harness.dataset.select_sql) from a Sequence-engine
        # table on MariaDB, a recursive CTE on MySQL 8: nothing crosses the wire. The primary key
        # is InnoDB's clustered index, so it stays (each range's ids arrive in order).
        mysql = getattr(getattr(self, "flavor", None), "name", "mariadb") == "mysql"
        create, load, finish = [], [], []
        for index in range(1, dataset.tables + 1):
            table = table_name(index)
            create.append(
                [
                    f"CREATE TABLE {table} (id BIGINT NOT NULL PRIMARY KEY, account INT NOT NULL, "
                    "amount DECIMAL(12,2) NOT NULL, note VARCHAR(255) NOT NULL, "
                    "created DATE NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
                ]
            )
            for first, last in id_ranges(dataset.rows_per_table, parts):
                unit = []
                if mysql:
                    unit.append(f"SET SESSION cte_max_recursion_depth = {last - first + 2}")
                    ids = (
                        f"(WITH RECURSIVE n (id) AS (SELECT {first} UNION ALL SELECT id + 1 "
                        f"FROM n WHERE id < {last}) SELECT id FROM n) AS g"
                    )
                else:
                    ids = f"(SELECT seq AS id FROM seq_{first}_to_{last}) AS g"
                select = select_sql(seed=dataset.seed, table_index=index, ids=ids, dialect="mysql")
                unit.append(f"INSERT INTO {table} (id, account, amount, note, created) {select}")
                load.append(unit)
            finish.append([f"ANALYZE TABLE {table}"])
        return SeedPlan(create, load, finish)

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
