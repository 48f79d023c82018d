"""PostgreSQL adapter: psycopg 3, COPY seeding, pg_dump/pg_restore, the official image interface."""

from __future__ import annotations

import datetime as dt
import shlex
from typing import Any

import psycopg
import psycopg.errors
from testcontainers.community.postgres import PostgresContainer

from harness.dataset import Fingerprint, table_name, tsv_chunks
from harness.engines.base import PROBE_TABLE, WRITES_TABLE, Credentials, DumpJob, Endpoint
from harness.scenario.model import Dataset

# The fingerprint in SQL: the same text form and 60-bit md5 prefix as harness.dataset.
_FINGERPRINT_SQL = (
    "SELECT count(*), coalesce(sum(('x' || substr(md5(concat_ws('|', id, account, amount, note, "
    "created)), 1, 15))::bit(60)::bigint), 0)::text FROM {table}"
)


class PostgresEngine:
    """PostgreSQL through the official ``postgres`` image interface."""

    name = "postgres"
    default_image = "postgres:16"
    local_image = "recovery-drill/postgres:15-bookworm"
    port = 5432
    datadir = "/var/lib/postgresql/data"
    datadir_marker = "global/pg_control"

    def __init__(self) -> None:
        self.credentials = Credentials(user="drill", password="drill-secret", database="drill")

    def container(self, image: str) -> PostgresContainer:
        c = self.credentials
        return PostgresContainer(
            image, username=c.user, password=c.password, dbname=c.database, driver=None
        )

    def connect(self, endpoint: Endpoint, *, timeout_s: float) -> psycopg.Connection[Any]:
        c = self.credentials
        return psycopg.connect(
            host=endpoint.host,
            port=endpoint.port,
            user=c.user,
            password=c.password,
            dbname=c.database,
            connect_timeout=max(1, round(timeout_s)),
            autocommit=True,
            options="-c statement_timeout=5000 -c DateStyle=ISO",
        )

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (psycopg.Error,)

    def is_definite_failure(self, exc: BaseException) -> bool:
        # A server-side error carries an SQLSTATE: the statement did not apply (autocommit).
        # Anything else (connection lost mid-statement) leaves the outcome unknown.
        return isinstance(exc, psycopg.Error) and getattr(exc, "sqlstate", None) is not None

    def prepare(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {WRITES_TABLE} (seq bigint PRIMARY KEY, "
            "client_ts timestamptz NOT NULL, payload text NOT NULL)"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (id bigserial PRIMARY KEY, "
            "at timestamptz NOT NULL DEFAULT now())"
        )

    def seed(self, conn: psycopg.Connection[Any], dataset: Dataset) -> None:
        for index in range(1, dataset.tables + 1):
            table = table_name(index)
            conn.execute(
                f"CREATE TABLE {table} (id bigint PRIMARY KEY, account integer NOT NULL, "
                "amount numeric(12,2) NOT NULL, note text NOT NULL, created date NOT NULL)"
            )
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {table} (id, account, amount, note, created) FROM STDIN") as copy,
            ):
                for chunk in tsv_chunks(
                    seed=dataset.seed, table_index=index, count=dataset.rows_per_table
                ):
                    copy.write(chunk)
            conn.execute(f"ANALYZE {table}")

    def fingerprints(
        self, conn: psycopg.Connection[Any], tables: list[str]
    ) -> dict[str, Fingerprint]:
        result: dict[str, Fingerprint] = {}
        for table in tables:
            row = conn.execute(_FINGERPRINT_SQL.format(table=table)).fetchone()
            assert row is not None
            result[table] = Fingerprint(rows=int(row[0]), digest=str(row[1]))
        return result

    def source_bytes(self, conn: psycopg.Connection[Any], tables: list[str]) -> int:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
            ([*tables, WRITES_TABLE],),
        ).fetchone()
        return int(row[0]) if row else 0

    def insert_write(self, conn: psycopg.Connection[Any], seq: int, client_ts: dt.datetime) -> None:
        conn.execute(
            f"INSERT INTO {WRITES_TABLE} (seq, client_ts, payload) VALUES (%s, %s, %s)",
            (seq, client_ts, f"write-{seq}"),
        )

    def delete_writes(self, conn: psycopg.Connection[Any], seqs: list[int]) -> int:
        cur = conn.execute(f"DELETE FROM {WRITES_TABLE} WHERE seq = ANY(%s)", (seqs,))
        return cur.rowcount

    def write_seqs(self, conn: psycopg.Connection[Any]) -> set[int]:
        return {int(r[0]) for r in conn.execute(f"SELECT seq FROM {WRITES_TABLE}")}

    def probe(self, conn: psycopg.Connection[Any]) -> None:
        # The control file check catches a wiped data directory that cached pages still hide.
        conn.execute("SELECT pg_stat_file('global/pg_control')").fetchone()
        conn.execute(f"SELECT 1 FROM {table_name(1)} LIMIT 1").fetchone()
        row = conn.execute(f"INSERT INTO {PROBE_TABLE} DEFAULT VALUES RETURNING id").fetchone()
        if row is None:
            raise RuntimeError("probe write returned no row")
        conn.execute(f"SELECT 1 FROM {PROBE_TABLE} WHERE id = %s", (row[0],)).fetchone()

    def tool_env(self) -> dict[str, str]:
        return {"PGUSER": self.credentials.user, "PGPASSWORD": self.credentials.password}

    def dump_command(self, job: DumpJob) -> str:
        head = "set -o pipefail; " if job.pipefail else ""
        return (
            f"{head}PGPASSWORD={shlex.quote(job.password)} pg_dump --format=custom --compress=0 "
            f"-h {shlex.quote(job.source_host)} -d {shlex.quote(job.database)} "
            f"| gzip -1 > {shlex.quote(job.path)}"
        )

    def restore_command(self, *, path: str, target_host: str) -> str:
        return (
            f"set -o pipefail; gunzip -c {shlex.quote(path)} | pg_restore --no-owner "
            f"--exit-on-error -h {shlex.quote(target_host)} "
            f"-d {shlex.quote(self.credentials.database)}"
        )
