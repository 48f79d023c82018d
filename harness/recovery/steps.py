"""Recovery steps that act on an existing server: restart, wait, run SQL."""

from __future__ import annotations

import time

from harness.errors import HarnessError
from harness.recovery.context import Recovered, RecoveryContext, first_line
from harness.scenario.model import RestartStep, SqlStep, WaitStep, sql_for


def restart(ctx: RecoveryContext, step: RestartStep) -> Recovered | None:
    """Start the failed server again on its own data directory and wait for it to serve."""
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"restarting {ctx.failed.name}")
    try:
        state = ctx.lab.state(ctx.failed.container_id)
        if state.get("Running"):
            ctx.lab.guard(ctx.failed.container_id, action="restart").restart(timeout=10)
        else:
            ctx.lab.restart_stopped(ctx.failed.container_id)
        restored = time.monotonic()
        verified = ctx.wait_verified(ctx.failed, timeout_s=step.timeout_s)
    except HarnessError as exc:
        ctx.record("restart", "failed", started, wall, first_line(exc))
        return None
    ctx.record("restart", "ok", started, wall, f"{ctx.failed.name} serves reads and writes again")
    return Recovered(ctx.failed, restored, verified, step="restart")


def wait(ctx: RecoveryContext, step: WaitStep) -> Recovered | None:
    """Do nothing; record when the failed server serves verified reads and writes again."""
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"waiting for {ctx.failed.name} to come back by itself")
    try:
        verified = ctx.wait_verified(ctx.failed, timeout_s=step.timeout_s)
    except HarnessError as exc:
        ctx.record("wait", "failed", started, wall, first_line(exc))
        return None
    ctx.record("wait", "ok", started, wall, f"{ctx.failed.name} serves reads and writes again")
    return Recovered(ctx.failed, verified, verified, step="wait")


def run_sql(ctx: RecoveryContext, step: SqlStep) -> Recovered | None:
    """A roll-forward migration or a compensating script, on the (still running) server."""
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"running the {step.kind.replace('_', '-')} script on {ctx.failed.name}")
    assert ctx.connect is not None
    errors: tuple[type[BaseException], ...] = (*ctx.engine.driver_errors(), HarnessError)
    try:
        conn = ctx.connect(ctx.failed)
        try:
            ctx.engine.run_sql(conn, sql_for(step.statements, ctx.engine.name))
        finally:
            conn.close()
        restored = time.monotonic()
        verified = ctx.wait_verified(ctx.failed, timeout_s=step.timeout_s)
    except errors as exc:
        ctx.record(step.kind, "failed", started, wall, first_line(exc))
        return None
    ctx.record(
        step.kind,
        "ok",
        started,
        wall,
        f"{len(sql_for(step.statements, ctx.engine.name))} statement(s) committed",
    )
    return Recovered(ctx.failed, restored, verified, step=step.kind)
