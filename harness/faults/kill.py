"""kill: SIGKILL of the database server process."""

from __future__ import annotations

from harness.errors import CommandTimeout
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.polling import poll_until
from harness.scenario import model

# SIGKILL ends a process at once; the engine notices the container stopped within this.
DEATH_TIMEOUT_S = 10.0


class KillServer:
    """SIGKILL to the server (the container's main process), no chance to flush or shut down."""

    causes_outage = True
    type = "kill"

    def __init__(self, spec: model.Kill) -> None:
        self.spec = spec

    def inject(self, ctx: FaultContext) -> None:
        ctx.lab.kill(ctx.target.container_id, signal_name="SIGKILL")

    def took_effect(self, ctx: FaultContext) -> Effect:
        lab, target = ctx.lab, ctx.target

        def stopped() -> dict[str, object] | None:
            state = lab.state(target.container_id)
            return state if not state.get("Running") else None

        try:
            state = poll_until(
                stopped, what="the server process to die", timeout_s=DEATH_TIMEOUT_S, retry_on=()
            )
        except CommandTimeout as exc:
            return Effect(FaultEffect.NO_EFFECT, f"server still running: {exc}")
        return Effect(
            FaultEffect.TOOK_EFFECT,
            f"server process gone: exit code {state.get('ExitCode')}, "
            f"OOMKilled={state.get('OOMKilled')}",
        )

    def revert(self, ctx: FaultContext) -> None:
        """Nothing lingers: restarting the server is a recovery step, not an undo."""
