"""The drill record of one run, built from the run state (its one builder).

Every part comes from a typed source: the scenario's models, the phases' frozen results and
the domain objects' own ``entry()`` (a fault outcome, a backup, a recovery attempt, a check).
``harness.report.journal`` alone turns the record into JSON.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.clock import DURATIONS_CLOCK, MONOTONIC_RESOLUTION_S, WALL_CLOCK, iso_utc
from harness.dataset import Fingerprint
from harness.measurement.fidelity import data_loss
from harness.measurement.latency import Percentiles
from harness.measurement.measure import to_ranges
from harness.measurement.three_two_one import CopyAtFault, StoreView
from harness.measurement.three_two_one import count as count_copies
from harness.measurement.verdict import Check, Outcome, Verdict, objectives_met
from harness.record import (
    Clock,
    Dataset,
    DrillRecord,
    DrillStatus,
    Expect,
    Fingerprints,
    HostLoad,
    LatencyWindow,
    Measured,
    Objectives,
    OldReader,
    Phases,
    Pitr,
    Source,
    TableFingerprint,
    ThreeTwoOne,
    Workload,
    WriterLatency,
)
from harness.recovery.split import restore_split
from harness.runner.judge import outcome
from harness.runner.migration_fidelity import fidelity_record
from harness.runner.state import RunState
from harness.runner.team import team_record
from harness.scenario.model import Scenario


@dataclass(frozen=True)
class RunFacts:
    """The lifecycle's part of the record: who ran what, when, and how it ended so far."""

    run_id: str
    status: DrillStatus
    action: str
    strategy: str | None
    source: Path
    engine: str
    image_override: str | None
    started_wall: float
    started_mono: float
    verdict: Verdict | None
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    error: str
    error_detail: str
    host: HostLoad | None = None


def rule_of_three(s: Scenario, copies: list[CopyAtFault] | None) -> ThreeTwoOne | None:
    """The 3-2-1 count at the incident (None before it, or without one)."""
    if copies is None:
        return None
    views = [
        StoreView(
            st.name,
            st.kind,
            db_writable=st.reachable_from_db or st.name == s.topology.wal_archive,
            on_db_host=st.kind != "s3"
            and (st.reachable_from_db or st.name == s.topology.wal_archive),
            immutable=st.immutable,
        )
        for st in s.stores
    ]
    return count_copies(views, copies)


def build_record(s: Scenario, st: RunState, facts: RunFacts) -> DrillRecord:
    """The drill record as far as the run got."""
    out = outcome(st)
    met, missed = objectives_met(s.objectives, out)
    ledger, image = st.ledger, st.image
    rto = st.measured.rto if st.measured else None
    probe_s = s.recovery.probe_interval_s
    return DrillRecord(
        run_id=facts.run_id,
        status=facts.status,
        action=facts.action,
        scenario=s.name,
        strategy=facts.strategy,
        scenario_file=str(facts.source),
        summary=s.summary,
        source=Source(**s.source.model_dump()) if s.source else None,
        lesson=s.lesson,
        twin_of=s.twin_of,
        engine=facts.engine,
        image=image.name if image else None,
        image_requested=image.requested if image else facts.image_override,
        image_local_build=image.local_build if image else None,
        started_at=iso_utc(facts.started_wall),
        ended_at=None if facts.status is DrillStatus.STARTED else iso_utc(time.time()),
        duration_s=round(time.monotonic() - facts.started_mono, 3),
        verdict=facts.verdict.value if facts.verdict else None,
        reasons=facts.reasons,
        error=facts.error,
        error_detail=facts.error_detail,
        objectives=Objectives(**s.objectives.model_dump(), met=met, missed=tuple(missed)),
        expect=Expect(
            **s.expect.model_dump(exclude={"rejected_backups"}),
            rejected_backups=tuple(s.expect.rejected_backups),
        ),
        expectations=tuple(c.entry() for c in facts.checks),
        measured=_measured(st, out),
        phases=Phases(
            detect_s=round(rto.detect_s, 4) if rto else None,
            restore_s=round(rto.restore_s, 4) if rto else None,
            verify_s=round(rto.verify_s, 4) if rto else None,
            **restore_split(st.incident.recovered if st.incident and rto else None),
        ),
        timings=dict(ledger.timings),
        faults=tuple(f.entry() for f in ledger.faults),
        backups=tuple(r.entry() for r in ledger.catalog.records),
        recovery=tuple(r.entry() for r in (ledger.recovery.records if ledger.recovery else [])),
        lag=st.workers.monitor.summary() if st.workers else None,
        alerts=tuple(a.entry() for a in ledger.alerts),
        three_two_one=rule_of_three(s, ledger.copies_at_fault),
        outcome=_outcome_label(st),
        old_reader=_old_reader(st),
        fingerprints=_fingerprints(st),
        dataset=Dataset(**s.dataset.model_dump()),
        workload=Workload(**s.workload.model_dump()),
        clock=Clock(
            durations=DURATIONS_CLOCK,
            monotonic_resolution_s=MONOTONIC_RESOLUTION_S,
            wall=WALL_CLOCK,
            probe_interval_s=probe_s,
            rto_uncertainty_s=probe_s,  # an outage ends at most one probe interval earlier
        ),
        writer_latency=_writer_latency(st),
        team_data=team_record(st.team),
        host=facts.host,
        migration_fidelity=fidelity_record(st.migration_fidelity),
    )


def _writer_latency(st: RunState) -> WriterLatency | None:
    lat = st.latency
    if lat is None:
        return None

    def window(p: Percentiles | None) -> LatencyWindow | None:
        return LatencyWindow(**dataclasses.asdict(p)) if p is not None else None

    return WriterLatency(
        before_fault=window(lat.before_fault), after_recovery=window(lat.after_recovery)
    )


def _measured(st: RunState, out: Outcome) -> Measured:
    measured = st.measured
    rpo, rto = (measured.rpo, measured.rto) if measured else (None, None)
    recovered = st.incident.recovered if st.incident else None
    loss = data_loss(
        st.seeded.reference if st.seeded else {}, measured.recovered_fps if measured else None
    )
    return Measured(
        rto_s=round(rto.rto_s, 4) if rto else None,
        rpo_s=round(rpo.rpo_s, 4) if rpo else None,
        issued_writes=rpo.issued_writes if rpo else None,
        acked_writes=rpo.acked_writes if rpo else None,
        failed_writes=rpo.failed_writes if rpo else None,
        unknown_writes=rpo.unknown_writes if rpo else None,
        lost_writes=rpo.lost_writes if rpo else None,
        holes=rpo.holes if rpo else None,
        unexpected=rpo.unexpected if rpo else None,
        lost_seq_ranges=_ranges(rpo.lost_seqs) if rpo else None,
        hole_seq_ranges=_ranges(rpo.hole_seqs) if rpo else None,
        unexpected_seq_ranges=_ranges(rpo.unexpected_seqs) if rpo else None,
        last_surviving_seq=rpo.last_surviving_seq if rpo else None,
        data_verified=out.data_verified,
        restored_from=out.restored_from,
        recovered_by=recovered.step if recovered else None,
        seed_rows_lost=loss.seed_rows_lost,
        tables_damaged=tuple(loss.tables_damaged) if loss.tables_damaged is not None else None,
        pitr=_pitr(st),
    )


def _ranges(seqs: Sequence[int]) -> tuple[tuple[int, int], ...]:
    return tuple((first, last) for first, last in to_ranges(seqs))


def _pitr(st: RunState) -> Pitr | None:
    landing = st.measured.landing if st.measured else None
    if landing is None:
        return None
    recovered = st.incident.recovered if st.incident else None
    server_log = recovered.landing.server_log if recovered and recovered.landing else []
    return Pitr(
        target_at=iso_utc(landing.target_wall),
        error_s=round(landing.error_s, 4),
        overshoot_writes=landing.overshoot_writes,
        undershoot_writes=landing.undershoot_writes,
        within_tolerance=landing.within_tolerance,
        server_log=tuple(server_log),
    )


def _fingerprints(st: RunState) -> Fingerprints:
    def table(f: Fingerprint) -> TableFingerprint:
        return TableFingerprint(rows=f.rows, digest=f.digest)

    reference = st.seeded.reference if st.seeded else {}
    recovered = st.measured.recovered_fps if st.measured else None
    return Fingerprints(
        reference={t: table(f) for t, f in reference.items()},
        recovered={t: (table(f) if f else None) for t, f in (recovered or {}).items()},
    )


def _outcome_label(st: RunState) -> str:
    incident = st.incident
    if incident is not None and incident.unrecoverable:
        return "unrecoverable"
    if st.ledger.gate_blocked:
        return "blocked by gate"
    if incident is not None and incident.recovered is not None:
        return "recovered"
    return "not recovered"


def _old_reader(st: RunState) -> OldReader | None:
    reader = st.workers.reader if st.workers else None
    if reader is None:
        return None
    return OldReader(
        table=reader.table,
        reads_ok=reader.ok,
        reads_failed=reader.failed,
        first_error=reader.first_error,
    )
