"""migration_cutover: a server migration cuts over to the copy, part of which never arrived.

The copy is a replica of the old server; at cutover it is promoted, and a fraction of the
rows of some tables is missing on it, like Myspace's files that were "corrupted and unable to
be transferred" (2019). Nobody compares the copy with the original.
"""

from __future__ import annotations

from typing import Any

from harness.engines.collaborators import replication_of
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.recovery.gate import GateResult
from harness.scenario import model

# The copy (a caught-up replica) finishes its promotion within this.
PROMOTE_TIMEOUT_S = 30.0


class MigrationCutover:
    """Promote the copy, then drop ``lost_fraction`` of the rows of ``tables`` on it."""

    causes_outage = False
    type = "migration_cutover"

    def __init__(self, spec: model.MigrationCutover) -> None:
        self.spec = spec
        self.missing = 0
        self.gate: GateResult | None = None

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.connect is not None
        conn: Any = ctx.connect()
        try:
            replication_of(ctx.engine).promote(conn, timeout_s=PROMOTE_TIMEOUT_S)
            every = max(1, round(1 / self.spec.lost_fraction)) if self.spec.lost_fraction else 0
            if every:
                statements = [f"DELETE FROM {t} WHERE id % {every} = 0" for t in self.spec.tables]
                before = sum(ctx.engine.count_rows(conn, t) for t in self.spec.tables)
                ctx.engine.run_sql(conn, statements)
                after = sum(ctx.engine.count_rows(conn, t) for t in self.spec.tables)
                self.missing = before - after
        finally:
            conn.close()
        if self.spec.gate is not None:
            assert ctx.gate_check is not None
            self.gate = ctx.gate_check(self.spec.gate)

    def took_effect(self, ctx: FaultContext) -> Effect:
        if self.gate is not None and not self.gate.passed:
            return Effect(
                FaultEffect.BLOCKED,
                f"cutover to {ctx.target.name} blocked by the migration gate: {self.gate.reason}",
            )
        return Effect.of(
            took_effect=self.missing > 0,
            evidence=f"{ctx.target.name} promoted as the new server; {self.missing} rows of "
            f"{', '.join(self.spec.tables)} never arrived",
        )

    def revert(self, ctx: FaultContext) -> None:
        """The cutover stands; only the old server or a backup has the missing rows."""
