"""Restore steps: a backup (logical or physical) into a fresh server, and point-in-time
recovery; the newest backup that passes verification first, falling back to older ones."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable

from harness.backups.agent import STORES_ROOT
from harness.backups.catalog import BackupRecord, Verification
from harness.backups.verify import verify_stored
from harness.engines.base import RecoveryTarget
from harness.engines.collaborators import archive_of, physical_of
from harness.errors import HarnessError, InfrastructureError
from harness.recovery.context import Landing, Recovered, RecoveryContext, first_line
from harness.scenario.model import PitrStep, PitrTarget, RestoreBackupStep
from harness.server.node import Node, provision, run_helper


class _StepFailed(Exception):
    """A step's own command failed; recorded, then the pipeline moves on."""

    def __init__(self, message: str, log_lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.log_lines = log_lines or []


def recovery_target(
    target: PitrTarget,
    *,
    incident_wall: float,
    resolution_s: float = 1e-6,
    fault_position: tuple[str, float] | None = None,
) -> tuple[RecoveryTarget, float | None]:
    """The engine-level target and, for time targets, its wall time (epoch seconds).

    A time target is rounded down to the engine's resolution (MariaDB's binlog stamps whole
    seconds): recovery then loses up to that much more, which the RPO counts, but never
    replays past the target. The landing is judged against the rounded time.

    A fault-position target is the primary's log position read just before the incident
    (``fault_position``: the position and the wall time it was read), judged against that time.
    """
    if target.fault_position:
        if fault_position is None:
            raise InfrastructureError("the primary's log position before the fault was not read")
        position, read_wall = fault_position
        return RecoveryTarget(position=position), read_wall
    if target.before_fault:
        wall = incident_wall + target.offset_s
    elif target.time is not None:
        parsed = dt.datetime.fromisoformat(target.time)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        wall = parsed.timestamp() + target.offset_s
    else:
        return RecoveryTarget(lsn=target.lsn, name=target.name), None
    if resolution_s >= 1e-3:
        wall = math.floor(wall / resolution_s) * resolution_s
    iso = dt.datetime.fromtimestamp(wall, dt.UTC).isoformat(sep=" ")
    return RecoveryTarget(time=iso), wall


def _candidates(
    ctx: RecoveryContext, chosen: str, *, method: str | None, fallback: bool
) -> list[BackupRecord]:
    ordered = [r for r in ctx.catalog.newest_first() if method is None or r.method == method]
    if chosen != "latest_verified":
        first = ctx.catalog.get(chosen)
        ordered = [first] + [r for r in ordered if r.ended_mono < first.ended_mono]
    return ordered if fallback else ordered[:1]


def _verified(ctx: RecoveryContext, record: BackupRecord) -> bool:
    assert ctx.agent is not None
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"verifying backup {record.name}")
    verify_stored(ctx.agent, ctx.engine, record)
    if record.verification < Verification.CHECKSUM_MATCHES:
        ctx.record(
            "verify_backup", "rejected", started, wall, record.verification_failure, record.name
        )
        return False
    ctx.record("verify_backup", "ok", started, wall, ", ".join(record.checks), record.name)
    return True


def restore_backup(ctx: RecoveryContext, step: RestoreBackupStep) -> Recovered | None:
    """Restore the newest backup that passes verification into a fresh server; fall back."""
    if ctx.agent is None:
        ctx.record("restore_backup", "failed", time.monotonic(), time.time(), "no backup store")
        return None
    for record in _candidates(ctx, step.backup, method=None, fallback=step.fallback_to_older):
        if not _verified(ctx, record):
            continue
        started, wall = time.monotonic(), time.time()
        ctx.announce(f"restoring {record.name} into a fresh server")
        try:
            if record.method == "physical":
                recovered = _physical(ctx, record, target=None, timeout_s=step.timeout_s)
            else:
                recovered = _logical(ctx, record, timeout_s=step.timeout_s)
        except (HarnessError, _StepFailed) as exc:
            lines = exc.log_lines if isinstance(exc, _StepFailed) else []
            ctx.record(
                "restore_backup", "failed", started, wall, first_line(exc), record.name, lines
            )
            continue
        ctx.record(
            "restore_backup",
            "ok",
            started,
            wall,
            f"restored into {recovered.node.name}",
            record.name,
            (recovered.log_lines or ctx.recovery_log(recovered.node))
            if record.method == "physical"
            else None,
        )
        recovered.step = "restore_backup"
        return recovered
    return None


def pitr(ctx: RecoveryContext, step: PitrStep) -> Recovered | None:
    """Restore a physical backup and replay archived WAL up to the target, then promote."""
    if ctx.agent is None:
        ctx.record("pitr", "failed", time.monotonic(), time.time(), "no backup store")
        return None
    try:
        target, target_wall = recovery_target(
            step.target,
            incident_wall=ctx.incident_wall,
            resolution_s=archive_of(ctx.engine).time_resolution_s,
            fault_position=ctx.fault_position,
        )
    except HarnessError as exc:
        ctx.record("pitr", "failed", time.monotonic(), time.time(), first_line(exc))
        return None
    for record in _candidates(ctx, step.backup, method="physical", fallback=True):
        if not _verified(ctx, record):
            continue
        started, wall = time.monotonic(), time.time()
        ctx.announce(f"point-in-time recovery from {record.name} to {target.describe()}")
        try:
            recovered = _physical(ctx, record, target=target, timeout_s=step.timeout_s)
        except (HarnessError, _StepFailed) as exc:
            lines = exc.log_lines if isinstance(exc, _StepFailed) else []
            ctx.record("pitr", "failed", started, wall, first_line(exc), record.name, lines)
            continue
        lines = recovered.log_lines or ctx.recovery_log(recovered.node)
        recovered.landing = Landing(target, target_wall, step.tolerance_s, lines)
        recovered.step = "pitr"
        ctx.record(
            "pitr",
            "ok",
            started,
            wall,
            f"recovered {recovered.node.name} to {target.describe()}",
            record.name,
            lines,
        )
        return recovered
    return None


def _logical(ctx: RecoveryContext, record: BackupRecord, *, timeout_s: float) -> Recovered:
    assert ctx.agent is not None
    node = provision(ctx.lab, ctx.engine, image=ctx.image, name=ctx.next_name())
    try:
        result = ctx.agent.run(
            ctx.engine.restore_command(path=record.path, target_host=node.name),
            timeout_s=timeout_s,
            env=ctx.engine.tool_env(),
        )
        if not result.ok:
            raise _StepFailed(f"restore exited {result.exit_code}: {result.tail(300)}")
        restored = time.monotonic()
        verified = ctx.wait_verified(node, timeout_s=30)
    except BaseException:
        ctx.lab.remove(node.container_id)
        raise
    return Recovered(node, restored, verified, restored_from=record)


def _physical(
    ctx: RecoveryContext, record: BackupRecord, *, target: RecoveryTarget | None, timeout_s: float
) -> Recovered:
    """Copy a base backup into a new data volume, start a server on it, let it recover.

    PostgreSQL replays archived WAL by itself before it promotes; for MariaDB a helper pipes
    the archived binlogs after the backup's position through mariadb-binlog into the started
    server. Either way the restore ends when the server accepts writes with the replay done.
    """
    assert ctx.agent is not None
    name = ctx.next_name()
    volume = ctx.lab.volume(f"data-{name}", role="database-data")
    store_volume = ctx.agent.volumes[record.store]
    store_path = f"{STORES_ROOT}/{record.store}"
    archive = ctx.archive_volume is not None
    prepared = run_helper(
        ctx.lab,
        image=ctx.image,
        name=f"prepare-{name}",
        mounts={volume: "/target", store_volume: store_path},
        script=physical_of(ctx.engine).prepare_restore_script(
            source=record.path, target="/target", recovery=target, archive=archive
        ),
    )
    if not prepared.ok:
        raise _StepFailed(f"preparing the data directory failed: {prepared.tail(300)}")
    mounts = {ctx.archive_volume: archive_of(ctx.engine).mount} if ctx.archive_volume else {}
    node = provision(
        ctx.lab,
        ctx.engine,
        image=ctx.image,
        name=name,
        data_volume=volume,
        mounts=mounts,
        wait=False,
    )
    replay_lines: list[str] = []
    try:
        restored = ctx.wait_promoted(node, timeout_s=timeout_s)
        # Both stores under /stores (the archive may be the backup's own store).
        archive_store = next(
            (n for n, v in ctx.agent.volumes.items() if v == ctx.archive_volume), None
        )
        replay = archive_of(ctx.engine).replay_script(
            backup_path=record.path,
            archive_dir=f"{STORES_ROOT}/{archive_store}/{archive_of(ctx.engine).subdir}",
            target_host=node.name,
            recovery=target,
        )
        if replay is not None and archive_store is not None and ctx.archive_volume is not None:
            replayed = run_helper(
                ctx.lab,
                image=ctx.image,
                name=f"replay-{name}",
                mounts={
                    ctx.archive_volume: f"{STORES_ROOT}/{archive_store}",
                    store_volume: store_path,
                },
                script=replay,
                env=ctx.engine.tool_env(),
                timeout_s=timeout_s,
            )
            replay_lines = replayed.lines()
            if not replayed.ok:
                raise _StepFailed(
                    f"log replay exited {replayed.exit_code}: {replayed.tail(300)}", replay_lines
                )
            restored = time.monotonic()
        verified = ctx.wait_verified(node, timeout_s=30)
    except _StepFailed:
        ctx.lab.remove(node.container_id)
        raise
    except HarnessError as exc:
        # Keep the server's own account of the failure before its container goes.
        lines = ctx.recovery_log(node)
        ctx.lab.remove(node.container_id)
        raise _StepFailed(first_line(exc), lines) from exc
    return Recovered(node, restored, verified, restored_from=record, log_lines=replay_lines[-12:])


def restore_test(
    ctx: RecoveryContext, record: BackupRecord, *, matches_reference: Callable[[Node], bool]
) -> str:
    """Restore ``record`` into a scratch server and compare it with the reference.

    Returns "" when the restored data matches, otherwise why not; the scratch server is
    removed either way. On success the backup reaches the restore-tested level.
    """
    if not _verified(ctx, record):
        return f"backup {record.name} failed verification: {record.verification_failure}"
    try:
        if record.method == "physical":
            restored = _physical(ctx, record, target=None, timeout_s=300)
        else:
            restored = _logical(ctx, record, timeout_s=300)
    except (HarnessError, _StepFailed) as exc:
        return f"restore test of {record.name} failed: {first_line(exc)}"
    try:
        if not matches_reference(restored.node):
            return f"restore test of {record.name}: restored data does not match the reference"
    finally:
        ctx.lab.remove(restored.node.container_id)
    record.verification = Verification.RESTORE_TESTED
    record.checks.append("restore_tested")
    return ""
