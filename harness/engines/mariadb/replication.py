"""MariaDB replicas: cloned with mariadb-backup, following the primary by GTID
(``MASTER_DELAY`` for a delayed one).

A delayed replica is stopped at a time target by applying its own relay log through
``mariadb-binlog --stop-datetime`` (scripts/mariadb-replay-relay-log.sh): a restart of
replication in GTID mode would discard the relay log and fetch it again from a primary that
may be gone.
"""

from __future__ import annotations

import datetime as dt
import shlex
import time
from typing import TYPE_CHECKING, Any

from harness.engines.base import RecoveryTarget
from harness.engines.mariadb.container import PORT
from harness.engines.mariadb.physical import BINLOG_INFO
from harness.engines.mariadb.shell import env_ref, exports, script, sql_literal, wait_for
from harness.errors import HarnessError

if TYPE_CHECKING:
    from pymysql.connections import Connection

    from harness.engines.mariadb import MariaDBEngine

# How long a started replica's server gets to accept connections, and then its I/O thread to
# run, inside the replica's start script (``timeout`` ends each wait in the container).
SERVER_UP_TIMEOUT_S = 60
IO_THREAD_TIMEOUT_S = 30
SHELL_POLL_S = 0.1
# How often promotion looks whether the SQL thread has applied its relay log.
SQL_THREAD_POLL_S = 0.05
# Rows written per churn round (seq_1_to_N is MariaDB's sequence engine).
CHURN_ROWS = 2000
# How long a semi-synchronous primary waits for its replica before it falls back to
# asynchronous replication (an hour: a drill must not fall back silently).
SEMI_SYNC_TIMEOUT_MS = 3_600_000
# Time the binlog shipper gets to archive the binlogs a churn closed, before they are purged.
SHIPPER_GRACE_S = 2.0


class MariaDBReplication:
    """GTID replicas of the primary."""

    # The clone is a mariadb-backup copy of the primary's data directory.
    clone_reads_datadir = True
    # A replica whose next GTID was purged from the primary's binlogs logs this.
    missing_log_marker = "fatal error 1236"
    time_resolution_s = 1.0

    def __init__(self, engine: MariaDBEngine) -> None:
        self.engine = engine

    def clone_script(
        self, *, source_host: str, target: str, apply_delay_s: float, name: str
    ) -> str:
        copy = self.engine.physical.copy_command(source_host=source_host, path=target)
        return (
            f"set -e -o pipefail; {copy}; "
            f"mariadb-backup --prepare --target-dir={target} 2>&1 | tail -n 2; "
            f"chown -R mysql:mysql {target}"
        )

    def start_script(self, *, source_host: str, apply_delay_s: float, name: str) -> str:
        """Follow source_host by GTID from the clone's position; wait until the I/O thread runs."""
        e = self.engine
        client = e.local_client()
        status = f"{client} --column-names -E -e 'SHOW SLAVE STATUS'"
        server_up = wait_for(
            f"{client} -e 'SELECT 1' >/dev/null 2>&1",
            timeout_s=SERVER_UP_TIMEOUT_S,
            interval_s=SHELL_POLL_S,
        )
        following = wait_for(
            f"{status} | grep -q 'Slave_IO_Running: Yes'",
            timeout_s=IO_THREAD_TIMEOUT_S,
            interval_s=SHELL_POLL_S,
        )
        # The replica's own *_PASSWORD variable, escaped for a string literal in the container.
        password = env_ref(f"{e.flavor.env_prefix}_PASSWORD")
        return (
            f"set -e; {server_up} || {{ echo 'server not accepting connections within "
            f"{SERVER_UP_TIMEOUT_S} s' >&2; exit 1; }}; "
            f"gtid=$(cut -f3 {e.datadir}/{BINLOG_INFO}); "
            f"pw={password}; " + r"pw=${pw//\\/\\\\}; pw=${pw//\'/\'\'}; "
            f"{client} -e {change_master_sql(self, source_host, apply_delay_s)}; "
            f"{following} && exit 0; "
            f"{status} | grep -E 'Running|Error' >&2; exit 1"
        )

    def _wait_sql_thread(self, conn: Connection, *, timeout_s: float) -> None:
        """Wait until the SQL thread has applied its whole relay log (or has stopped)."""
        deadline = time.monotonic() + timeout_s
        idle_at: object = None  # the applied position when the SQL thread last said it was idle
        while True:
            st = self.engine.slave_status(conn)
            if st is None:
                return
            if st.get("Last_SQL_Errno"):
                raise HarnessError(f"replica SQL thread failed: {st.get('Last_SQL_Error')}")
            applied = (st.get("Relay_Master_Log_File"), st.get("Exec_Master_Log_Pos"))
            # A primary that died mid-transaction leaves a partial event group in the relay
            # log: the read position stays ahead of the applied one for good, and the SQL
            # thread says it has read all of the relay log; twice at the same position is done.
            idle = str(st.get("Slave_SQL_Running_State") or "").startswith(
                "Slave has read all relay log"
            )
            caught_up = (
                st.get("Relay_Master_Log_File") == st.get("Master_Log_File")
                and (st.get("Exec_Master_Log_Pos") == st.get("Read_Master_Log_Pos"))
            ) or (idle and idle_at == applied)
            idle_at = applied if idle else None
            if caught_up or st.get("Slave_SQL_Running") != "Yes":
                return
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"replica did not finish applying its relay log within {timeout_s:g} s "
                    f"({st.get('Slave_SQL_Running_State')})"
                )
            time.sleep(SQL_THREAD_POLL_S)

    def make_synchronous(self, primary: Connection, replica: Connection, *, name: str) -> None:
        """Semi-synchronous replication (built into MariaDB 10.3+): the primary waits, after
        writing the binlog and before committing (``AFTER_SYNC``, lossless), until the replica
        has the event in its relay log; the timeout that would fall back to asynchronous is an
        hour. The replica's I/O thread restarts to announce itself as semi-synchronous."""
        with primary.cursor() as cur:
            cur.execute(f"SET GLOBAL rpl_semi_sync_master_timeout = {SEMI_SYNC_TIMEOUT_MS}")
            cur.execute("SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC'")
            cur.execute("SET GLOBAL rpl_semi_sync_master_enabled = ON")
        with replica.cursor() as cur:
            cur.execute("SET GLOBAL rpl_semi_sync_slave_enabled = ON")
            cur.execute("STOP SLAVE IO_THREAD")
            cur.execute("START SLAVE IO_THREAD")

    def is_synchronous(self, primary: Connection, *, name: str) -> bool:
        """The primary's semi-synchronous status is on with a semi-synchronous replica."""
        with primary.cursor() as cur:
            cur.execute(
                "SHOW GLOBAL STATUS WHERE Variable_name IN "
                "('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients')"
            )
            status = {str(k): str(v) for k, v in cur.fetchall()}
        return (
            status.get("Rpl_semi_sync_master_status") == "ON"
            and int(status.get("Rpl_semi_sync_master_clients", "0")) >= 1
        )

    def promote(self, conn: Connection, *, timeout_s: float) -> None:
        """Stop receiving, apply the relay log already received, become a primary.

        The I/O thread alone is stopped: in GTID mode MariaDB discards the relay log when
        replication is reconfigured or restarted, and the primary may be gone. A delayed
        replica has to be reconfigured (MASTER_DELAY = 0) and so re-fetches from its primary.
        """
        status = self.engine.slave_status(conn)
        if status is None:
            raise HarnessError("not a replica: nothing to promote")
        with conn.cursor() as cur:
            cur.execute("STOP SLAVE IO_THREAD")
            if int(status.get("SQL_Delay") or 0) > 0:
                cur.execute("STOP SLAVE")
                cur.execute("CHANGE MASTER TO MASTER_DELAY = 0")
                cur.execute("START SLAVE")
        self._wait_sql_thread(conn, timeout_s=timeout_s)
        _forget_primary(conn)

    def delayed_replay_script(self, target: RecoveryTarget) -> str:
        """Stop replication and apply the replica's own relay log up to the time target
        (scripts/mariadb-replay-relay-log.sh): works with the primary gone."""
        if target.time is None:
            wrong = target.describe()
            return f"echo 'MariaDB replays a delayed replica to a time, not {wrong}' >&2; exit 1"
        e = self.engine
        when = dt.datetime.fromisoformat(target.time).astimezone(dt.UTC)
        env = exports(
            WANT=when.strftime("%Y-%m-%d %H:%M:%S"),
            DATADIR=e.datadir,
            PORT=str(PORT),
            DB_USER=e.credentials.user,
            CLIENT=e.flavor.client,
        )
        # The password from the replica container's own environment, not from argv.
        password = env_ref(f"{e.flavor.env_prefix}_PASSWORD")
        return f"{env}; export MYSQL_PWD={password}\n{script('mariadb-replay-relay-log.sh')}"

    def retarget(self, conn: Connection, target: RecoveryTarget) -> bool:
        """The relay log is applied (delayed_replay_script): forget the primary, accept writes."""
        _forget_primary(conn)
        return False

    def status(self, conn: Connection) -> dict[str, Any]:
        """Connected replicas (binlog dump threads); MariaDB's primary does not know their lag."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT HOST, STATE FROM information_schema.PROCESSLIST "
                "WHERE COMMAND LIKE 'Binlog Dump%%'"
            )
            rows = cur.fetchall()
        return {str(r[0]).split(":")[0]: {"state": r[1], "replay_lag_bytes": None} for r in rows}

    def churn_log(self, conn: Connection, *, rounds: int = 4) -> None:
        """Write, rotate binlogs, then purge every binlog but the active one (after giving the
        shipper SHIPPER_GRACE_S to archive the closed ones)."""
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS drill_churn (id INT, filler TEXT)")
            for _ in range(rounds):
                cur.execute(
                    "INSERT INTO drill_churn "
                    f"SELECT seq, REPEAT('x', 400) FROM seq_1_to_{CHURN_ROWS}"
                )
                cur.execute("TRUNCATE drill_churn")
                cur.execute("FLUSH BINARY LOGS")
            time.sleep(SHIPPER_GRACE_S)
            cur.execute("SHOW MASTER STATUS")
            row = cur.fetchone()
            if row:
                cur.execute("PURGE BINARY LOGS TO %s", (str(row[0]),))


def change_master_sql(
    replication: MariaDBReplication, source_host: str, apply_delay_s: float
) -> str:
    """The shell word of the replica's CHANGE MASTER: host and user quoted as SQL literals in
    Python, the GTID (``$gtid``) and the escaped password (``$pw``) expanded by the shell."""
    user = replication.engine.credentials.user
    sql = [
        "SET GLOBAL gtid_slave_pos = '",
        "'; CHANGE MASTER TO "
        f"MASTER_HOST = {sql_literal(source_host)}, MASTER_PORT = {PORT}, "
        f"MASTER_USER = {sql_literal(user)}, MASTER_PASSWORD = '",
        "', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, "
        f"MASTER_DELAY = {round(apply_delay_s)}; START SLAVE",
    ]
    return f'{shlex.quote(sql[0])}"$gtid"{shlex.quote(sql[1])}"$pw"{shlex.quote(sql[2])}'


def _forget_primary(conn: Connection) -> None:
    """Stop replication for good and accept writes."""
    with conn.cursor() as cur:
        cur.execute("STOP SLAVE")
        cur.execute("RESET SLAVE ALL")
        cur.execute("SET GLOBAL read_only = OFF")
