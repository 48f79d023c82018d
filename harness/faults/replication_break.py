"""replication_break: a standby stopped while the primary recycles the logs it would need.

When it comes back, the primary no longer has what it asks for (PostgreSQL: "requested WAL
segment ... has already been removed", as happened to GitLab's secondary in 2017; MariaDB:
"fatal error 1236 ... Could not find GTID state requested by slave in any binlog files").
"""

from __future__ import annotations

from harness.engines.collaborators import replication_of
from harness.errors import CommandTimeout
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.polling import poll_until
from harness.scenario import model

# A restarted standby asks the primary for the recycled logs, and says so, within this.
MISSING_LOGS_TIMEOUT_S = 15.0


class ReplicationBreak:
    """Stop the standby, churn and recycle WAL on the primary, start the standby again."""

    causes_outage = False
    type = "replication_break"

    def __init__(self, spec: model.ReplicationBreak) -> None:
        self.spec = spec

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.connect_primary is not None
        ctx.lab.stop(ctx.target.container_id)
        conn = ctx.connect_primary()
        try:
            replication_of(ctx.engine).churn_log(conn)
        finally:
            conn.close()
        ctx.lab.restart_stopped(ctx.target.container_id)

    def took_effect(self, ctx: FaultContext) -> Effect:
        def broken() -> str | None:
            logs = ctx.lab.logs(ctx.target.container_id, lines=60)
            marker = replication_of(ctx.engine).missing_log_marker
            return next((line for line in logs.splitlines() if marker in line), None)

        try:
            line = poll_until(
                broken,
                what="the standby to report missing logs",
                timeout_s=MISSING_LOGS_TIMEOUT_S,
                retry_on=(),
            )
        except CommandTimeout:
            return Effect(
                FaultEffect.NO_EFFECT,
                f"{ctx.target.name} did not report missing logs within "
                f"{MISSING_LOGS_TIMEOUT_S:g} s",
            )
        return Effect(FaultEffect.TOOK_EFFECT, line.strip()[-200:])

    def revert(self, ctx: FaultContext) -> None:
        """A broken standby stays broken; rebuilding it is a recovery decision."""
