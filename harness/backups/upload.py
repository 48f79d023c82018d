"""Logical backups shipped to an S3 store: dump into the agent's scratch space, then upload the
file through the S3 API (``rd-s3 put``), the way a cron job with ``aws s3 cp`` does it.

The uploader prints the sha256 and size of what the dump produced (the job's own claim); the
catalog keeps that claim, so that an object shorter than the dump (a truncated or empty upload,
``silent_empty_upload``) fails the checksum or the size check against the store's metadata.

The upload runs with the job's own key where the store has one (``S3Store.job_env``); with
``swallow_errors`` (``upload_credentials_expired``) it is wrapped the way many cron wrappers
are: a failed upload is logged on stderr and the job still exits 0.
"""

from __future__ import annotations

import shlex
import time

from harness.backups.agent import BackupAgent
from harness.backups.catalog import BackupRecord
from harness.backups.s3store import S3Store, parse_url
from harness.engines.base import DumpJob, Engine
from harness.scenario.model import Backup

STAGING = "/tmp/rd-staging"
RESTORE_STAGING = "/tmp/rd-restore"


def staged_job(engine: Engine, backup: Backup, *, source_host: str) -> DumpJob:
    """The dump job, writing into the agent's scratch space before the upload."""
    return DumpJob(
        source_host=source_host,
        path=f"{STAGING}/{backup.name}.dump.gz",
        password=engine.credentials.password,
        database=engine.credentials.database,
    )


def upload_script(
    job: DumpJob, key: str, *, truncate_to: int | None = None, swallow_errors: bool = False
) -> str:
    """Dump, then upload (the upload's stdout: "<sha256 of the dump> <bytes of the dump>").

    ``swallow_errors``: a failed upload is reported on stderr and ignored (exit 0)."""
    staged = shlex.quote(job.path)
    cut = f" --truncate-to {int(truncate_to)}" if truncate_to is not None else ""
    on_error = (
        'echo "backup-wrapper: upload exited $?, ignored" >&2' if swallow_errors else "exit $?"
    )
    return (
        f"mkdir -p {STAGING} && {{ {DUMP_PLACEHOLDER} ; }} || exit $?; "
        f"rd-s3 put {shlex.quote(key)}{cut} < {staged} || {on_error}; rm -f {staged}"
    )


DUMP_PLACEHOLDER = "__DUMP__"


def take_s3_logical_backup(
    agent: BackupAgent,
    engine: Engine,
    backup: Backup,
    job: DumpJob,
    store: S3Store,
    *,
    source_bytes: int,
    last_acked_seq: int,
    truncate_to: int | None = None,
    swallow_errors: bool = False,
    timeout_s: float = 600,
) -> BackupRecord:
    """Dump, upload to ``store``, and catalogue the object (whatever the exit code)."""
    key = store.key(f"{backup.name}.dump.gz")
    script = upload_script(
        job, key, truncate_to=truncate_to, swallow_errors=swallow_errors
    ).replace(DUMP_PLACEHOLDER, engine.dump_command(job))
    env = {**engine.tool_env(password=job.password), **store.job_env()}
    started_wall, started = time.time(), time.monotonic()
    result = agent.run(script, timeout_s=timeout_s, env=env)
    ended_wall, ended = time.time(), time.monotonic()
    claim = result.stdout.split()[-2:] if result.ok else []
    url = store.url(key, store.latest_version(key))
    facts = agent.facts(url)
    return BackupRecord(
        name=backup.name,
        method=backup.method,
        store=backup.store,
        path=url,
        started_wall=started_wall,
        ended_wall=ended_wall,
        started_mono=started,
        ended_mono=ended,
        exit_code=result.exit_code,
        size_bytes=facts.size_bytes,
        sha256=claim[0] if len(claim) == 2 else facts.sha256,
        source_bytes=source_bytes,
        min_size_ratio=backup.min_size_ratio,
        last_acked_seq=last_acked_seq,
        log_tail=result.tail(),
        produced_bytes=int(claim[1]) if len(claim) == 2 and claim[1].isdigit() else None,
    )


def download_script(store: S3Store, url: str, *, name: str) -> tuple[str, str]:
    """A script fetching the object version ``url`` into the agent, and the local path."""
    key, version = parse_url(url)
    local = f"{RESTORE_STAGING}/{name}"
    ver = f" --version {shlex.quote(version)}" if version else ""
    script = (
        f"mkdir -p {RESTORE_STAGING} && rd-s3 get {shlex.quote(key)}{ver} > {shlex.quote(local)}"
    )
    return script, local
