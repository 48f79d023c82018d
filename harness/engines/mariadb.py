"""MariaDB and MySQL 8 adapter: PyMySQL, LOAD DATA LOCAL seeding, mariadb-dump / mysqldump.

One module serves both servers; a ``Flavor`` carries what differs between them (client and
dump tool names, the image's environment variable prefix, how the probe proves the data
directory is still there). The flavor comes from the image name and is confirmed by the
version string of the server's handshake. MariaDB is verified on the build machines (local
image from Debian packages); MySQL 8 only where its official image can be pulled.

Beyond dumps (MariaDB only, see harness.engines.CAPABILITIES):

* every server writes a row-format binlog with GTIDs and a server id of its own;
* binlog archiving: a shipper in the primary rotates the binlog every second when it has
  new events (as ``archive_timeout=1`` does for PostgreSQL) and copies each closed binlog
  into ``/archive/binlog`` (``.part`` then rename, so the archive never holds half a file);
* physical backups: ``mariadb-backup --backup`` from a helper that mounts the primary's data
  volume, with a sha256 manifest of every file, checked by ``sha256sum -c``;
* point-in-time recovery: the backup is prepared and started, then the archived binlogs from
  the backup's binlog position are piped through ``mariadb-binlog --stop-datetime`` into it.
  Binlog events carry whole-second timestamps, so a time target is rounded down to the
  second (``time_resolution_s``): up to one more second of writes is lost, none replayed
  past the target;
* replicas: cloned with mariadb-backup, following the primary by GTID (``MASTER_DELAY`` for
  a delayed one); a delayed replica is stopped at a time target by applying its own relay
  log through ``mariadb-binlog --stop-datetime`` (a restart of replication in GTID mode would
  discard the relay log and fetch it again from a primary that may be gone).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import shlex
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pymysql.err
from pymysql.connections import Connection
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import ExecWaitStrategy

from harness.dataset import Fingerprint, table_name, tsv_chunks
from harness.engines.base import (
    PROBE_TABLE,
    WRITES_TABLE,
    Credentials,
    DumpJob,
    Endpoint,
    ProbeFailed,
    RecoveryTarget,
)
from harness.errors import HarnessError
from harness.scenario.model import Dataset

log = logging.getLogger(__name__)

PORT = 3306
# Client-side limit on waiting for the server (PyMySQL read/write timeouts): a frozen or
# partitioned server turns into a lost connection (outcome unknown) instead of a hung writer.
# Large enough for one LOAD DATA chunk or a fingerprint of a multi-million-row table.
IO_TIMEOUT_S = 60
# Rows per LOAD DATA statement: one autocommit transaction each, bounded temp file size.
LOAD_CHUNK_ROWS = 100_000
# Server options both images accept as the container command. LOAD DATA LOCAL needs
# local_infile on the server (MySQL 8 defaults to OFF); durability is stated, not assumed,
# because the kill scenario depends on it.
SERVER_ARGS = ("--local-infile=1", "--innodb-flush-log-at-trx-commit=1")
# Every server writes a row-format binlog (replication and point-in-time recovery read it);
# sync_binlog=1 makes an acknowledged commit durable in the binlog too.
BINLOG_ARGS = (
    "--log-bin=mysql-bin",
    "--binlog-format=ROW",
    "--log-slave-updates=ON",
    "--sync-binlog=1",
)
BINLOG_NAME = re.compile(r"mysql-bin\.[0-9]{6}")
MANIFEST = "backup_manifest"
# What mariadb-backup records about the binlog position its copy is consistent with.
BINLOG_INFO = "xtrabackup_binlog_info"
READY_TIMEOUT_S = 120
READY_POLL_S = 0.2

# The fingerprint in SQL: the same text form and 60-bit md5 prefix as harness.dataset. The
# CAST keeps SUM exact (a sum of integers is DECIMAL; a sum of CONV's strings would be DOUBLE).
_FINGERPRINT_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, account, amount, note, "
    "created)), 15), 16, 10) AS UNSIGNED)), 0) FROM {table}"
)
# Client error codes (CR_*, 2000-2999) mean the connection failed, not the statement: after
# one of them an autocommit statement may or may not have been applied.
_CLIENT_ERRORS = range(2000, 3000)


@dataclass(frozen=True)
class Flavor:
    """What differs between MariaDB and MySQL for the harness."""

    name: str
    client: str
    dump: str
    env_prefix: str
    # MariaDB checks a schema's directory on SHOW TABLES (a cheap read, verified with rm -rf);
    # MySQL 8 answers it from its data dictionary, so only DDL touches the directory there.
    datadir_check: str
    dump_options: tuple[str, ...] = ()


MARIADB = Flavor(
    name="mariadb",
    client="mariadb",
    dump="mariadb-dump",
    env_prefix="MARIADB",
    datadir_check="show_tables",
)
MYSQL = Flavor(
    name="mysql",
    client="mysql",
    dump="mysqldump",
    env_prefix="MYSQL",
    datadir_check="ddl",
    # GTID_PURGED in a dump breaks a restore into a server with its own GTID history.
    dump_options=("--set-gtid-purged=OFF",),
)


def flavor_for_image(image: str, *, default: Flavor) -> Flavor:
    """The flavor an image name announces (``mariadb:11``, ``mysql:8``), else ``default``."""
    repository = image.split("@")[0].rsplit("/", 1)[-1].split(":")[0].lower()
    if "mariadb" in repository:
        return MARIADB
    if "mysql" in repository or "percona" in repository:
        return MYSQL
    return default


def flavor_for_version(version: str) -> Flavor:
    """The flavor a server's version string reveals (MariaDB says so; MySQL does not)."""
    return MARIADB if "mariadb" in version.lower() else MYSQL


class MariaDBContainer(DockerContainer):
    """The official mariadb / mysql image interface; ready when the drill account can query
    over TCP (the images' temporary init server listens on a socket only)."""

    def __init__(
        self,
        image: str,
        *,
        flavor: Flavor,
        credentials: Credentials,
        root_password: str,
        command: list[str],
        wait: bool = True,
    ) -> None:
        super().__init__(image)
        c, prefix = credentials, flavor.env_prefix
        self.with_exposed_ports(PORT)
        self.with_env(f"{prefix}_ROOT_PASSWORD", root_password)
        self.with_env(f"{prefix}_DATABASE", c.database)
        self.with_env(f"{prefix}_USER", c.user)
        self.with_env(f"{prefix}_PASSWORD", c.password)
        self.with_command(command)
        if not wait:
            # A server on a prepared data directory: the caller judges readiness.
            return
        ready = (
            f"MYSQL_PWD={shlex.quote(c.password)} {flavor.client} --protocol=tcp -h 127.0.0.1 "
            f"-P {PORT} -u {shlex.quote(c.user)} -e 'SELECT 1' {shlex.quote(c.database)}"
        )
        self.waiting_for(
            ExecWaitStrategy(["sh", "-c", ready])
            .with_startup_timeout(READY_TIMEOUT_S)
            .with_poll_interval(READY_POLL_S)
        )


class MariaDBEngine:
    """MariaDB through the official ``mariadb`` image interface (MySQL 8: see MySQLEngine)."""

    name = "mariadb"
    default_image = "mariadb:11"
    local_image: str | None = "recovery-drill/mariadb:10.11-bookworm"
    port = PORT
    datadir = "/var/lib/mysql"
    datadir_marker = "ibdata1"
    default_flavor = MARIADB

    archive_mount = "/archive"
    archive_subdir = "binlog"
    # A replica whose next GTID was purged from the primary's binlogs logs this.
    missing_log_marker = "fatal error 1236"
    # Binlog events are stamped in whole seconds: --stop-datetime cannot be finer.
    time_resolution_s = 1.0
    # mariadb-backup copies the data directory's files (a helper mounts the data volume).
    physical_backup_reads_datadir = True
    recovery_log_markers = (
        "Slave SQL thread",
        "Slave I/O thread",
        "error 1236",
        "[ERROR]",
    )

    def __init__(self) -> None:
        self.credentials = Credentials(user="drill", password="drill-secret", database="drill")
        self.root_password = "drill-root-secret"
        self.flavor = self.default_flavor
        # Replication needs a server id per server of the run.
        self._server_ids = itertools.count(1)

    def container(self, image: str, *, wait: bool = True) -> MariaDBContainer:
        self.flavor = flavor_for_image(image, default=self.default_flavor)
        return MariaDBContainer(
            image,
            flavor=self.flavor,
            credentials=self.credentials,
            root_password=self.root_password,
            command=self.server_command(archive=False),
            wait=wait,
        )

    def server_command(self, *, archive: bool) -> list[str]:
        """Server options: binlog always (replication, PITR), a server id of its own.
        Archiving needs nothing of the server: the shipper started by after_start_script does it."""
        return [*SERVER_ARGS, *BINLOG_ARGS, f"--server-id={next(self._server_ids)}"]

    def _root_client(self) -> str:
        return f"MYSQL_PWD={shlex.quote(self.root_password)} {self.flavor.client} -uroot"

    def after_start_script(self, *, archive: bool) -> str:
        """Shell (root, in a fresh primary): give the drill account the server-wide privileges
        replication, backups and promotion need (PostgreSQL's drill user is a superuser too),
        and start the binlog shipper when the scenario archives logs."""
        user = self.credentials.user
        script = f"set -e; {self._root_client()} -e \"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%'\""
        if archive:
            script += "; " + self._archiver_script()
        return script

    def _archiver_script(self) -> str:
        """Install the binlog shipper in the primary and start it, detached from the exec."""
        dest = f"{self.archive_mount}/{self.archive_subdir}"
        env = _exports(
            MYSQL_PWD=self.root_password,
            CLIENT=self.flavor.client,
            DATADIR=self.datadir,
            ARCHIVE=dest,
        )
        return (
            f"mkdir -p {dest} && cat > /usr/local/bin/rd-binlog-shipper <<'SHIPPER'\n"
            f"{_script('mariadb-binlog-shipper.sh')}SHIPPER\n"
            f"chmod 0755 /usr/local/bin/rd-binlog-shipper && {env} && "
            "(setsid nohup /usr/local/bin/rd-binlog-shipper >/dev/null 2>&1 &)"
        )

    def connect(self, endpoint: Endpoint, *, timeout_s: float) -> Connection:
        c = self.credentials
        conn = pymysql.connect(
            host=endpoint.host,
            port=endpoint.port,
            user=c.user,
            password=c.password,
            database=c.database,
            connect_timeout=max(1, round(timeout_s)),
            read_timeout=IO_TIMEOUT_S,
            write_timeout=IO_TIMEOUT_S,
            autocommit=True,
            local_infile=True,
            charset="utf8mb4",
            init_command="SET SESSION time_zone = '+00:00'",
            # MySQL 8's caching_sha2_password needs TLS (or an RSA exchange PyMySQL can only do
            # with the cryptography package); PyMySQL uses TLS only if the server offers it.
            ssl=_tls_if_offered() if self.flavor is MYSQL else None,
        )
        version = conn.get_server_info() or ""
        seen = flavor_for_version(version)
        if seen is not self.flavor:
            log.info("server %s is %s, not %s: adjusting", version, seen.name, self.flavor.name)
            self.flavor = seen
        return conn

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (pymysql.err.Error,)

    def is_definite_failure(self, exc: BaseException) -> bool:
        # A server error (ER_* code) means the autocommit statement did not apply. Client-side
        # codes (CR_SERVER_GONE_ERROR 2006, CR_SERVER_LOST 2013, ...), InterfaceError and
        # errors without a numeric code leave the outcome unknown.
        if not isinstance(exc, pymysql.err.Error) or isinstance(exc, pymysql.err.InterfaceError):
            return False
        code = exc.args[0] if exc.args else None
        return isinstance(code, int) and code > 0 and code not in _CLIENT_ERRORS

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

    def seed(self, conn: Connection, dataset: Dataset) -> None:
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
                    self._load(cur, table, chunk_file, expected=chunk.count(b"\n"))
                cur.execute(f"ANALYZE TABLE {table}")
                cur.fetchall()

    @staticmethod
    def _load(cur: pymysql.cursors.Cursor, table: str, path: Path, *, expected: int) -> None:
        # With LOCAL the server cannot abort the transfer, so bad rows become warnings, not
        # errors (duplicates are skipped as with IGNORE): count both and refuse either.
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

    def probe(self, conn: Connection) -> None:
        with conn.cursor() as cur:
            # Open tables keep serving from unlinked files after `rm -rf` of the data directory,
            # and new connections still authenticate: only the directory itself tells.
            self._check_datadir(cur)
            cur.execute(f"SELECT 1 FROM {table_name(1)} LIMIT 1")
            cur.fetchall()
            cur.execute(f"INSERT INTO {PROBE_TABLE} () VALUES ()")
            written = cur.lastrowid
            cur.execute(f"SELECT id FROM {PROBE_TABLE} WHERE id = %s", (written,))
            if cur.fetchone() is None:
                raise ProbeFailed(f"probe row {written} not readable after its insert")

    def _check_datadir(self, cur: pymysql.cursors.Cursor) -> None:
        if self.flavor.datadir_check == "show_tables":
            # Reads the schema directory: error 1049 once it is gone (verified with rm -rf).
            cur.execute("SHOW TABLES LIKE %s", (PROBE_TABLE,))
            if not cur.fetchall():
                raise ProbeFailed(
                    f"{PROBE_TABLE} is not in the schema directory (data directory wiped?)"
                )
        else:
            # MySQL 8 keeps its dictionary in mysql.ibd (open, so it survives an unlink);
            # creating a table needs the schema directory. Not verifiable on the build machines.
            cur.execute("DROP TABLE IF EXISTS drill_probe_ddl")
            cur.execute("CREATE TABLE drill_probe_ddl (id INT PRIMARY KEY) ENGINE=InnoDB")

    # -- physical backups, binlog archive, point-in-time recovery, replicas -------------------
    def _backup_into(self, *, source_host: str, path: str) -> str:
        """mariadb-backup of the server at source_host (its data directory mounted at datadir)."""
        return (
            f"mariadb-backup --backup --host={shlex.quote(source_host)} --port={PORT} "
            f'--user={shlex.quote(self.credentials.user)} --password="$MYSQL_PWD" '
            f"--datadir={self.datadir} --target-dir={shlex.quote(path)} 2>&1 | tail -n 4"
        )

    def base_backup_command(self, *, source_host: str, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f"set -o pipefail; {self._backup_into(source_host=source_host, path=path)} && "
            f"cd {quoted} && find . -type f ! -name {MANIFEST} -print0 | sort -z "
            f"| xargs -0 sha256sum > {MANIFEST}"
        )

    def verify_base_backup_command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f"cd {quoted} && test -s {MANIFEST} && test -s {BINLOG_INFO} "
            f"&& sha256sum --quiet --strict -c {MANIFEST}"
        )

    def is_archive_segment(self, name: str) -> bool:
        return BINLOG_NAME.fullmatch(name) is not None

    def backup_log_start_script(self, path: str) -> str:
        """The binlog holding the backup's consistent position."""
        return f"cut -f1 {shlex.quote(path)}/{BINLOG_INFO}"

    def clone_replica_script(
        self, *, source_host: str, target: str, apply_delay_s: float, name: str
    ) -> str:
        return (
            f"set -e -o pipefail; {self._backup_into(source_host=source_host, path=target)}; "
            f"mariadb-backup --prepare --target-dir={target} 2>&1 | tail -n 2; "
            f"chown -R mysql:mysql {target}"
        )

    def _local_client(self) -> str:
        c = self.credentials
        return (
            f"MYSQL_PWD={shlex.quote(c.password)} {self.flavor.client} --protocol=tcp "
            f"-h 127.0.0.1 -P {PORT} -u {shlex.quote(c.user)} -N -B"
        )

    def replica_start_script(self, *, source_host: str, apply_delay_s: float, name: str) -> str:
        """Follow source_host by GTID from the clone's position; wait until the I/O thread runs."""
        c = self.credentials
        client = self._local_client()
        status = f"{client} --column-names -E -e 'SHOW SLAVE STATUS'"
        change = (
            "SET GLOBAL gtid_slave_pos = '$gtid'; "
            f"CHANGE MASTER TO MASTER_HOST = '{source_host}', MASTER_PORT = {PORT}, "
            f"MASTER_USER = '{c.user}', MASTER_PASSWORD = '{c.password}', "
            f"MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, "
            f"MASTER_DELAY = {round(apply_delay_s)}; START SLAVE"
        )
        return (
            "set -e; for i in $(seq 600); do "
            f"{client} -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done; "
            f"gtid=$(cut -f3 {self.datadir}/{BINLOG_INFO}); "
            f'{client} -e "{change}"; '
            "for i in $(seq 300); do "
            f"{status} | grep -q 'Slave_IO_Running: Yes' && exit 0; sleep 0.1; done; "
            f"{status} | grep -E 'Running|Error' >&2; exit 1"
        )

    def prepare_restore_script(
        self, *, source: str, target: str, recovery: RecoveryTarget | None, archive: bool
    ) -> str:
        """Copy the backup and apply its redo log (mariadb-backup --prepare); the binlogs are
        replayed after the server starts (replay_archive_script)."""
        return (
            f"set -e -o pipefail; cp -a {shlex.quote(source)}/. {target}/; "
            f"mariadb-backup --prepare --target-dir={target} 2>&1 | tail -n 2; "
            f"rm -f {target}/{MANIFEST}; chown -R mysql:mysql {target}"
        )

    def replay_archive_script(
        self,
        *,
        backup_path: str,
        archive_dir: str,
        target_host: str,
        recovery: RecoveryTarget | None,
    ) -> str:
        """Pipe the archived binlogs from the backup's position into target_host, up to the
        time target (scripts/mariadb-replay-binlogs.sh)."""
        wanted, stop_at = "", ""
        if recovery is not None:
            if recovery.time is not None:
                when = dt.datetime.fromisoformat(recovery.time).astimezone(dt.UTC)
                wanted = when.strftime("%Y-%m-%d %H:%M:%S")
            elif recovery.position is not None:
                stop_at = recovery.position
            else:
                wrong = (
                    f"MariaDB recovers to a time or a binlog position, not {recovery.describe()}"
                )
                return f"echo {shlex.quote(wrong)} >&2; exit 1"
        env = _exports(
            BACKUP=backup_path,
            ARCHIVE=archive_dir,
            TARGET_HOST=target_host,
            PORT=str(PORT),
            DB_USER=self.credentials.user,
            MYSQL_PWD=self.credentials.password,
            CLIENT=self.flavor.client,
            WANT=wanted,
            STOP_AT=stop_at,
        )
        return f"{env}\n{_script('mariadb-replay-binlogs.sh')}"

    def _slave_status(self, conn: Connection) -> dict[str, Any] | None:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
        return dict(row) if row else None

    def in_recovery(self, conn: Connection) -> bool:
        """A configured replica (promotion removes the configuration with RESET SLAVE ALL)."""
        return self._slave_status(conn) is not None

    def _wait_sql_thread(self, conn: Connection, *, timeout_s: float) -> None:
        """Wait until the SQL thread has applied its whole relay log (or has stopped)."""
        deadline = time.monotonic() + timeout_s
        while True:
            st = self._slave_status(conn)
            if st is None:
                return
            if st.get("Last_SQL_Errno"):
                raise HarnessError(f"replica SQL thread failed: {st.get('Last_SQL_Error')}")
            caught_up = st.get("Relay_Master_Log_File") == st.get("Master_Log_File") and (
                st.get("Exec_Master_Log_Pos") == st.get("Read_Master_Log_Pos")
            )
            if caught_up or st.get("Slave_SQL_Running") != "Yes":
                return
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"replica did not finish applying its relay log within {timeout_s:g} s "
                    f"({st.get('Slave_SQL_Running_State')})"
                )
            time.sleep(0.05)

    def promote(self, conn: Connection, *, timeout_s: float) -> None:
        """Stop receiving, apply the relay log already received, become a primary.

        The I/O thread alone is stopped: in GTID mode MariaDB discards the relay log when
        replication is reconfigured or restarted, and the primary may be gone. A delayed
        replica has to be reconfigured (MASTER_DELAY = 0) and so re-fetches from its primary.
        """
        status = self._slave_status(conn)
        if status is None:
            raise HarnessError("not a replica: nothing to promote")
        with conn.cursor() as cur:
            cur.execute("STOP SLAVE IO_THREAD")
            if int(status.get("SQL_Delay") or 0) > 0:
                cur.execute("STOP SLAVE")
                cur.execute("CHANGE MASTER TO MASTER_DELAY = 0")
                cur.execute("START SLAVE")
        self._wait_sql_thread(conn, timeout_s=timeout_s)
        with conn.cursor() as cur:
            cur.execute("STOP SLAVE")
            cur.execute("RESET SLAVE ALL")
            cur.execute("SET GLOBAL read_only = OFF")

    def delayed_replay_script(self, target: RecoveryTarget) -> str:
        """Stop replication and apply the replica's own relay log up to the time target
        (scripts/mariadb-replay-relay-log.sh): works with the primary gone."""
        if target.time is None:
            wrong = target.describe()
            return f"echo 'MariaDB replays a delayed replica to a time, not {wrong}' >&2; exit 1"
        when = dt.datetime.fromisoformat(target.time).astimezone(dt.UTC)
        env = _exports(
            WANT=when.strftime("%Y-%m-%d %H:%M:%S"),
            DATADIR=self.datadir,
            PORT=str(PORT),
            DB_USER=self.credentials.user,
            MYSQL_PWD=self.credentials.password,
            CLIENT=self.flavor.client,
        )
        return f"{env}\n{_script('mariadb-replay-relay-log.sh')}"

    def retarget_replica(self, conn: Connection, target: RecoveryTarget) -> bool:
        """The relay log is applied (delayed_replay_script): forget the primary, accept writes."""
        with conn.cursor() as cur:
            cur.execute("STOP SLAVE")
            cur.execute("RESET SLAVE ALL")
            cur.execute("SET GLOBAL read_only = OFF")
        return False

    def position(self, conn: Connection) -> str:
        """``file:offset`` of the binlog's end (mariadb-binlog --stop-position's terms)."""
        with conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            row = cur.fetchone()
        return f"{row[0]}:{row[1]}" if row else ""

    def archive_status(self, conn: Connection) -> dict[str, Any]:
        """The active binlog is never archived until the shipper rotates it: its size is the
        bytes not yet archived (the shipper runs outside the server, which cannot report it)."""
        with conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            row = cur.fetchone()
        current, pos = (str(row[0]), int(row[1])) if row else ("", 0)
        return {
            "last_archived_wal": None,
            "failed_count": 0,
            "last_failed_wal": None,
            "current_lsn": f"{current}:{pos}",
            "lag_bytes": pos if row else None,
        }

    def replication_status(self, conn: Connection) -> dict[str, Any]:
        """Connected replicas (binlog dump threads); MariaDB's primary does not know their lag."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT HOST, STATE FROM information_schema.PROCESSLIST "
                "WHERE COMMAND LIKE 'Binlog Dump%%'"
            )
            rows = cur.fetchall()
        return {str(r[0]).split(":")[0]: {"state": r[1], "replay_lag_bytes": None} for r in rows}

    def churn_wal(self, conn: Connection, *, rounds: int = 4) -> None:
        """Write, rotate binlogs, then purge every binlog but the active one (after giving the
        shipper two seconds to archive the closed ones)."""
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS drill_churn (id INT, filler TEXT)")
            for _ in range(rounds):
                cur.execute(
                    "INSERT INTO drill_churn SELECT seq, REPEAT('x', 400) FROM seq_1_to_2000"
                )
                cur.execute("TRUNCATE drill_churn")
                cur.execute("FLUSH BINARY LOGS")
            time.sleep(2.0)
            cur.execute("SHOW MASTER STATUS")
            row = cur.fetchone()
            if row:
                cur.execute("PURGE BINARY LOGS TO %s", (str(row[0]),))

    def tool_env(self) -> dict[str, str]:
        return {"MYSQL_PWD": self.credentials.password}

    def _tool_login(self, host: str) -> str:
        user = shlex.quote(self.credentials.user)
        return f"--protocol=tcp -h {shlex.quote(host)} -P {PORT} -u {user}"

    def dump_command(self, job: DumpJob) -> str:
        head = "set -o pipefail; " if job.pipefail else ""
        options = " ".join(("--single-transaction", "--no-tablespaces", *self.flavor.dump_options))
        return (
            f"{head}MYSQL_PWD={shlex.quote(job.password)} {self.flavor.dump} {options} "
            f"{self._tool_login(job.source_host)} {shlex.quote(job.database)} "
            f"| gzip -1 > {shlex.quote(job.path)}"
        )

    def restore_command(self, *, path: str, target_host: str) -> str:
        # The client stops at the first failing statement and exits non-zero.
        return (
            f"set -o pipefail; gunzip -c {shlex.quote(path)} | {self.flavor.client} --batch "
            f"{self._tool_login(target_host)} {shlex.quote(self.credentials.database)}"
        )


class MySQLEngine(MariaDBEngine):
    """MySQL 8 through the official ``mysql`` image (no local build: no Debian package)."""

    name = "mysql"
    default_image = "mysql:8"
    local_image = None
    default_flavor = MYSQL


def _script(name: str) -> str:
    """A shell script shipped with the adapter (harness/engines/scripts)."""
    return (Path(__file__).parent / "scripts" / name).read_text()


def _exports(**variables: str) -> str:
    """``export A=...; export B=...`` with every value shell-quoted."""
    return "; ".join(f"export {k}={shlex.quote(v)}" for k, v in variables.items())


def _tls_if_offered() -> ssl.SSLContext:
    """TLS without certificate checks: the lab's servers use self-signed certificates on
    127.0.0.1; the point is an encrypted channel for the password exchange, not identity."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
