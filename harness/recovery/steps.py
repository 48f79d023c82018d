"""The recovery steps a scenario may list; each returns a recovered node or None."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.backups.agent import BackupAgent
from harness.backups.catalog import BackupRecord, Catalog, Verification
from harness.backups.verify import verify_stored
from harness.clock import iso_utc
from harness.engines.base import Engine
from harness.errors import HarnessError
from harness.health import probe
from harness.lab.lab import Lab
from harness.lab.node import Node, provision
from harness.polling import poll_until
from harness.scenario.model import RestartStep, RestoreBackupStep, WaitStep

log = logging.getLogger(__name__)


@dataclass
class StepRecord:
    """One recorded attempt of a recovery step."""

    step: str
    outcome: str  # ok | failed | rejected
    started_wall: float
    duration_s: float
    detail: str
    backup: str | None = None
    started_mono: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "outcome": self.outcome,
            "started_at": iso_utc(self.started_wall),
            "duration_s": round(self.duration_s, 4),
            "backup": self.backup,
            "detail": self.detail,
        }


@dataclass
class Recovered:
    """A server that passed its verified read and write."""

    node: Node
    restored_mono: float
    verified_mono: float
    restored_from: BackupRecord | None = None


@dataclass
class RecoveryContext:
    """What recovery steps work with; ``records`` collects every attempt."""

    lab: Lab
    engine: Engine
    image: str
    agent: BackupAgent | None
    catalog: Catalog
    failed: Node
    probe_interval_s: float
    announce: Callable[[str], None]
    records: list[StepRecord] = field(default_factory=list)
    _restores: int = 0

    def next_name(self) -> str:
        self._restores += 1
        return f"restored-{self._restores}"

    def record(
        self,
        step: str,
        outcome: str,
        started: float,
        started_wall: float,
        detail: str,
        backup: str | None = None,
    ) -> None:
        self.records.append(
            StepRecord(
                step, outcome, started_wall, time.monotonic() - started, detail, backup, started
            )
        )
        log.info("recovery %s%s: %s (%s)", step, f" [{backup}]" if backup else "", outcome, detail)

    def wait_verified(self, node: Node, *, timeout_s: float) -> float:
        """Poll until a verified read and write succeeds on ``node``; return that moment."""

        def healthy() -> float:
            probe(self.lab, self.engine, node)
            return time.monotonic()

        return poll_until(
            healthy,
            what=f"a verified read and write on {node.name}",
            timeout_s=timeout_s,
            interval_s=self.probe_interval_s,
        )


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
        ctx.record("restart", "failed", started, wall, str(exc).splitlines()[0][:300])
        return None
    ctx.record("restart", "ok", started, wall, f"{ctx.failed.name} serves reads and writes again")
    return Recovered(ctx.failed, restored, verified)


def wait(ctx: RecoveryContext, step: WaitStep) -> Recovered | None:
    """Do nothing; record when the failed server serves verified reads and writes again."""
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"waiting for {ctx.failed.name} to come back by itself")
    try:
        verified = ctx.wait_verified(ctx.failed, timeout_s=step.timeout_s)
    except HarnessError as exc:
        ctx.record("wait", "failed", started, wall, str(exc).splitlines()[0][:300])
        return None
    ctx.record("wait", "ok", started, wall, f"{ctx.failed.name} serves reads and writes again")
    return Recovered(ctx.failed, verified, verified)


def _candidates(ctx: RecoveryContext, step: RestoreBackupStep) -> list[BackupRecord]:
    ordered = ctx.catalog.newest_first()
    if step.backup != "latest_verified":
        chosen = ctx.catalog.get(step.backup)
        ordered = [chosen] + [r for r in ordered if r.ended_mono < chosen.ended_mono]
    return ordered if step.fallback_to_older else ordered[:1]


def restore_backup(ctx: RecoveryContext, step: RestoreBackupStep) -> Recovered | None:
    """Restore the newest backup that passes verification into a fresh server; fall back."""
    if ctx.agent is None:
        ctx.record("restore_backup", "failed", time.monotonic(), time.time(), "no backup store")
        return None
    agent = ctx.agent
    for record in _candidates(ctx, step):
        started, wall = time.monotonic(), time.time()
        ctx.announce(f"verifying backup {record.name}")
        verify_stored(agent, record)
        if record.verification < Verification.CHECKSUM_MATCHES:
            ctx.record(
                "verify_backup", "rejected", started, wall, record.verification_failure, record.name
            )
            continue
        ctx.record("verify_backup", "ok", started, wall, ", ".join(record.checks), record.name)

        started, wall = time.monotonic(), time.time()
        ctx.announce(f"restoring {record.name} into a fresh server")
        node: Node | None = None
        try:
            node = provision(ctx.lab, ctx.engine, image=ctx.image, name=ctx.next_name())
            result = agent.run(
                ctx.engine.restore_command(path=record.path, target_host=node.name),
                timeout_s=step.timeout_s,
                env=ctx.engine.tool_env(),
            )
            if not result.ok:
                raise _StepFailed(f"restore exited {result.exit_code}: {result.tail(300)}")
            restored = time.monotonic()
            verified = ctx.wait_verified(node, timeout_s=30)
        except (HarnessError, _StepFailed) as exc:
            ctx.record(
                "restore_backup",
                "failed",
                started,
                wall,
                str(exc).splitlines()[0][:300],
                record.name,
            )
            if node is not None:
                ctx.lab.remove(node.container_id)
            continue
        ctx.record("restore_backup", "ok", started, wall, f"restored into {node.name}", record.name)
        return Recovered(node, restored, verified, restored_from=record)
    return None


class _StepFailed(Exception):
    """A step's own command failed; recorded, then the pipeline moves on."""
