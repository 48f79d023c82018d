"""What MariaDB and MySQL 8 share: PyMySQL connections and errors, the server command, the
probe, and mariadb-dump / mysqldump (the drill's tables in SQL: data.py).

PyMySQL is imported when a server is first reached, so that validating a scenario needs no
driver.
"""

from __future__ import annotations

import itertools
import logging
import shlex
import ssl
from typing import TYPE_CHECKING, Any

from harness.dataset import table_name
from harness.engines.base import PROBE_TABLE, Credentials, DumpJob, Endpoint, ProbeFailed
from harness.engines.mariadb.container import PORT, MariaDBContainer
from harness.engines.mariadb.data import MariaDBData
from harness.engines.mariadb.flavor import MARIADB, Flavor, flavor_for_image, flavor_for_version
from harness.engines.mariadb.shell import env_ref, sql_literal

if TYPE_CHECKING:
    from pymysql.connections import Connection
    from pymysql.cursors import Cursor

log = logging.getLogger(__name__)

# Client-side limit on waiting for the server (PyMySQL read/write timeouts): a frozen or
# partitioned server turns into a lost connection (outcome unknown) instead of a hung writer.
# Large enough for one LOAD DATA chunk or a fingerprint of a multi-million-row table.
IO_TIMEOUT_S = 60
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

# Client error codes (CR_*, 2000-2999) mean the connection failed, not the statement: after
# one of them an autocommit statement may or may not have been applied.
_CLIENT_ERRORS = range(2000, 3000)


class MariaDBCore(MariaDBData):
    """The engine core of MariaDB and MySQL 8 (their depth collaborators: MariaDBEngine)."""

    name: str
    default_image: str
    local_image: str | None
    default_flavor: Flavor = MARIADB
    port = PORT
    datadir = "/var/lib/mysql"
    datadir_marker = "ibdata1"
    recovery_log_markers = (
        "Slave SQL thread",
        "Slave I/O thread",
        "error 1236",
        "[ERROR]",
    )

    # The accounts every server of a drill gets (the image's *_PASSWORD variables).
    default_credentials = Credentials(user="drill", password="drill-secret", database="drill")
    default_root_password = "drill-root-secret"
    # The table the probe reads (a team's own database has no seeded tables: the probe table).
    probe_read_table = table_name(1)

    def __init__(self) -> None:
        self.credentials = self.default_credentials
        self.root_password = self.default_root_password
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
            command=self.server_command(),
            wait=wait,
        )

    def server_command(self) -> list[str]:
        """Server options: binlog always (replication, PITR), a server id of its own."""
        return [*SERVER_ARGS, *BINLOG_ARGS, f"--server-id={next(self._server_ids)}"]

    def root_client(self) -> str:
        """The command-line client logged in as root over the local socket (in a server
        container: the password is the image's own variable, expanded there)."""
        password = env_ref(f"{self.flavor.env_prefix}_ROOT_PASSWORD")
        return f"MYSQL_PWD={password} {self.flavor.client} -uroot"

    def local_client(self) -> str:
        """The command-line client of the drill account, over TCP to the local server (in a
        server container: the password is the image's own variable, expanded there)."""
        c = self.credentials
        password = env_ref(f"{self.flavor.env_prefix}_PASSWORD")
        return (
            f"MYSQL_PWD={password} {self.flavor.client} --protocol=tcp "
            f"-h 127.0.0.1 -P {PORT} -u {shlex.quote(c.user)} -N -B"
        )

    def after_start_script(self) -> str:
        """Shell (root, in a fresh primary): give the drill account the server-wide privileges
        replication, backups and promotion need (PostgreSQL's drill user is a superuser too)."""
        grant = f"GRANT ALL PRIVILEGES ON *.* TO {sql_literal(self.credentials.user)}@'%'"
        return f"set -e; {self.root_client()} -e {shlex.quote(grant)}"

    def connect(self, endpoint: Endpoint, *, timeout_s: float) -> Connection:
        import pymysql

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
            ssl=_tls_if_offered() if self.flavor.tls else None,
        )
        version = conn.get_server_info() or ""
        seen = flavor_for_version(version)
        if seen is not self.flavor:
            log.info("server %s is %s, not %s: adjusting", version, seen.name, self.flavor.name)
            self.flavor = seen
        return conn

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        import pymysql.err

        return (pymysql.err.Error,)

    def is_definite_failure(self, exc: BaseException) -> bool:
        # A server error (ER_* code) means the autocommit statement did not apply. Client-side
        # codes (CR_SERVER_GONE_ERROR 2006, CR_SERVER_LOST 2013, ...), InterfaceError and
        # errors without a numeric code leave the outcome unknown.
        import pymysql.err

        if not isinstance(exc, pymysql.err.Error) or isinstance(exc, pymysql.err.InterfaceError):
            return False
        code = exc.args[0] if exc.args else None
        return isinstance(code, int) and code > 0 and code not in _CLIENT_ERRORS

    def probe(self, conn: Connection) -> None:
        with conn.cursor() as cur:
            # Open tables keep serving from unlinked files after `rm -rf` of the data directory,
            # and new connections still authenticate: only the directory itself tells.
            self._check_datadir(cur)
            cur.execute(f"SELECT 1 FROM {self.probe_read_table} LIMIT 1")
            cur.fetchall()
            cur.execute(f"INSERT INTO {PROBE_TABLE} () VALUES ()")
            written = cur.lastrowid
            cur.execute(f"SELECT id FROM {PROBE_TABLE} WHERE id = %s", (written,))
            if cur.fetchone() is None:
                raise ProbeFailed(f"probe row {written} not readable after its insert")

    def _check_datadir(self, cur: Cursor) -> None:
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

    def slave_status(self, conn: Connection) -> dict[str, Any] | None:
        """SHOW SLAVE STATUS as a dict; None on a server that is not a replica."""
        from pymysql.cursors import DictCursor

        with conn.cursor(DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
        return dict(row) if row else None

    def in_recovery(self, conn: Connection) -> bool:
        """A configured replica (promotion removes the configuration with RESET SLAVE ALL)."""
        return self.slave_status(conn) is not None

    def tool_env(self, *, password: str | None = None) -> dict[str, str]:
        return {"MYSQL_PWD": self.credentials.password if password is None else password}

    def _tool_login(self, host: str) -> str:
        user = shlex.quote(self.credentials.user)
        return f"--protocol=tcp -h {shlex.quote(host)} -P {PORT} -u {user}"

    def dump_command(self, job: DumpJob) -> str:
        head = "set -o pipefail; " if job.pipefail else ""
        # Routines and events too (triggers are dumped by default): a team's database has them.
        options = " ".join(
            (
                "--single-transaction",
                "--no-tablespaces",
                "--routines",
                "--events",
                *self.flavor.dump_options,
            )
        )
        return (
            f"{head}{self.flavor.dump} {options} "
            f"{self._tool_login(job.source_host)} {shlex.quote(job.database)} "
            f"| gzip -1 > {shlex.quote(job.path)}"
        )

    def restore_command(self, *, path: str, target_host: str) -> str:
        # The client stops at the first failing statement and exits non-zero.
        return (
            f"set -o pipefail; gunzip -c {shlex.quote(path)} | {self.flavor.client} --batch "
            f"{self._tool_login(target_host)} {shlex.quote(self.credentials.database)}"
        )

    def parallel_dump_command(self, job: DumpJob, *, jobs: int) -> str:
        """The same consistent single-transaction dump (mariadb-dump has no parallel dump
        within one snapshot); the parallelism is in the restore."""
        return self.dump_command(job)

    def parallel_restore_command(self, *, path: str, target_host: str, jobs: int) -> str:
        """The dump split by its per-table sections (``SPLIT_DUMP_AWK``), then every table's
        file loaded ``jobs`` at a time (each after the dump's header of session settings), then
        whatever followed the tables (views, routines, events) in order."""
        client = (
            f"{self.flavor.client} --batch {self._tool_login(target_host)} "
            f"{shlex.quote(self.credentials.database)}"
        )
        one_table = shlex.quote('set -o pipefail; cat "$d/head.sql" "$1" | ' + client)
        return (
            'set -eo pipefail; d="$(mktemp -d)"; trap \'rm -rf "$d"\' EXIT; '
            f'gunzip -c {shlex.quote(path)} | awk -v d="$d" {shlex.quote(SPLIT_DUMP_AWK)}; '
            f'export d; find "$d" -name "t_*.sql" -print0 | xargs -0 -r -P {int(jobs)} -I{{}} '
            f"bash -c {one_table} _ {{}}; "
            f'cat "$d/head.sql" "$d/post.sql" | {client}'
        )


# Splits a mariadb-dump stream into head.sql (session settings before the first section), one
# t_N.sql per table (its structure and data sections) and post.sql (any other section: views,
# routines, events), in the directory ``d``.
SPLIT_DUMP_AWK = (
    'BEGIN { out = d "/head.sql"; n = 0; printf "" > (d "/post.sql") } '
    "/^-- (Table structure|Dumping data) for table `/ { "
    'name = $0; sub(/^[^`]*`/, "", name); sub(/`[^`]*$/, "", name); '
    'if (!(name in file)) { n++; file[name] = d "/t_" n ".sql" } out = file[name] } '
    "/^-- / && !/^-- (Table structure|Dumping data) for table `/ "
    '&& out != d "/head.sql" && $0 !~ /^-- (Dump completed|MariaDB dump|Server version|Host:)/ '
    '{ out = d "/post.sql" } '
    "{ print > out }"
)


def _tls_if_offered() -> ssl.SSLContext:
    """TLS without certificate checks: the lab's servers use self-signed certificates on
    127.0.0.1; the point is an encrypted channel for the password exchange, not identity."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
