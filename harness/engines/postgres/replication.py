"""PostgreSQL streaming replicas: cloned by pg_basebackup -R, delayed by
recovery_min_apply_delay, promoted by pg_promote()."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from harness.engines.base import RecoveryTarget
from harness.engines.postgres.archive import recovery_settings
from harness.errors import InfrastructureError

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

    from harness.engines.postgres import PostgresEngine

# WAL written per churn round: 20 000 rows of 400 bytes, then a segment switch.
CHURN_ROWS = 20_000


def conninfo_value(value: str) -> str:
    """A libpq connection-string value: single-quoted, backslashes and quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def retarget_statements(settings: dict[str, str]) -> list[sql.Composed]:
    """``ALTER SYSTEM SET recovery_target_* = 'value'`` with the name and the value quoted by
    psycopg (ALTER SYSTEM takes no bind parameters)."""
    from psycopg import sql

    return [
        sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(key), sql.Literal(value))
        for key, value in settings.items()
        if key.startswith("recovery_target")
    ]


class PostgresReplication:
    """Standbys that stream from the primary."""

    clone_reads_datadir = False
    # A standby that asks for recycled WAL logs this (GitLab's secondary in 2017).
    missing_log_marker = "has already been removed"
    time_resolution_s = 1e-6

    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine

    def clone_script(
        self, *, source_host: str, target: str, apply_delay_s: float, name: str
    ) -> str:
        conninfo = f"host={conninfo_value(source_host)} application_name={conninfo_value(name)}"
        script = (
            f"set -e; pg_basebackup -d {shlex.quote(conninfo)} "
            f"-D {shlex.quote(target)} -X stream -R --checkpoint=fast --no-password"
        )
        if apply_delay_s > 0:
            script += (
                f"; echo \"recovery_min_apply_delay = '{int(apply_delay_s * 1000)}ms'\" "
                f">> {shlex.quote(target)}/postgresql.auto.conf"
            )
        to = shlex.quote(target)
        return script + f"; chown -R postgres: {to}; chmod 700 {to}"

    def start_script(self, *, source_host: str, apply_delay_s: float, name: str) -> None:
        """Nothing: pg_basebackup -R wrote primary_conninfo and standby.signal."""
        return None

    def promote(self, conn: psycopg.Connection[Any], *, timeout_s: float) -> None:
        row = conn.execute("SELECT pg_promote(true, %s)", (max(1, int(timeout_s)),)).fetchone()
        if not row or not row[0]:
            raise InfrastructureError("pg_promote() did not complete")

    def delayed_replay_script(self, target: RecoveryTarget) -> None:
        """Nothing: the standby finds its own stopping point in the WAL it replays."""
        return None

    def retarget(self, conn: psycopg.Connection[Any], target: RecoveryTarget) -> bool:
        """Turn a (delayed) standby into one that stops at ``target`` and promotes on restart."""
        conn.execute("ALTER SYSTEM SET recovery_min_apply_delay = 0")
        for statement in retarget_statements(recovery_settings(self.engine.archive, target)):
            conn.execute(statement)
        return True

    def status(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
        rows = conn.execute(
            "SELECT application_name, state, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint FROM pg_stat_replication"
        ).fetchall()
        return {str(r[0]): {"state": r[1], "replay_lag_bytes": r[2]} for r in rows}

    def make_synchronous(
        self, primary: psycopg.Connection[Any], replica: psycopg.Connection[Any], *, name: str
    ) -> None:
        """``synchronous_standby_names`` naming the standby (its application_name) and
        ``synchronous_commit = on``: a commit returns once the standby has flushed its WAL.
        Set with ALTER SYSTEM on the primary only (the standby was cloned before), so a
        promoted standby does not wait for a standby of its own."""
        from psycopg import sql

        names = sql.Literal(f'FIRST 1 ("{name}")')
        primary.execute(sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(names))
        primary.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
        primary.execute("SELECT pg_reload_conf()")

    def is_synchronous(self, primary: psycopg.Connection[Any], *, name: str) -> bool:
        row = primary.execute(
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s", (name,)
        ).fetchone()
        return row is not None and row[0] == "sync"

    def churn_log(self, conn: psycopg.Connection[Any], *, rounds: int = 4) -> None:
        """Write and switch enough WAL, with checkpoints, that old segments are recycled."""
        conn.execute("CREATE TABLE IF NOT EXISTS drill_churn (id int, filler text)")
        for _ in range(rounds):
            conn.execute(
                "INSERT INTO drill_churn "
                f"SELECT g, repeat('x', 400) FROM generate_series(1, {CHURN_ROWS}) g"
            )
            conn.execute("TRUNCATE drill_churn")
            conn.execute("SELECT pg_switch_wal()")
            conn.execute("CHECKPOINT")
