"""The timeline: start the writer (and the lag monitor and old reader), then run the scheduled
backups and faults at their ``at_s`` (seconds after the writer starts), in order.

Faults before the last one are preconditions (a broken standby, a damaged archive, a corrupt
backup); the last one is the incident: it starts the RTO and RPO clocks, and the recovery
procedure answers it.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from pathlib import Path

from harness.backups.catalog import BackupRecord
from harness.backups.schedule import backup_alert, take_scheduled_backup
from harness.engines.base import DumpJob
from harness.faults import (
    FaultOutcome,
    SilentEmptyBackup,
    SilentEmptyUpload,
    UploadCredentialsExpired,
)
from harness.faults.base import Effect
from harness.measurement.acks import AckLog
from harness.measurement.monitor import LagMonitor
from harness.measurement.transaction import transaction_write
from harness.measurement.workload import Reader, WriteFn, Writer
from harness.runner.incident import precondition_fault, run_incident
from harness.runner.migration import prepare_migration, run_cutover
from harness.runner.state import RunState, Stage, Workers
from harness.scenario import model
from harness.scenario.model import Backup, BadMigration, Migration, ServerFault, sql_for
from harness.seeding import Seeded


def start_workers(stage: Stage, acks_path: Path | None = None) -> Workers:
    """Start the writer on the primary (its acknowledgment log streamed to ``acks_path``), the
    lag monitor and, for a bad migration, the reader that stands for the old code."""
    s, engine, lab, primary = stage.scenario, stage.engine, stage.lab, stage.topology.primary
    with contextlib.ExitStack() as undo:
        writer = Writer(
            engine,
            rate_per_s=s.workload.rate_per_s,
            clients=s.workload.clients,
            log=AckLog(acks_path),
            write=_transaction(stage),
        )
        stage.progress.watch(writer.counts)
        writer.retarget(primary.name, primary.endpoint(lab, engine))
        writer.start()
        undo.callback(writer.stop)
        t0 = time.monotonic()
        monitor = LagMonitor(
            engine,
            lambda: stage.connect(primary),
            t0=t0,
            archive=stage.topology.archiving,
            replicas=bool(stage.topology.replicas),
        ).start()
        undo.callback(monitor.stop)
        reader_table = next(
            (
                f.old_reader_table
                for f in s.timeline
                if isinstance(f, BadMigration) and f.old_reader_table
            ),
            None,
        )
        reader = None
        if reader_table:
            reader = Reader(engine, primary.endpoint(lab, engine), table=reader_table)
            reader.start()
        undo.pop_all()
    return Workers(writer, monitor, reader, t0)


def _transaction(stage: Stage) -> WriteFn | None:
    """The writer's custom transaction in the team's tables, or None (its own table)."""
    tx = stage.scenario.workload.transaction
    return None if tx is None else transaction_write(sql_for(tx.sql, stage.engine.name))


def run_timeline(stage: Stage, seeded: Seeded, workers: Workers, state: RunState) -> None:
    """Run every backup and fault at its moment; the incident's outcome goes to ``state``."""
    s, t0 = stage.scenario, workers.t0
    incident = s.incident
    events: list[tuple[float, int, Backup | ServerFault | Migration]] = [
        (b.at_s, 0, b) for b in s.backups
    ] + [(f.at_s, 1, f) for f in s.server_faults]
    # A migration (issue 14) prepares its copy now and cuts over at its at_s, as the incident.
    migration = prepare_migration(stage, state) if s.migration is not None else None
    if s.migration is not None:
        events.append((s.migration.at_s, 1, s.migration))
    for at_s, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        time.sleep(max(0.0, t0 + at_s - time.monotonic()))
        if isinstance(event, Migration):
            assert migration is not None
            state.incident = run_cutover(stage, seeded, workers, state, migration)
        elif isinstance(event, Backup):
            _backup(stage, seeded, workers, state, event)
        elif event is incident:
            state.incident = run_incident(stage, seeded, workers, state.ledger, event)
        else:
            precondition_fault(stage, seeded, workers, state.ledger, event)


def _backup(
    stage: Stage, seeded: Seeded, workers: Workers, state: RunState, backup: Backup
) -> None:
    """One scheduled backup, broken the way a backup fault of the scenario names (the job's
    own break, a truncated upload, an expired upload key), its alert and the fault's evidence."""
    ledger, topo = state.ledger, stage.topology
    agent, primary = topo.agent, topo.primary
    assert agent is not None
    stage.do(f"taking {backup.method} backup {backup.name}")
    spec = stage.scenario.backup_fault(backup.name)
    fault_type: str | None = None
    took_effect: Callable[[BackupRecord], Effect] | None = None
    revert: Callable[[], None] | None = None
    break_job: Callable[[DumpJob], DumpJob] | None = None
    truncate_upload_to: int | None = None
    swallow_upload_errors = False
    at_wall, at_mono = time.time(), time.monotonic()
    if isinstance(spec, model.UploadCredentialsExpired):
        expired, store = UploadCredentialsExpired(spec), agent.s3[backup.store]
        expired.inject(store)  # the job's key deleted through IAM before the job runs
        fault_type, swallow_upload_errors = expired.type, True
        took_effect = functools.partial(expired.took_effect, store=store)
        revert = functools.partial(expired.revert, store, backup.name)
    elif isinstance(spec, model.SilentEmptyUpload):
        upload = SilentEmptyUpload(spec)
        fault_type, took_effect, revert = upload.type, upload.took_effect, upload.revert
        truncate_upload_to = upload.truncate_to
    elif spec is not None:
        empty = SilentEmptyBackup(spec)
        fault_type, took_effect, revert = empty.type, empty.took_effect, empty.revert
        break_job = empty.broken
    record = take_scheduled_backup(
        agent,
        stage.engine,
        backup,
        catalog=ledger.catalog,
        source_host=primary.name,
        source_volume=primary.data_volume,
        source_bytes=seeded.source_bytes,
        last_acked_seq=workers.writer.last_acked_seq(),
        image=stage.image.name,
        break_job=break_job,
        truncate_upload_to=truncate_upload_to,
        source_container=primary.container_id,
        swallow_upload_errors=swallow_upload_errors,
    )
    alert = backup_alert(
        record, at_s=at_mono - workers.t0, alerts_on=stage.scenario.monitoring.backup_alerts
    )
    if alert is not None:
        ledger.alerts.append(alert)
    workers.monitor.sample()
    if fault_type is not None and took_effect is not None and revert is not None:
        effect = took_effect(record)
        ledger.faults.append(
            FaultOutcome(
                fault_type,
                f"backup:{backup.name}",
                at_wall,
                at_mono - workers.t0,
                effect.kind,
                effect.evidence,
            )
        )
        revert()
