"""Logical backups (pg_dump custom format, gzip) run by the agent and catalogued."""

from __future__ import annotations

import time

from harness.backups.agent import BackupAgent
from harness.backups.catalog import BackupRecord
from harness.backups.parallel import dump_command
from harness.engines.base import DumpJob, Engine
from harness.scenario.model import Backup


def dump_job(engine: Engine, backup: Backup, *, source_host: str) -> DumpJob:
    """The job as the team configured it: real credentials, pipefail on."""
    return DumpJob(
        source_host=source_host,
        path=BackupAgent.path(backup.store, f"{backup.name}.dump.gz"),
        password=engine.credentials.password,
        database=engine.credentials.database,
    )


def take_logical_backup(
    agent: BackupAgent,
    engine: Engine,
    backup: Backup,
    job: DumpJob,
    *,
    source_bytes: int,
    last_acked_seq: int,
    timeout_s: float = 600,
) -> BackupRecord:
    """Run ``job`` in the agent and catalogue what it produced (whatever its exit code)."""
    started_wall, started = time.time(), time.monotonic()
    # The job's password (a stale one under silent_empty_backup) goes in the environment.
    env = engine.tool_env(password=job.password)
    command = dump_command(engine, job, jobs=backup.parallel)
    result = agent.run(command, timeout_s=timeout_s, env=env)
    ended_wall, ended = time.time(), time.monotonic()
    facts = agent.facts(job.path)
    return BackupRecord(
        name=backup.name,
        method=backup.method,
        store=backup.store,
        path=job.path,
        started_wall=started_wall,
        ended_wall=ended_wall,
        started_mono=started,
        ended_mono=ended,
        exit_code=result.exit_code,
        size_bytes=facts.size_bytes,
        sha256=facts.sha256,
        source_bytes=source_bytes,
        min_size_ratio=backup.min_size_ratio,
        last_acked_seq=last_acked_seq,
        log_tail=result.tail(),
        parallel=backup.parallel,
    )
