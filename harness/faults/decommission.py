"""decommission: a server and its volumes destroyed (Myspace's migration, 2019)."""

from __future__ import annotations

from harness.errors import ContainerGone
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.recovery.gate import GateResult
from harness.scenario import model


class Decommission:
    """Remove the server's container, its anonymous volumes and its data volume."""

    type = "decommission"

    def __init__(self, spec: model.Decommission) -> None:
        self.spec = spec
        # Destroying the primary is an outage; destroying a replica is not (nor is a
        # decommission the gate refuses: see inject).
        self.causes_outage = spec.target == "primary"
        self.gate: GateResult | None = None

    def inject(self, ctx: FaultContext) -> None:
        if self.spec.gate is not None:
            assert ctx.gate_check is not None
            self.gate = ctx.gate_check(self.spec.gate)
            if not self.gate.passed:
                self.causes_outage = False  # the gate kept the server: no outage, nothing lost
                return
        ctx.lab.remove(ctx.target.container_id)
        if ctx.target.data_volume:
            ctx.lab.remove_volume(ctx.target.data_volume)

    def took_effect(self, ctx: FaultContext) -> Effect:
        if self.gate is not None and not self.gate.passed:
            return Effect(FaultEffect.BLOCKED, f"blocked by the migration gate: {self.gate.reason}")
        try:
            ctx.lab.state(ctx.target.container_id)
        except ContainerGone:
            return Effect(
                FaultEffect.TOOK_EFFECT, f"{ctx.target.name}: container and volumes removed"
            )
        return Effect(FaultEffect.NO_EFFECT, f"{ctx.target.name}: container still exists")

    def revert(self, ctx: FaultContext) -> None:
        """Destroyed is destroyed."""
