"""Scheduled backups: take one, verify it in its store, catalog it, and alert when it is bad."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from harness.backups.agent import BackupAgent
from harness.backups.catalog import BackupRecord, Catalog, Verification
from harness.backups.command import take_command_backup
from harness.backups.logical import dump_job, take_logical_backup
from harness.backups.pgbackrest import take_pgbackrest_backup
from harness.backups.physical import take_physical_backup
from harness.backups.upload import staged_job, take_s3_logical_backup
from harness.backups.verify import verify_stored
from harness.engines.base import DumpJob, Engine
from harness.record import Alert
from harness.scenario.model import Backup

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupAlert:
    """A monitoring alert raised by a backup that failed its verification."""

    at_s: float
    backup: str
    reason: str

    def entry(self) -> Alert:
        """This alert as the drill record holds it."""
        return Alert(at_s=self.at_s, backup=self.backup, reason=self.reason)


def take_scheduled_backup(
    agent: BackupAgent,
    engine: Engine,
    backup: Backup,
    *,
    catalog: Catalog,
    source_host: str,
    source_volume: str | None,
    source_bytes: int,
    last_acked_seq: int,
    image: str,
    break_job: Callable[[DumpJob], DumpJob] | None = None,
    truncate_upload_to: int | None = None,
    source_container: str | None = None,
    swallow_upload_errors: bool = False,
) -> BackupRecord:
    """Take ``backup``, verify it where it is stored and add it to ``catalog``.

    ``break_job`` (a backup fault) rewrites a logical dump's job before it runs;
    ``truncate_upload_to`` (silent_empty_upload) makes the upload ship only that many bytes;
    ``source_container`` is the primary's container (pgbackrest runs there);
    ``swallow_upload_errors`` (upload_credentials_expired) wraps the upload in a wrapper that
    ignores its failure and exits 0.
    """
    s3_store = agent.s3.get(backup.store)
    if backup.method == "pgbackrest":
        assert source_container is not None
        record = take_pgbackrest_backup(
            agent,
            agent.lab,
            engine,
            backup,
            source_container=source_container,
            source_bytes=source_bytes,
            last_acked_seq=last_acked_seq,
        )
    elif backup.method == "command":
        record = take_command_backup(
            agent,
            engine,
            backup,
            source_host=source_host,
            source_bytes=source_bytes,
            last_acked_seq=last_acked_seq,
        )
    elif s3_store is not None:
        job = staged_job(engine, backup, source_host=source_host)
        if break_job is not None:
            job = break_job(job)
        record = take_s3_logical_backup(
            agent,
            engine,
            backup,
            job,
            s3_store,
            source_bytes=source_bytes,
            last_acked_seq=last_acked_seq,
            truncate_to=truncate_upload_to,
            swallow_errors=swallow_upload_errors,
        )
    elif backup.method == "physical":
        record = take_physical_backup(
            agent,
            engine,
            backup,
            source_host=source_host,
            source_bytes=source_bytes,
            last_acked_seq=last_acked_seq,
            source_volume=source_volume,
            image=image,
        )
    else:
        job = dump_job(engine, backup, source_host=source_host)
        if break_job is not None:
            job = break_job(job)
        record = take_logical_backup(
            agent,
            engine,
            backup,
            job,
            source_bytes=source_bytes,
            last_acked_seq=last_acked_seq,
        )
    record.faulted = break_job is not None or truncate_upload_to is not None
    record.faulted = record.faulted or swallow_upload_errors
    # Hashed once: the facts just read from the store are reused, except for an S3 upload,
    # whose catalogued sha256 is the dump's own claim that the stored object must match.
    verify_stored(agent, engine, record, just_taken=s3_store is None)
    catalog.add(record)
    return record


def backup_alert(record: BackupRecord, *, at_s: float, alerts_on: bool) -> BackupAlert | None:
    """The alert a backup that failed verification raises (None if it passed or alerts are off)."""
    if record.verification >= Verification.CHECKSUM_MATCHES and not record.verification_failure:
        return None
    log.warning("backup %s failed verification: %s", record.name, record.verification_failure)
    if not alerts_on:
        return None
    return BackupAlert(round(at_s, 3), record.name, record.verification_failure)
