"""decommission: a server and its volumes destroyed (Myspace's migration, 2019)."""

from __future__ import annotations

from harness.faults.base import Effect, FaultContext
from harness.scenario import model


class Decommission:
    """Remove the server's container, its anonymous volumes and its data volume."""

    type = "decommission"

    def __init__(self, spec: model.Decommission) -> None:
        self.spec = spec
        self.causes_outage = spec.causes_outage
        self.gate_failure = ""

    def inject(self, ctx: FaultContext) -> None:
        if self.spec.gate is not None:
            assert ctx.gate_check is not None
            self.gate_failure = ctx.gate_check(self.spec.gate)
            if self.gate_failure:
                self.causes_outage = False  # the gate kept the server: no outage, nothing lost
                return
        ctx.lab.remove(ctx.target.container_id)
        if ctx.target.data_volume:
            ctx.lab.remove_volume(ctx.target.data_volume)

    def took_effect(self, ctx: FaultContext) -> Effect:
        if self.gate_failure:
            return Effect(
                False, f"blocked by the migration gate: {self.gate_failure}", blocked=True
            )
        try:
            ctx.lab.state(ctx.target.container_id)
        except Exception:
            return Effect(True, f"{ctx.target.name}: container and volumes removed")
        return Effect(False, f"{ctx.target.name}: container still exists")

    def revert(self, ctx: FaultContext) -> None:
        """Destroyed is destroyed."""
