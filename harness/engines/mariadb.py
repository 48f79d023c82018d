"""MariaDB and MySQL 8 adapter: PyMySQL, LOAD DATA LOCAL seeding, mariadb-dump / mysqldump.

One module serves both servers; a ``Flavor`` carries what differs between them (client and
dump tool names, the image's environment variable prefix, how the probe proves the data
directory is still there). The flavor comes from the image name and is confirmed by the
version string of the server's handshake. MariaDB is verified on the build machines (local
image from Debian packages); MySQL 8 only where its official image can be pulled.
"""

from __future__ import annotations

import datetime as dt
import logging
import shlex
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
)
from harness.errors import InputError
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
        wait: bool = True,
    ) -> None:
        super().__init__(image)
        c, prefix = credentials, flavor.env_prefix
        self.with_exposed_ports(PORT)
        self.with_env(f"{prefix}_ROOT_PASSWORD", root_password)
        self.with_env(f"{prefix}_DATABASE", c.database)
        self.with_env(f"{prefix}_USER", c.user)
        self.with_env(f"{prefix}_PASSWORD", c.password)
        self.with_command(list(SERVER_ARGS))
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

    def __init__(self) -> None:
        self.credentials = Credentials(user="drill", password="drill-secret", database="drill")
        self.root_password = "drill-root-secret"
        self.flavor = self.default_flavor

    def container(self, image: str, *, wait: bool = True) -> MariaDBContainer:
        self.flavor = flavor_for_image(image, default=self.default_flavor)
        return MariaDBContainer(
            image,
            flavor=self.flavor,
            credentials=self.credentials,
            root_password=self.root_password,
            wait=wait,
        )

    def server_command(self, *, archive: bool) -> list[str]:
        """The primary's server options; binlog archiving is not implemented for this engine yet."""
        if archive:
            raise InputError(
                f"engine {self.name}: binlog archiving and point-in-time recovery are not "
                "implemented yet; run this scenario on postgres"
            )
        return list(SERVER_ARGS)

    def after_start_script(self, *, archive: bool) -> str:
        """Nothing to prepare in a fresh primary (the image creates account and database)."""
        self.server_command(archive=archive)
        return "true"

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


def _tls_if_offered() -> ssl.SSLContext:
    """TLS without certificate checks: the lab's servers use self-signed certificates on
    127.0.0.1; the point is an encrypted channel for the password exchange, not identity."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
