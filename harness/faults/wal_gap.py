"""wal_gap: an archived log segment (PostgreSQL WAL, MariaDB binlog) removed or damaged.

The segment chosen is one that point-in-time recovery from the newest physical backup must
replay: after the one the backup starts from (PostgreSQL: the last it carries in pg_wal;
MariaDB: the binlog named in xtrabackup_binlog_info), and not the newest one archived.
"""

from __future__ import annotations

import shlex

from harness.engines.collaborators import archive_of, physical_of
from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.scenario import model

# Listing, reading and damaging one archive folder each end well within this.
COMMAND_TIMEOUT_S = 30.0


class WalGap:
    """Remove (or overwrite the middle of) one archived WAL segment."""

    causes_outage = False
    type = "wal_gap"

    def __init__(self, spec: model.WalGap) -> None:
        self.spec = spec
        self.segment = ""
        self.why_not = ""

    @staticmethod
    def _archive(ctx: FaultContext) -> str:
        return f"/stores/{ctx.archive_store}/{archive_of(ctx.engine).subdir}"

    def _segments(self, ctx: FaultContext, folder: str) -> list[str]:
        assert ctx.agent is not None
        result = ctx.agent.run(
            f"ls {shlex.quote(folder)} 2>/dev/null || true", timeout_s=COMMAND_TIMEOUT_S
        )
        return sorted(n for n in result.stdout.split() if archive_of(ctx.engine).is_segment(n))

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.agent is not None and ctx.catalog is not None and ctx.archive_store
        physical = [r for r in ctx.catalog.newest_first() if r.method == "physical"]
        if not physical:
            self.why_not = "no physical backup to take archived logs after"
            return
        start = ctx.agent.run(
            physical_of(ctx.engine).log_start_script(physical[0].path), timeout_s=COMMAND_TIMEOUT_S
        ).stdout.strip()
        archive = self._archive(ctx)
        after = [s for s in self._segments(ctx, archive) if not start or s > start]
        if not after:
            self.why_not = f"no segment archived after backup {physical[0].name} yet"
            return
        # Any archived segment after the backup is needed to replay past it; take one from
        # the middle so that recovery gets some way before it stops.
        self.segment = after[(len(after) - 1) // 2]
        path = shlex.quote(f"{archive}/{self.segment}")
        if self.spec.mode == "remove":
            command = f"rm -f {path}"
        else:
            command = (
                f"dd if=/dev/urandom of={path} bs=4096 count=4 seek=16 conv=notrunc 2>/dev/null"
            )
        ctx.agent.run(command, timeout_s=COMMAND_TIMEOUT_S)

    def took_effect(self, ctx: FaultContext) -> Effect:
        if not self.segment:
            return Effect(FaultEffect.NO_EFFECT, f"no segment chosen: {self.why_not}")
        assert ctx.agent is not None and ctx.archive_store
        present = self.segment in self._segments(ctx, self._archive(ctx))
        if self.spec.mode == "remove":
            state = "still present" if present else "removed"
            return Effect.of(took_effect=not present, evidence=f"segment {self.segment} {state}")
        return Effect.of(
            took_effect=present,
            evidence=f"segment {self.segment} overwritten with 16 KiB of random bytes",
        )

    def revert(self, ctx: FaultContext) -> None:
        """The archive stays damaged: that is what recovery has to cope with."""
