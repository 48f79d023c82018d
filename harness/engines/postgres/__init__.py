"""PostgreSQL adapter: psycopg 3, COPY seeding, pg_dump/pg_restore, the official image interface.

The engine holds its collaborators: physical backups (pg_basebackup, physical.py), WAL
archiving and point-in-time recovery (archive.py), streaming replicas (replication.py);
pgBackRest (pgbackrest.py).
psycopg is imported when a server is first reached, so that validating a scenario needs no
driver.
"""

from __future__ import annotations

import datetime as dt
import shlex
from typing import TYPE_CHECKING, Any

from testcontainers.community.postgres import PostgresContainer
from testcontainers.core.container import DockerContainer

from harness.dataset import DatasetSpec, Fingerprint, SeedPlan, table_name
from harness.engines.base import (
    PROBE_TABLE,
    WRITES_TABLE,
    Credentials,
    DumpJob,
    Endpoint,
    ProbeFailed,
)
from harness.engines.postgres.archive import PostgresArchive
from harness.engines.postgres.pgbackrest import PgBackRest
from harness.engines.postgres.physical import PostgresPhysical
from harness.engines.postgres.replication import PostgresReplication
from harness.engines.postgres.seed import SeedVia, seed_plan
from harness.lab.readiness import ExecUntilReady

if TYPE_CHECKING:
    import psycopg

# Every statement of the harness's sessions (a writer's insert, a probe) ends within this.
STATEMENT_TIMEOUT_MS = 5000
# How often readiness is polled (see _PostgresContainer).
READY_POLL_S = 0.2

# The fingerprint in SQL: the same text form and 60-bit md5 prefix as harness.dataset.
_FINGERPRINT_SQL = (
    "SELECT count(*), coalesce(sum(('x' || substr(md5(concat_ws('|', id, account, amount, note, "
    "created)), 1, 15))::bit(60)::bigint), 0)::text FROM {table}"
)


class _PostgresContainer(PostgresContainer):
    """testcontainers' PostgreSQL container, polled every 0.2 s instead of every second.

    Readiness is part of a restore's measured time: a coarse poll would add up to a second
    to every restore RTO (and bias comparisons with engines polled faster).
    """

    def _connect(self) -> None:
        # The password comes from the container's own environment, never from argv.
        ExecUntilReady(
            [
                "sh",
                "-c",
                f'PGPASSWORD="$POSTGRES_PASSWORD" psql --username {shlex.quote(self.username)} '
                f"--dbname {shlex.quote(self.dbname)} --host 127.0.0.1 -c 'select 1'",
            ]
        ).with_poll_interval(READY_POLL_S).wait_until_ready(self)


class PostgresEngine:
    """PostgreSQL through the official ``postgres`` image interface."""

    name = "postgres"
    default_image = "postgres:16"
    local_image = "recovery-drill/postgres:15-bookworm"
    port = 5432
    datadir = "/var/lib/postgresql/data"
    datadir_marker = "global/pg_control"

    # Small WAL segments so that archiving (archive_timeout) and recycling happen within a drill.
    initdb_args = "--wal-segsize=1"
    recovery_log_markers = (
        "recovery stopping",
        "last completed transaction",
        "recovery ended before configured recovery target was reached",
        "redo done at",
        "could not restore file",
        "requested WAL segment",
        "selected new timeline ID",
        "archive recovery complete",
        "before consistent recovery point",
        "FATAL",
    )

    # The account every server of a drill gets (the image's POSTGRES_* variables).
    default_credentials = Credentials(user="drill", password="drill-secret", database="drill")

    # The table the probe reads (a team's own database has no seeded tables: the probe table).
    probe_read_table = table_name(1)

    # How seed_plan loads the rows: "copy" (COPY FREEZE of rows a second backend computes) or
    # "insert" (INSERT ... SELECT, the earlier path; the bench compares both).
    seed_via: SeedVia = "copy"

    def __init__(self) -> None:
        self.credentials = self.default_credentials
        self.physical = PostgresPhysical(self)
        self.archive = PostgresArchive(self)
        self.replication = PostgresReplication(self)
        self.pgbackrest = PgBackRest(self)

    def container(self, image: str, *, wait: bool = True) -> DockerContainer:
        c = self.credentials
        env = {
            "POSTGRES_USER": c.user,
            "POSTGRES_PASSWORD": c.password,
            "POSTGRES_DB": c.database,
            "POSTGRES_INITDB_ARGS": self.initdb_args,
        }
        if not wait:
            # For a server that starts from a prepared data directory (recovery, a replica):
            # readiness is judged by the caller, who can tell a failed recovery from a slow one.
            return DockerContainer(image).with_envs(**env).with_exposed_ports(self.port)
        container = _PostgresContainer(
            image, username=c.user, password=c.password, dbname=c.database, driver=None
        )
        return container.with_env("POSTGRES_INITDB_ARGS", self.initdb_args)

    def server_command(self) -> list[str]:
        """Server settings of a primary: replication always (archiving: archive.server_args)."""
        return [
            "postgres",
            "-c",
            "wal_level=replica",
            "-c",
            "max_wal_senders=10",
            "-c",
            "max_wal_size=32MB",
            "-c",
            "min_wal_size=4MB",
            "-c",
            "wal_keep_size=0",
        ]

    def after_start_script(self) -> str:
        """Shell (as root, in the server container): allow replication connections."""
        hba = f"{self.datadir}/pg_hba.conf"
        # Re-read pg_hba.conf (the server runs as PID 1 of its container).
        return (
            f"grep -q '^host replication all all' {hba} || "
            f"echo 'host replication all all scram-sha-256' >> {hba} && kill -HUP 1"
        )

    def connect(self, endpoint: Endpoint, *, timeout_s: float) -> psycopg.Connection[Any]:
        import psycopg

        c = self.credentials
        return psycopg.connect(
            host=endpoint.host,
            port=endpoint.port,
            user=c.user,
            password=c.password,
            dbname=c.database,
            connect_timeout=max(1, round(timeout_s)),
            autocommit=True,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c DateStyle=ISO",
        )

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error,)

    def is_definite_failure(self, exc: BaseException) -> bool:
        # A server-side error carries an SQLSTATE: the statement did not apply (autocommit).
        # Anything else (connection lost mid-statement) leaves the outcome unknown.
        import psycopg

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

    def seed(self, conn: psycopg.Connection[Any], dataset: DatasetSpec) -> None:
        plan = self.seed_plan(dataset, parts=1)
        for stage in plan.stages():
            for unit in stage:
                self.run_sql(conn, unit)

    def seed_plan(self, dataset: DatasetSpec, *, parts: int) -> SeedPlan:
        # The rows are computed on the server and fed through COPY FREEZE (seed.py): nothing
        # crosses the wire. ``seed_via = "insert"`` keeps INSERT ... SELECT (same rows).
        c = self.credentials
        return seed_plan(dataset, parts=parts, user=c.user, database=c.database, via=self.seed_via)

    def fingerprints(
        self, conn: psycopg.Connection[Any], tables: list[str]
    ) -> dict[str, Fingerprint]:
        conn.execute("SET statement_timeout = 0")  # fingerprinting a big table takes a while
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

    def count_rows(self, conn: psycopg.Connection[Any], table: str) -> int:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def write_seqs(self, conn: psycopg.Connection[Any]) -> set[int]:
        return {int(r[0]) for r in conn.execute(f"SELECT seq FROM {WRITES_TABLE}")}

    def probe(self, conn: psycopg.Connection[Any]) -> None:
        # The control file check catches a wiped data directory that cached pages still hide.
        conn.execute("SELECT pg_stat_file('global/pg_control')").fetchone()
        conn.execute(f"SELECT 1 FROM {self.probe_read_table} LIMIT 1").fetchone()
        row = conn.execute(f"INSERT INTO {PROBE_TABLE} DEFAULT VALUES RETURNING id").fetchone()
        if row is None:
            raise ProbeFailed("probe write returned no row")
        conn.execute(f"SELECT 1 FROM {PROBE_TABLE} WHERE id = %s", (row[0],)).fetchone()

    def in_recovery(self, conn: psycopg.Connection[Any]) -> bool:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        return bool(row and row[0])

    def run_sql(self, conn: psycopg.Connection[Any], statements: list[str]) -> None:
        """Run statements in one transaction (a migration or a compensating script)."""
        with conn.transaction():
            for statement in statements:
                conn.execute(statement.encode())

    def tool_env(self, *, password: str | None = None) -> dict[str, str]:
        password = self.credentials.password if password is None else password
        return {"PGUSER": self.credentials.user, "PGPASSWORD": password}

    def dump_command(self, job: DumpJob) -> str:
        # The password is in the environment (tool_env(password=job.password)), not here.
        head = "set -o pipefail; " if job.pipefail else ""
        return (
            f"{head}pg_dump --format=custom --compress=0 "
            f"-h {shlex.quote(job.source_host)} -d {shlex.quote(job.database)} "
            f"| gzip -1 > {shlex.quote(job.path)}"
        )

    def restore_command(self, *, path: str, target_host: str) -> str:
        return (
            f"set -o pipefail; gunzip -c {shlex.quote(path)} | pg_restore --no-owner "
            f"--exit-on-error -h {shlex.quote(target_host)} "
            f"-d {shlex.quote(self.credentials.database)}"
        )

    def parallel_dump_command(self, job: DumpJob, *, jobs: int) -> str:
        """pg_dump's directory format with ``jobs`` workers (each table compressed by pg_dump
        itself), stored as one tar file so that the store holds one file per backup."""
        head = "set -o pipefail; " if job.pipefail else ""
        then = " && " if job.pipefail else "; "
        return (
            f'{head}d="$(mktemp -d)"; trap \'rm -rf "$d"\' EXIT; '
            f"pg_dump --format=directory --jobs={int(jobs)} --compress=1 "
            f'-h {shlex.quote(job.source_host)} -d {shlex.quote(job.database)} -f "$d/dump"'
            f'{then}tar -C "$d/dump" -cf {shlex.quote(job.path)} .'
        )

    def parallel_restore_command(self, *, path: str, target_host: str, jobs: int) -> str:
        """The tar of a directory-format dump unpacked, then pg_restore with ``jobs`` workers."""
        return (
            'set -eo pipefail; d="$(mktemp -d)"; trap \'rm -rf "$d"\' EXIT; '
            f'tar -xf {shlex.quote(path)} -C "$d"; '
            f"pg_restore --no-owner --exit-on-error --jobs={int(jobs)} "
            f'-h {shlex.quote(target_host)} -d {shlex.quote(self.credentials.database)} "$d"'
        )
