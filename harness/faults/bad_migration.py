"""bad_migration: schema changes run on the primary, which a streaming replica applies at once.

The scenario gives the SQL (e.g. data moved to a new table and the old one dropped while an
old system still reads it; a column changed from INTEGER to DECIMAL). It took effect when
the seeded tables no longer match their reference fingerprints.
"""

from __future__ import annotations

from typing import Any

from harness.errors import first_line
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.scenario import model
from harness.scenario.model import sql_for


class BadMigration:
    """Run the migration's statements in one transaction on the target."""

    causes_outage = False
    type = "bad_migration"

    def __init__(self, spec: model.BadMigration) -> None:
        self.spec = spec
        self.error = ""

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.connect is not None
        conn: Any = ctx.connect()
        try:
            ctx.engine.run_sql(conn, sql_for(self.spec.sql, ctx.engine.name))
        except ctx.engine.driver_errors() as exc:
            self.error = first_line(exc)
        finally:
            conn.close()

    def took_effect(self, ctx: FaultContext) -> Effect:
        if self.error:
            return Effect(FaultEffect.NO_EFFECT, f"migration failed: {self.error}")
        assert ctx.damaged_tables is not None
        damaged = ctx.damaged_tables(ctx.target.name)
        statements = sql_for(self.spec.sql, ctx.engine.name)
        evidence = (
            f"{len(statements)} statement(s) committed on {ctx.target.name}; tables no longer "
            f"matching their reference: {', '.join(damaged) or 'none'}"
        )
        for other in ctx.node_names:
            if other != ctx.target.name:
                elsewhere = ctx.damaged_tables(other)
                evidence += f"; on {other}: {', '.join(elsewhere) or 'none'}"
        return Effect.of(took_effect=bool(damaged), evidence=evidence)

    def revert(self, ctx: FaultContext) -> None:
        """A committed migration is undone only by recovery (roll forward, compensate, restore)."""
