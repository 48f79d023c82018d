"""Scheduled backups: take one, verify it in its store, catalog it, and alert when it is bad."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from harness.backups.agent import BackupAgent
from harness.backups.catalog import BackupRecord, Catalog, Verification
from harness.backups.logical import dump_job, take_logical_backup
from harness.backups.physical import take_physical_backup
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
) -> BackupRecord:
    """Take ``backup``, verify it where it is stored and add it to ``catalog``.

    ``break_job`` (a backup fault) rewrites a logical dump's job before it runs.
    """
    if backup.method == "physical":
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
    record.faulted = break_job is not None
    verify_stored(agent, engine, record, just_taken=True)
    catalog.add(record)
    return record


def backup_alert(record: BackupRecord, *, at_s: float, alerts_on: bool) -> BackupAlert | None:
    """The alert a backup that failed verification raises (None if it passed or alerts are off)."""
    if record.verification >= Verification.CHECKSUM_MATCHES:
        return None
    log.warning("backup %s failed verification: %s", record.name, record.verification_failure)
    if not alerts_on:
        return None
    return BackupAlert(round(at_s, 3), record.name, record.verification_failure)
