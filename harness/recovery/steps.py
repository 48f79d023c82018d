"""Recovery steps that act on an existing server: restart, wait, run SQL."""

from __future__ import annotations

import time

from harness.errors import HarnessError, first_line
from harness.recovery.context import (
    NotRecovered,
    Recovered,
    RecoveryContext,
    StepOutcome,
    StepResult,
)
from harness.scenario.model import RestartStep, SqlStep, WaitStep, sql_for

# How long a restart gives the running server to stop cleanly before it is killed.
RESTART_STOP_TIMEOUT_S = 10


def restart(ctx: RecoveryContext, step: RestartStep) -> StepResult:
    """Start the failed server again on its own data directory and wait for it to serve."""
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"restarting {ctx.failed.name}")
    try:
        state = ctx.lab.state(ctx.failed.container_id)
        if state.get("Running"):
            ctx.lab.restart(ctx.failed.container_id, timeout_s=RESTART_STOP_TIMEOUT_S)
        else:
            ctx.lab.restart_stopped(ctx.failed.container_id)
        restored = time.monotonic()
        verified = ctx.wait_verified(ctx.failed, timeout_s=step.timeout_s)
    except HarnessError as exc:
        ctx.record("restart", StepOutcome.FAILED, started, wall, first_line(exc, limit=300))
        return NotRecovered(first_line(exc))
    ctx.record(
        "restart", StepOutcome.OK, started, wall, f"{ctx.failed.name} serves reads and writes again"
    )
    return Recovered(ctx.failed, restored, verified, step="restart")


def wait(ctx: RecoveryContext, step: WaitStep) -> StepResult:
    """Do nothing; record when the failed server serves verified reads and writes again."""
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"waiting for {ctx.failed.name} to come back by itself")
    try:
        verified = ctx.wait_verified(ctx.failed, timeout_s=step.timeout_s)
    except HarnessError as exc:
        ctx.record("wait", StepOutcome.FAILED, started, wall, first_line(exc, limit=300))
        return NotRecovered(first_line(exc))
    ctx.record(
        "wait", StepOutcome.OK, started, wall, f"{ctx.failed.name} serves reads and writes again"
    )
    return Recovered(ctx.failed, verified, verified, step="wait")


def run_sql(ctx: RecoveryContext, step: SqlStep) -> StepResult:
    """A roll-forward migration or a compensating script, on the (still running) server."""
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"running the {step.kind.replace('_', '-')} script on {ctx.failed.name}")
    assert ctx.connect is not None
    errors: tuple[type[BaseException], ...] = (*ctx.engine.driver_errors(), HarnessError)
    statements = sql_for(step.statements, ctx.engine.name)
    try:
        conn = ctx.connect(ctx.failed)
        try:
            ctx.engine.run_sql(conn, statements)
        finally:
            conn.close()
        restored = time.monotonic()
        verified = ctx.wait_verified(ctx.failed, timeout_s=step.timeout_s)
    except errors as exc:
        ctx.record(step.kind, StepOutcome.FAILED, started, wall, first_line(exc, limit=300))
        return NotRecovered(first_line(exc))
    detail = f"{len(statements)} statement(s) committed"
    ctx.record(step.kind, StepOutcome.OK, started, wall, detail)
    return Recovered(ctx.failed, restored, verified, step=step.kind)
