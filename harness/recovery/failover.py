"""Failover steps: promote a streaming replica, or let a delayed one replay to just before
the fault and promote it."""

from __future__ import annotations

import time

from harness.engines.collaborators import replication_of
from harness.errors import HarnessError, InfrastructureError, first_line
from harness.recovery.context import (
    Landing,
    NotRecovered,
    Recovered,
    RecoveryContext,
    StepOutcome,
    StepResult,
)
from harness.recovery.restore import RESTORED_VERIFY_TIMEOUT_S
from harness.recovery.steps import RESTART_STOP_TIMEOUT_S
from harness.recovery.targets import recovery_target
from harness.scenario.model import PromoteStep, ReplayDelayedStep, SwitchStep


def promote(ctx: RecoveryContext, step: PromoteStep) -> StepResult:
    """Promote the replica; the failover RTO is measured like any restore."""
    started, wall = time.monotonic(), time.time()
    node = ctx.nodes.get(step.replica)
    ctx.announce(f"promoting {step.replica}")
    assert ctx.connect is not None
    errors: tuple[type[BaseException], ...] = (*ctx.engine.driver_errors(), HarnessError)
    try:
        if node is None:
            raise InfrastructureError(f"replica {step.replica} no longer exists")
        conn = ctx.connect(node)
        try:
            replication_of(ctx.engine).promote(conn, timeout_s=step.timeout_s)
        finally:
            conn.close()
        restored = time.monotonic()
        verified = ctx.wait_verified(node, timeout_s=step.timeout_s)
    except errors as exc:
        ctx.record("promote", StepOutcome.FAILED, started, wall, first_line(exc, limit=300))
        return NotRecovered(first_line(exc))
    ctx.record("promote", StepOutcome.OK, started, wall, f"{step.replica} promoted to primary")
    return Recovered(node, restored, verified, step="promote")


def replay_delayed(ctx: RecoveryContext, step: ReplayDelayedStep) -> StepResult:
    """Stop the delayed replica's replay at the target (before the fault), then promote it."""
    started, wall = time.monotonic(), time.time()
    node = ctx.nodes.get(step.replica)
    target, target_wall = recovery_target(
        step.target,
        incident_wall=ctx.incident_wall,
        resolution_s=replication_of(ctx.engine).time_resolution_s,
    )
    ctx.announce(f"replaying {step.replica} up to {target.describe()}")
    assert ctx.connect is not None
    connect = ctx.connect
    errors: tuple[type[BaseException], ...] = (*ctx.engine.driver_errors(), HarnessError)
    replay_lines: list[str] = []
    try:
        if node is None:
            raise InfrastructureError(f"replica {step.replica} no longer exists")
        script = replication_of(ctx.engine).delayed_replay_script(target)
        if script is not None:
            replayed = ctx.lab.exec(
                node.container_id, ["bash", "-c", script], timeout_s=step.timeout_s
            )
            replay_lines = replayed.lines()
            if not replayed.ok:
                raise InfrastructureError(
                    f"replaying {step.replica}'s relay log failed: {replayed.tail(300)}"
                )
        conn = connect(node)
        try:
            restart = replication_of(ctx.engine).retarget(conn, target)
        finally:
            conn.close()
        if restart:
            ctx.lab.restart(node.container_id, timeout_s=RESTART_STOP_TIMEOUT_S)

        restored = ctx.wait_promoted(node, timeout_s=step.timeout_s)
        verified = ctx.wait_verified(node, timeout_s=RESTORED_VERIFY_TIMEOUT_S)
    except errors as exc:
        lines = replay_lines or (ctx.recovery_log(node) if node is not None else [])
        ctx.record(
            "replay_delayed",
            StepOutcome.FAILED,
            started,
            wall,
            first_line(exc, limit=300),
            log_lines=lines,
        )
        return NotRecovered(first_line(exc))
    lines = replay_lines or ctx.recovery_log(node)
    ctx.record(
        "replay_delayed",
        StepOutcome.OK,
        started,
        wall,
        f"{step.replica} replayed to {target.describe()} and promoted",
        log_lines=lines,
    )
    return Recovered(
        node,
        restored,
        verified,
        landing=Landing(target, target_wall, step.tolerance_s, lines),
        step="replay_delayed",
    )


def switch(ctx: RecoveryContext, step: SwitchStep) -> StepResult:
    """Point clients at another existing server and verify it serves reads and writes."""
    started, wall = time.monotonic(), time.time()
    node = ctx.nodes.get(step.server)
    ctx.announce(f"switching clients to {step.server}")
    try:
        if node is None:
            raise InfrastructureError(f"server {step.server} does not exist")
        verified = ctx.wait_verified(node, timeout_s=step.timeout_s)
    except HarnessError as exc:
        ctx.record("switch", StepOutcome.FAILED, started, wall, first_line(exc, limit=300))
        return NotRecovered(first_line(exc))
    ctx.record("switch", StepOutcome.OK, started, wall, f"clients now use {step.server}")
    return Recovered(node, verified, verified, step="switch")
