"""Run a recovery procedure's steps in order until one yields a verified server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.recovery.context import NotRecovered, Recovered, RecoveryContext, StepResult
from harness.recovery.failover import promote, replay_delayed, switch
from harness.recovery.restore import pitr, restore_backup
from harness.recovery.steps import restart, run_sql, wait
from harness.scenario.model import RecoveryStep

STEPS: dict[str, Callable[[RecoveryContext, Any], StepResult]] = {
    "restart": restart,
    "wait": wait,
    "sql": run_sql,
    "restore_backup": restore_backup,
    "pitr": pitr,
    "promote": promote,
    "replay_delayed": replay_delayed,
    "switch": switch,
}


def run_recovery(ctx: RecoveryContext, steps: list[RecoveryStep]) -> StepResult:
    """The first step that recovers wins; every attempt is in ``ctx.records``."""
    failures: list[str] = []
    for step in steps:
        result = STEPS[step.step](ctx, step)
        if isinstance(result, Recovered):
            return result
        failures.append(f"{step.step}: {result.why}")
    return NotRecovered("; ".join(failures) or "no recovery steps")
