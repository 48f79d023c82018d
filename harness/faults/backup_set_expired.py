"""backup_set_expired: a pgBackRest backup set expired from the repository (a retention job
set too tight, an operator's ``expire --set``), taking the sets that depend on it along.

The catalog still lists the backup: recovery has to find out that it is gone (verification's
"exists" level, from ``pgbackrest info``) and fall back to what is left.
"""

from __future__ import annotations

from harness.backups.pgbackrest import as_postgres, label_of, repo_mount, sets
from harness.engines.collaborators import pgbackrest_of
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.scenario import model

COMMAND_TIMEOUT_S = 120.0


class BackupSetExpired:
    """Run ``pgbackrest expire --set=LABEL`` against the repository of the backup's store."""

    causes_outage = False
    type = "backup_set_expired"

    def __init__(self, spec: model.BackupSetExpired) -> None:
        self.spec = spec
        self.label = ""
        self.store = ""
        self.output = ""

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.agent is not None and ctx.catalog is not None
        record = ctx.catalog.get(self.spec.backup)
        self.label, self.store = label_of(record), record.store
        tool = pgbackrest_of(ctx.engine)
        result = ctx.agent.run(
            as_postgres(tool.expire_command(self.label, repo_mount=repo_mount(self.store))),
            timeout_s=COMMAND_TIMEOUT_S,
            env=tool.env(),
        )
        self.output = result.tail(300)

    def took_effect(self, ctx: FaultContext) -> Effect:
        if not self.label:
            return Effect(FaultEffect.NO_EFFECT, f"backup {self.spec.backup} has no set label")
        assert ctx.agent is not None
        left = [s.label for s in sets(ctx.agent, ctx.engine, self.store)]
        gone = self.label not in left
        return Effect.of(
            took_effect=gone,
            evidence=f"set {self.label} {'expired' if gone else 'still in the repository'}; "
            f"sets left: {', '.join(left) or 'none'}"
            + ("" if gone else f" (expire said: {self.output})"),
        )

    def revert(self, ctx: FaultContext) -> None:
        """An expired set does not come back: that is what recovery has to cope with."""
