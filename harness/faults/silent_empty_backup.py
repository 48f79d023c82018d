"""silent_empty_backup: a dump that fails inside a pipeline that still exits 0 (GitLab, 2017).

The mechanism is real: the backup job runs ``pg_dump ... | gzip > FILE`` without pipefail, and
pg_dump fails (stale credentials, or a database name that no longer exists). gzip exits 0 and
leaves a file of about 20 bytes, so the job "succeeds".
"""

from __future__ import annotations

import dataclasses

from harness.backups.catalog import BackupRecord
from harness.engines.base import DumpJob
from harness.faults.base import Effect
from harness.scenario import model

TINY_BYTES = 1024


class SilentEmptyBackup:
    """Breaks one backup job the way GitLab's nightly dumps were broken."""

    type = "silent_empty_backup"

    def __init__(self, spec: model.SilentEmptyBackup) -> None:
        self.spec = spec

    def broken(self, job: DumpJob) -> DumpJob:
        """The job as the fault leaves it: no pipefail, and a dump that cannot succeed."""
        if self.spec.cause == "stale_credentials":
            return dataclasses.replace(job, pipefail=False, password=job.password + "-rotated")
        return dataclasses.replace(job, pipefail=False, database=job.database + "_renamed")

    def took_effect(self, record: BackupRecord) -> Effect:
        """Took effect when the job exited 0 yet left a file of a few bytes."""
        silent = record.exit_code == 0
        tiny = 0 < record.size_bytes < TINY_BYTES
        evidence = f"job exit code {record.exit_code}, file {record.size_bytes} bytes" + (
            f", dump said: {record.log_tail.splitlines()[-1][:160]}" if record.log_tail else ""
        )
        return Effect.of(took_effect=silent and tiny, evidence=evidence)

    def revert(self) -> None:
        """The broken job applies to one backup only; nothing to undo afterwards."""
