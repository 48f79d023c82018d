"""backup_store_full: the backup store fills up, so the next backups fail (or truncate)."""

from __future__ import annotations

import shlex

from harness.faults.base import Effect, FaultContext, FaultEffect
from harness.scenario import model

# Deadlines: writing the store full, reading its free space, removing the filler.
FILL_TIMEOUT_S = 300.0
INSPECT_TIMEOUT_S = 30.0
FREE_TIMEOUT_S = 60.0

FILLER = ".recovery-drill-filler"


class BackupStoreFull:
    """Fill a size-limited (tmpfs) store with one big file."""

    causes_outage = False
    type = "backup_store_full"

    def __init__(self, spec: model.BackupStoreFull) -> None:
        self.spec = spec

    def _folder(self) -> str:
        return f"/stores/{self.spec.store}"

    def inject(self, ctx: FaultContext) -> None:
        assert ctx.agent is not None
        filler = shlex.quote(f"{self._folder()}/{FILLER}")
        ctx.agent.run(
            f"dd if=/dev/zero of={filler} bs=1M 2>/dev/null; sync; true", timeout_s=FILL_TIMEOUT_S
        )

    def took_effect(self, ctx: FaultContext) -> Effect:
        assert ctx.agent is not None
        result = ctx.agent.run(
            f"df --output=avail,size -k {shlex.quote(self._folder())} | tail -1",
            timeout_s=INSPECT_TIMEOUT_S,
        )
        words = result.stdout.split()
        if len(words) != 2:
            return Effect(FaultEffect.NO_EFFECT, f"could not read free space: {result.tail()}")
        avail_kb, size_kb = int(words[0]), int(words[1])
        return Effect.of(
            took_effect=avail_kb < 1024,
            evidence=f"store {self.spec.store}: {avail_kb} KiB free of {size_kb} KiB",
        )

    def revert(self, ctx: FaultContext) -> None:
        """Free the space again (safe to repeat)."""
        if ctx.agent is not None:
            ctx.agent.run(
                f"rm -f {shlex.quote(f'{self._folder()}/{FILLER}')}", timeout_s=FREE_TIMEOUT_S
            )
