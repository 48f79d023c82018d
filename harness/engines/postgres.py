"""PostgreSQL adapter: psycopg 3, COPY seeding, pg_dump/pg_restore, the official image interface."""

from __future__ import annotations

import datetime as dt
import shlex
from typing import Any

import psycopg
import psycopg.errors
from testcontainers.community.postgres import PostgresContainer
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import ExecWaitStrategy

from harness.dataset import Fingerprint, table_name, tsv_chunks
from harness.engines.base import (
    PROBE_TABLE,
    WRITES_TABLE,
    Credentials,
    DumpJob,
    Endpoint,
    RecoveryTarget,
)
from harness.scenario.model import Dataset

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
        password = self.password.replace("'", "'\"'\"'")
        ExecWaitStrategy(
            [
                "sh",
                "-c",
                f"PGPASSWORD='{password}' psql --username {self.username} "
                f"--dbname {self.dbname} --host 127.0.0.1 -c 'select 1'",
            ]
        ).with_poll_interval(0.2).wait_until_ready(self)


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

    # Small WAL segments so that archiving (archive_timeout) and recycling happen within a drill.
    initdb_args = "--wal-segsize=1"
    archive_mount = "/archive"
    archive_subdir = "wal"
    # A standby that asks for recycled WAL logs this (GitLab's secondary in 2017).
    missing_log_marker = "has already been removed"
    # Recovery targets are honoured to the microsecond (commit timestamps).
    time_resolution_s = 1e-6
    # pg_basebackup streams the backup over a replication connection.
    physical_backup_reads_datadir = False

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

    def server_command(self, *, archive: bool) -> list[str]:
        """Server settings of a primary: replication always, WAL archiving when asked."""
        args = [
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
        if archive:
            wal = f"{self.archive_mount}/{self.archive_subdir}"
            args += [
                "-c",
                "archive_mode=on",
                "-c",
                "archive_timeout=1",
                "-c",
                f"archive_command=test ! -f {wal}/%f && cp %p {wal}/%f.part "
                f"&& mv {wal}/%f.part {wal}/%f",
            ]
        return args

    def after_start_script(self, *, archive: bool) -> str:
        """Shell (as root, in the server container): allow replication, prepare the archive."""
        hba = f"{self.datadir}/pg_hba.conf"
        script = (
            f"grep -q '^host replication all all' {hba} || "
            f"echo 'host replication all all scram-sha-256' >> {hba}"
        )
        if archive:
            wal = f"{self.archive_mount}/{self.archive_subdir}"
            script += f" && mkdir -p {wal} && chown postgres: {wal}"
        # Re-read pg_hba.conf (the server runs as PID 1 of its container).
        return script + " && kill -HUP 1"

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
        conn.execute("SET statement_timeout = 0")  # a big COPY is not a stuck statement
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
        conn.execute(f"SELECT 1 FROM {table_name(1)} LIMIT 1").fetchone()
        row = conn.execute(f"INSERT INTO {PROBE_TABLE} DEFAULT VALUES RETURNING id").fetchone()
        if row is None:
            raise RuntimeError("probe write returned no row")
        conn.execute(f"SELECT 1 FROM {PROBE_TABLE} WHERE id = %s", (row[0],)).fetchone()

    # -- physical backups, archiving, recovery targets, replicas ------------------------------
    def base_backup_command(self, *, source_host: str, path: str) -> str:
        return (
            f"set -o pipefail; pg_basebackup -h {shlex.quote(source_host)} "
            f"-D {shlex.quote(path)} -Fp -X stream --checkpoint=fast "
            "--manifest-checksums=SHA256 --no-password"
        )

    def verify_base_backup_command(self, path: str) -> str:
        return f"pg_verifybackup --quiet {shlex.quote(path)}"

    def is_archive_segment(self, name: str) -> bool:
        return len(name) == 24 and name.isalnum()

    def backup_log_start_script(self, path: str) -> str:
        """The last WAL segment the backup carries in its own pg_wal."""
        return f"ls {shlex.quote(path)}/pg_wal | grep -E '^[0-9A-F]{{24}}$' | sort | tail -1"

    def clone_replica_script(
        self, *, source_host: str, target: str, apply_delay_s: float, name: str
    ) -> str:
        script = (
            "set -e; pg_basebackup "
            f"-d {shlex.quote(f'host={source_host} application_name={name}')} "
            f"-D {target} -X stream -R --checkpoint=fast --no-password"
        )
        if apply_delay_s > 0:
            script += (
                f"; echo \"recovery_min_apply_delay = '{int(apply_delay_s * 1000)}ms'\" "
                f">> {target}/postgresql.auto.conf"
            )
        return script + f"; chown -R postgres: {target}; chmod 700 {target}"

    def replica_start_script(self, *, source_host: str, apply_delay_s: float, name: str) -> str:
        """Nothing: pg_basebackup -R wrote primary_conninfo and standby.signal."""
        return ""

    def recovery_settings(self, target: RecoveryTarget | None) -> dict[str, str]:
        """Settings that make a restored data directory replay archived WAL (up to a target)."""
        settings = {
            "restore_command": f"cp {self.archive_mount}/{self.archive_subdir}/%f %p",
            "archive_mode": "off",
            "recovery_target_action": "promote",
        }
        if target is not None:
            if target.time is not None:
                settings["recovery_target_time"] = target.time
            elif target.lsn is not None or target.position is not None:
                settings["recovery_target_lsn"] = str(target.lsn or target.position)
            elif target.name is not None:
                settings["recovery_target_name"] = target.name
            settings["recovery_target_inclusive"] = "off"
        return settings

    def prepare_restore_script(
        self, *, source: str, target: str, recovery: RecoveryTarget | None, archive: bool
    ) -> str:
        """Shell (root, in a helper container): copy a physical backup and set it to recover.

        The server replays archived WAL itself (restore_command); without an archive the
        copy fails, and recovery ends at the end of the backup's own WAL.
        """
        conf = "\n".join(f"{k} = '{v}'" for k, v in self.recovery_settings(recovery).items())
        return (
            f"set -e; cp -a {shlex.quote(source)}/. {target}/; rm -f {target}/postmaster.pid; "
            f"printf '%s\\n' {shlex.quote(conf)} >> {target}/postgresql.auto.conf; "
            f"touch {target}/recovery.signal; chown -R postgres: {target}; chmod 700 {target}"
        )

    def replay_archive_script(
        self,
        *,
        backup_path: str,
        archive_dir: str,
        target_host: str,
        recovery: RecoveryTarget | None,
    ) -> str:
        """Nothing: the server replays archived WAL through its restore_command."""
        return ""

    def in_recovery(self, conn: psycopg.Connection[Any]) -> bool:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        return bool(row and row[0])

    def promote(self, conn: psycopg.Connection[Any], *, timeout_s: float) -> None:
        row = conn.execute("SELECT pg_promote(true, %s)", (max(1, int(timeout_s)),)).fetchone()
        if not row or not row[0]:
            raise RuntimeError("pg_promote() did not complete")

    def delayed_replay_script(self, target: RecoveryTarget) -> str:
        """Nothing: the standby finds its own stopping point in the WAL it replays."""
        return ""

    def retarget_replica(self, conn: psycopg.Connection[Any], target: RecoveryTarget) -> bool:
        """Turn a (delayed) standby into one that stops at ``target`` and promotes on restart."""
        conn.execute("ALTER SYSTEM SET recovery_min_apply_delay = 0")
        for key, value in self.recovery_settings(target).items():
            if key.startswith("recovery_target"):
                conn.execute(f"ALTER SYSTEM SET {key} = '{value}'")
        return True

    def position(self, conn: psycopg.Connection[Any]) -> str:
        row = conn.execute(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
            "ELSE pg_current_wal_lsn() END::text"
        ).fetchone()
        return str(row[0]) if row else ""

    def archive_status(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
        """Archiver progress: lag in bytes from the current WAL position to the last archived."""
        row = conn.execute(
            "SELECT a.last_archived_wal, a.failed_count, a.last_failed_wal, "
            "pg_current_wal_lsn()::text, "
            "(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') "
            "FROM pg_stat_archiver a"
        ).fetchone()
        assert row is not None
        last, failed, last_failed, current, segsize = row
        lag = None
        if last and len(last) >= 24 and not last.endswith(".backup"):
            log_no, seg_no = int(last[8:16], 16), int(last[16:24], 16)
            archived_end = (log_no << 32) + (seg_no + 1) * int(segsize)
            hi, lo = current.split("/")
            lag = max(0, (int(hi, 16) << 32) + int(lo, 16) - archived_end)
        return {
            "last_archived_wal": last,
            "failed_count": int(failed or 0),
            "last_failed_wal": last_failed,
            "current_lsn": current,
            "lag_bytes": lag,
        }

    def replication_status(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
        rows = conn.execute(
            "SELECT application_name, state, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint FROM pg_stat_replication"
        ).fetchall()
        return {str(r[0]): {"state": r[1], "replay_lag_bytes": r[2]} for r in rows}

    def run_sql(self, conn: psycopg.Connection[Any], statements: list[str]) -> None:
        """Run statements in one transaction (a migration or a compensating script)."""
        with conn.transaction():
            for statement in statements:
                conn.execute(statement.encode())

    def create_restore_point(self, conn: psycopg.Connection[Any], name: str) -> str:
        row = conn.execute("SELECT pg_create_restore_point(%s)::text", (name,)).fetchone()
        return str(row[0]) if row else ""

    def churn_wal(self, conn: psycopg.Connection[Any], *, rounds: int = 4) -> None:
        """Write and switch enough WAL, with checkpoints, that old segments are recycled."""
        conn.execute("CREATE TABLE IF NOT EXISTS drill_churn (id int, filler text)")
        for _ in range(rounds):
            conn.execute(
                "INSERT INTO drill_churn "
                "SELECT g, repeat('x', 400) FROM generate_series(1, 20000) g"
            )
            conn.execute("TRUNCATE drill_churn")
            conn.execute("SELECT pg_switch_wal()")
            conn.execute("CHECKPOINT")

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
