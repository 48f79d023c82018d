"""delete_writes: a logical error that deletes acknowledged rows: a loss of known size.

The calibration fault for RPO: exactly ``count`` acknowledged writes disappear, either the
newest ones (a tail) or a block from the middle (holes), while the server stays up.
"""

from __future__ import annotations

from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.scenario import model


class DeleteWrites:
    """DELETE of chosen acknowledged writer rows on the target server."""

    causes_outage = False
    type = "delete_writes"

    def __init__(self, spec: model.DeleteWrites) -> None:
        self.spec = spec
        self.chosen: list[int] = []
        self.deleted = 0

    def _choose(self, acked: list[int]) -> list[int]:
        k = self.spec.count
        ordered = sorted(acked)
        if len(ordered) < k + 2:
            return []
        if self.spec.where == "newest":
            return ordered[-k:]
        start = (len(ordered) - k) // 2
        return ordered[start : start + k]

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.connect is not None and ctx.acked_seqs is not None
        self.chosen = self._choose(ctx.acked_seqs())
        if not self.chosen:
            return
        conn = ctx.connect()
        try:
            self.deleted = ctx.engine.delete_writes(conn, self.chosen)
        finally:
            conn.close()

    def took_effect(self, ctx: FaultContext) -> Effect:
        if not self.chosen:
            return Effect(
                FaultEffect.NO_EFFECT,
                f"fewer than {self.spec.count + 2} acknowledged writes to choose from",
            )
        span = f"seq {self.chosen[0]}..{self.chosen[-1]}"
        return Effect.of(
            took_effect=self.deleted == len(self.chosen),
            evidence=f"deleted {self.deleted} of {len(self.chosen)} chosen acknowledged writes "
            f"({span}, {self.spec.where})",
        )

    def revert(self, ctx: FaultContext) -> None:
        """A logical error has nothing to undo; recovering the rows is recovery's job."""
