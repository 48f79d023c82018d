"""Restore steps: a backup (logical or physical) into a fresh server, and point-in-time
recovery; the newest backup that passes verification first, falling back to older ones."""

from __future__ import annotations

import time

from harness.backups.agent import STORES_ROOT
from harness.backups.catalog import BackupRecord, Verification
from harness.backups.command import restore_env, run_command
from harness.backups.parallel import restore_command
from harness.backups.upload import download_script
from harness.backups.verify import verify_stored
from harness.engines.base import RecoveryTarget
from harness.engines.collaborators import archive_of, physical_of
from harness.errors import HarnessError, first_line
from harness.lab.helpers import run_helper
from harness.recovery.context import (
    Landing,
    NotRecovered,
    Recovered,
    RecoveryContext,
    StepOutcome,
    StepResult,
)
from harness.recovery.pgbackrest_restore import PgBackRestRestoreFailed, restore_pgbackrest
from harness.recovery.targets import recovery_target
from harness.scenario.model import PitrStep, RestoreBackupStep
from harness.server.node import provision

# A restored server passes its verified read and write within this.
RESTORED_VERIFY_TIMEOUT_S = 30.0


class _StepFailed(HarnessError):
    """A step's own command failed (with the server's account); recorded, then the pipeline
    moves on."""

    def __init__(self, message: str, log_lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.log_lines = log_lines or []


# Backups point-in-time recovery starts from (a base backup and the WAL after it).
PITR_METHODS = ("physical", "pgbackrest")


def _candidates(
    ctx: RecoveryContext, chosen: str, *, method: tuple[str, ...] | None, fallback: bool
) -> list[BackupRecord]:
    ordered = [r for r in ctx.catalog.newest_first() if method is None or r.method in method]
    if chosen != "latest_verified":
        first = ctx.catalog.get(chosen)
        ordered = [first] + [r for r in ordered if r.ended_mono < first.ended_mono]
    return ordered if fallback else ordered[:1]


def verified_backup(ctx: RecoveryContext, record: BackupRecord) -> bool:
    """Verify a stored backup (recorded as a verify_backup step); True if it may be restored."""
    assert ctx.agent is not None
    started, wall = time.monotonic(), time.time()
    ctx.announce(f"verifying backup {record.name}")
    verify_stored(ctx.agent, ctx.engine, record)
    if record.verification < Verification.CHECKSUM_MATCHES or record.verification_failure:
        ctx.record(
            "verify_backup",
            StepOutcome.REJECTED,
            started,
            wall,
            record.verification_failure,
            record.name,
        )
        return False
    ctx.record(
        "verify_backup", StepOutcome.OK, started, wall, ", ".join(record.checks), record.name
    )
    return True


def _why_not(failures: list[str]) -> NotRecovered:
    return NotRecovered("; ".join(failures) or "no backup to restore")


def restore_backup(ctx: RecoveryContext, step: RestoreBackupStep) -> StepResult:
    """Restore the newest backup that passes verification into a fresh server; fall back."""
    if ctx.agent is None:
        ctx.record(
            "restore_backup", StepOutcome.FAILED, time.monotonic(), time.time(), "no backup store"
        )
        return NotRecovered("no backup store")
    failures: list[str] = []
    for record in _candidates(ctx, step.backup, method=None, fallback=step.fallback_to_older):
        checking = time.monotonic()
        if not verified_backup(ctx, record):
            failures.append(f"{record.name} rejected: {record.verification_failure}")
            continue
        started, wall = time.monotonic(), time.time()
        ctx.announce(f"restoring {record.name} into a fresh server")
        try:
            if record.method == "pgbackrest":
                recovered = restore_pgbackrest(ctx, record, target=None, timeout_s=step.timeout_s)
            elif record.method == "physical":
                recovered = restore_physical(ctx, record, target=None, timeout_s=step.timeout_s)
            else:
                recovered = restore_logical(ctx, record, timeout_s=step.timeout_s)
        except HarnessError as exc:
            lines = exc.log_lines if isinstance(exc, _StepFailed | PgBackRestRestoreFailed) else []
            why = first_line(exc, limit=300)
            ctx.record("restore_backup", StepOutcome.FAILED, started, wall, why, record.name, lines)
            failures.append(f"{record.name}: {why}")
            continue
        ctx.record(
            "restore_backup",
            StepOutcome.OK,
            started,
            wall,
            f"restored into {recovered.node.name}",
            record.name,
            (recovered.log_lines or ctx.recovery_log(recovered.node))
            if record.method in PITR_METHODS
            else None,
        )
        recovered.step = "restore_backup"
        recovered.backup_check_s = started - checking
        return recovered
    return _why_not(failures)


def pitr(ctx: RecoveryContext, step: PitrStep) -> StepResult:
    """Restore a physical backup and replay archived WAL up to the target, then promote."""
    if ctx.agent is None:
        ctx.record("pitr", StepOutcome.FAILED, time.monotonic(), time.time(), "no backup store")
        return NotRecovered("no backup store")
    try:
        target, target_wall = recovery_target(
            step.target,
            incident_wall=ctx.incident_wall,
            resolution_s=archive_of(ctx.engine).time_resolution_s,
            fault_position=ctx.fault_position,
        )
    except HarnessError as exc:
        why = first_line(exc, limit=300)
        ctx.record("pitr", StepOutcome.FAILED, time.monotonic(), time.time(), why)
        return NotRecovered(why)
    failures: list[str] = []
    for record in _candidates(ctx, step.backup, method=PITR_METHODS, fallback=True):
        checking = time.monotonic()
        if not verified_backup(ctx, record):
            failures.append(f"{record.name} rejected: {record.verification_failure}")
            continue
        started, wall = time.monotonic(), time.time()
        ctx.announce(f"point-in-time recovery from {record.name} to {target.describe()}")
        try:
            if record.method == "pgbackrest":
                recovered = restore_pgbackrest(
                    ctx, record, target=target, timeout_s=step.timeout_s, delta=step.delta
                )
            else:
                recovered = restore_physical(ctx, record, target=target, timeout_s=step.timeout_s)
        except HarnessError as exc:
            lines = exc.log_lines if isinstance(exc, _StepFailed | PgBackRestRestoreFailed) else []
            why = first_line(exc, limit=300)
            ctx.record("pitr", StepOutcome.FAILED, started, wall, why, record.name, lines)
            failures.append(f"{record.name}: {why}")
            continue
        lines = recovered.log_lines or ctx.recovery_log(recovered.node)
        recovered.landing = Landing(target, target_wall, step.tolerance_s, lines)
        recovered.step = "pitr"
        recovered.backup_check_s = started - checking
        ctx.record(
            "pitr",
            StepOutcome.OK,
            started,
            wall,
            f"recovered {recovered.node.name} to {target.describe()}",
            record.name,
            lines,
        )
        return recovered
    return _why_not(failures)


def restore_logical(ctx: RecoveryContext, record: BackupRecord, *, timeout_s: float) -> Recovered:
    """Load a dump into a fresh server; the server is removed if that fails."""
    assert ctx.agent is not None
    starting = time.monotonic()
    node = provision(ctx.lab, ctx.engine, image=ctx.image, name=ctx.next_name())
    agent = ctx.agent
    store = agent.s3_store(record.path)
    try:
        # The account gets what it has on the primary (MariaDB: server-wide privileges, which
        # a dump's triggers and routines with a DEFINER need).
        script = ctx.engine.after_start_script()
        if script is not None:
            prepared = ctx.lab.exec(node.container_id, ["bash", "-c", script], timeout_s=60)
            if not prepared.ok:
                raise _StepFailed(f"could not prepare {node.name}: {prepared.tail(300)}")
        started = time.monotonic()
        if record.method == "command":
            backup = ctx.scenario_backup(record.name)
            assert backup is not None and backup.restore_command is not None
            env = restore_env(agent, ctx.engine, backup, record.path, target=node.name)
            result = run_command(agent, backup, backup.restore_command, env, what="restore")
        elif store is not None:
            fetch, local = download_script(store, record.path, name=f"{record.name}.dump.gz")
            result = agent.run(
                f"{fetch} && "
                + restore_command(
                    ctx.engine, path=local, target_host=node.name, jobs=record.parallel
                ),
                timeout_s=timeout_s,
                env={**ctx.engine.tool_env(), **store.env()},
            )
        else:
            result = agent.run(
                restore_command(
                    ctx.engine, path=record.path, target_host=node.name, jobs=record.parallel
                ),
                timeout_s=timeout_s,
                env=ctx.engine.tool_env(),
            )
        if not result.ok:
            raise _StepFailed(f"restore exited {result.exit_code}: {result.tail(300)}")
        restored = time.monotonic()
        verified = ctx.wait_verified(node, timeout_s=RESTORED_VERIFY_TIMEOUT_S)
    except BaseException:
        ctx.lab.remove(node.container_id)
        raise
    return Recovered(
        node,
        restored,
        verified,
        restored_from=record,
        server_start_s=started - starting,
        tool_s=restored - started,
    )


def restore_physical(
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
    preparing = time.monotonic()
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
    tool_s = time.monotonic() - preparing
    starting = time.monotonic()
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
        restored = promoted = ctx.wait_promoted(node, timeout_s=timeout_s)
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
        verified = ctx.wait_verified(node, timeout_s=RESTORED_VERIFY_TIMEOUT_S)
    except _StepFailed:
        ctx.lab.remove(node.container_id)
        raise
    except HarnessError as exc:
        # Keep the server's own account of the failure before its container goes.
        lines = ctx.recovery_log(node)
        ctx.lab.remove(node.container_id)
        raise _StepFailed(first_line(exc, limit=300), lines) from exc
    return Recovered(
        node,
        restored,
        verified,
        restored_from=record,
        log_lines=replay_lines[-12:],
        server_start_s=promoted - starting,
        tool_s=tool_s + (restored - promoted),
    )
