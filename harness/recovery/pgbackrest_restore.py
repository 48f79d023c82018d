"""Restoring a pgBackRest set: ``pgbackrest restore`` into a data volume, then a server that
fetches WAL from the repository itself (restore_command = archive-get) up to the target.

Into a fresh volume by default; with ``delta`` over the failed primary's own data directory
(the server is stopped first; pgBackRest rewrites only the files whose checksums differ).
pgBackRest's claim ("restore command end: completed successfully") is kept in the step's log;
whether it kept every acknowledged write up to the target is judged afterwards from the
acknowledgment log (measurement), not taken from the tool.
"""

from __future__ import annotations

import shlex

from harness.backups.catalog import BackupRecord
from harness.backups.pgbackrest import label_of
from harness.engines.base import RecoveryTarget
from harness.engines.collaborators import pgbackrest_of
from harness.errors import HarnessError, first_line
from harness.lab.helpers import run_helper
from harness.recovery.context import Recovered, RecoveryContext
from harness.server.node import provision

# pgBackRest's own lines worth keeping in the journal as its account of the restore.
TOOL_MARKERS = ("restore command", "INFO: restore", "WARN", "ERROR", "write updated")


class PgBackRestRestoreFailed(HarnessError):
    """pgbackrest restore, or the server recovering from it, failed (with their account)."""

    def __init__(self, message: str, log_lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.log_lines = log_lines or []


def restore_pgbackrest(
    ctx: RecoveryContext,
    record: BackupRecord,
    *,
    target: RecoveryTarget | None,
    timeout_s: float,
    delta: bool = False,
    verify_timeout_s: float = 30.0,
) -> Recovered:
    """Restore set ``record`` (to ``target``, or the end of the archive) and wait for a
    verified read and write on the promoted server."""
    tool = pgbackrest_of(ctx.engine)
    # The repository: the store volume at the tool's mount, or on S3 (the run's CA mounted;
    # the key pair in the helper's and the server's environment, never argv).
    if tool.s3 is not None:
        repo = tool.mounts()
    else:
        assert ctx.archive_volume is not None, "pgbackrest restores need the repository's store"
        repo = {ctx.archive_volume: tool.mount}
    name = ctx.next_name()
    if delta and ctx.failed.data_volume:
        ctx.lab.stop(ctx.failed.container_id)
        volume = ctx.failed.data_volume
    else:
        delta = False
        volume = ctx.lab.volume(f"data-{name}", role="database-data")
    script = tool.restore_command(label=label_of(record), recovery=target, delta=delta)
    restored = run_helper(
        ctx.lab,
        image=ctx.image,
        name=f"pgbackrest-restore-{name}",
        mounts={volume: ctx.engine.datadir, **repo},
        # The volume is root's when fresh: pgBackRest restores as postgres.
        script=(
            f"set -e; chown postgres: {ctx.engine.datadir}; chmod 700 {ctx.engine.datadir}; "
            f"su postgres -s /bin/bash -c {shlex.quote(script)}"
        ),
        env=tool.env(),
        timeout_s=timeout_s,
    )
    tool_lines = [line[-240:] for line in restored.lines() if any(m in line for m in TOOL_MARKERS)][
        -8:
    ]
    if not restored.ok:
        raise PgBackRestRestoreFailed(
            f"pgbackrest restore exited {restored.exit_code}: {restored.tail(300)}", tool_lines
        )
    node = provision(
        ctx.lab,
        ctx.engine,
        image=ctx.image,
        name=name,
        data_volume=volume,
        mounts=repo,
        wait=False,
        env=tool.env(),  # archive-get reads the key pair from the server's environment
    )
    try:
        done = ctx.wait_promoted(node, timeout_s=timeout_s)
        verified = ctx.wait_verified(node, timeout_s=verify_timeout_s)
    except HarnessError as exc:
        lines = tool_lines + ctx.recovery_log(node)
        ctx.lab.remove(node.container_id)
        raise PgBackRestRestoreFailed(first_line(exc, limit=300), lines) from exc
    claim = "pgbackrest restore exited 0" + (" (delta)" if delta else "")
    return Recovered(
        node,
        done,
        verified,
        restored_from=record,
        log_lines=[claim, *tool_lines, *ctx.recovery_log(node)][-14:],
    )
