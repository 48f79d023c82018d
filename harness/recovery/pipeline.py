"""Run the scenario's recovery steps in order until one yields a verified server."""

from __future__ import annotations

from harness.recovery.steps import Recovered, RecoveryContext, restart, restore_backup, wait
from harness.scenario.model import RecoveryStep, RestartStep, RestoreBackupStep, WaitStep


def run_recovery(ctx: RecoveryContext, steps: list[RecoveryStep]) -> Recovered | None:
    """The first step that recovers wins; every attempt is in ``ctx.records``."""
    for step in steps:
        recovered: Recovered | None
        if isinstance(step, RestartStep):
            recovered = restart(ctx, step)
        elif isinstance(step, WaitStep):
            recovered = wait(ctx, step)
        elif isinstance(step, RestoreBackupStep):
            recovered = restore_backup(ctx, step)
        else:  # pragma: no cover - the scenario model admits no other step
            raise TypeError(f"unknown recovery step {step!r}")
        if recovered is not None:
            return recovered
    return None
