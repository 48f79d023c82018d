"""MariaDB binlog archiving and point-in-time recovery.

A shipper in the primary (scripts/mariadb-binlog-shipper.sh) rotates the binlog every second
when it has new events (as ``archive_timeout=1`` does for PostgreSQL) and copies each closed
binlog into ``/archive/binlog`` (``.part`` then rename, so the archive never holds half a
file). Recovery prepares and starts the backup, then pipes the archived binlogs from the
backup's binlog position through ``mariadb-binlog --stop-datetime`` (or ``--stop-position``)
into it. Binlog events carry whole-second timestamps, so a time target is rounded down to the
second (``time_resolution_s``): up to one more second of writes is lost, none replayed past
the target.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from typing import TYPE_CHECKING, Any

from harness.engines.base import RecoveryTarget
from harness.engines.mariadb.container import PORT
from harness.engines.mariadb.shell import env_ref, exports, script

if TYPE_CHECKING:
    from pymysql.connections import Connection

    from harness.engines.mariadb import MariaDBEngine

BINLOG_NAME = re.compile(r"mysql-bin\.[0-9]{6}")
SHIPPER = "/usr/local/bin/rd-binlog-shipper"


class MariaDBArchive:
    """Binlog archiving, and recovery to a time or to the primary's binlog position."""

    mount = "/archive"
    subdir = "binlog"
    # A PostgreSQL LSN or a named restore point has no MariaDB meaning.
    target_kinds = frozenset({"time", "position"})
    # Binlog events are stamped in whole seconds: --stop-datetime cannot be finer.
    time_resolution_s = 1.0

    def __init__(self, engine: MariaDBEngine) -> None:
        self.engine = engine

    def server_args(self) -> list[str]:
        """Nothing: every server writes a binlog; the shipper (start_script) archives it."""
        return []

    def start_script(self) -> str:
        """Install the binlog shipper in the primary and start it, detached from the exec."""
        e = self.engine
        dest = f"{self.mount}/{self.subdir}"
        # The root password from the server container's own environment, not from argv.
        root_password = env_ref(f"{e.flavor.env_prefix}_ROOT_PASSWORD")
        env = exports(CLIENT=e.flavor.client, DATADIR=e.datadir, ARCHIVE=dest)
        env += f"; export MYSQL_PWD={root_password}"
        return (
            f"set -e; mkdir -p {dest} && cat > {SHIPPER} <<'SHIPPER'\n"
            f"{script('mariadb-binlog-shipper.sh')}SHIPPER\n"
            f"chmod 0755 {SHIPPER} && {env} && "
            f"(setsid nohup {SHIPPER} >/dev/null 2>&1 &)"
        )

    def is_segment(self, name: str) -> bool:
        return BINLOG_NAME.fullmatch(name) is not None

    def replay_script(
        self,
        *,
        backup_path: str,
        archive_dir: str,
        target_host: str,
        recovery: RecoveryTarget | None,
    ) -> str:
        """Pipe the archived binlogs from the backup's position into target_host, up to the
        target (scripts/mariadb-replay-binlogs.sh); MYSQL_PWD comes from the helper's
        environment (tool_env)."""
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
        e = self.engine
        env = exports(
            BACKUP=backup_path,
            ARCHIVE=archive_dir,
            TARGET_HOST=target_host,
            PORT=str(PORT),
            DB_USER=e.credentials.user,
            CLIENT=e.flavor.client,
            WANT=wanted,
            STOP_AT=stop_at,
        )
        return f"{env}\n{script('mariadb-replay-binlogs.sh')}"

    def position(self, conn: Connection) -> str:
        """``file:offset`` of the binlog's end (mariadb-binlog --stop-position's terms)."""
        with conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            row = cur.fetchone()
        return f"{row[0]}:{row[1]}" if row else ""

    def status(self, conn: Connection) -> dict[str, Any]:
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
