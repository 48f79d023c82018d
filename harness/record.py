"""The drill record: what one drill run did and measured, as frozen dataclasses.

The runner fills it, ``harness.report.journal`` alone writes it to JSON and reads it back, and
the history, the reports and the CLI read its attributes. Field names and order are the
journal's keys; every part has defaults where the runner learns it only as the drill goes, so
a record can be built piecewise with ``dataclasses.replace``.

This module imports nothing from the rest of the harness, so every layer can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JsonValue = Any  # an expectation's expected and actual values: whatever JSON holds


class DrillStatus(StrEnum):
    """Where a drill run is in its lifecycle (Barman's STARTED -> DONE / FAILED).

    KILLED is set by the reaper, not the run: its process died (SIGKILL, a crash, a reboot)
    while the journal still said STARTED.
    """

    STARTED = "started"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    KILLED = "killed"


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where an incident scenario's story comes from."""

    title: str
    date: str = ""
    url: str = ""


@dataclass(frozen=True, kw_only=True)
class Objectives:
    """The scenario's recovery objectives, and whether the drill met them."""

    rto_s: float
    rpo_s: float
    max_lost_writes: int | None = None
    met: bool = False
    missed: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Expect:
    """What the scenario expected the drill to show."""

    objectives: str = "met"
    recovered: bool = True
    data_verified: bool = True
    restored_from: str | None = None
    rejected_backups: tuple[str, ...] = ()
    landed_on_target: bool = True
    alerted: bool | None = None
    gate_blocked: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Expectation:
    """One expectation and whether the drill met it."""

    what: str
    expected: JsonValue
    actual: JsonValue
    met: bool


@dataclass(frozen=True, kw_only=True)
class Pitr:
    """Where a point-in-time recovery landed, against its target."""

    target_at: str
    error_s: float
    overshoot_writes: int
    undershoot_writes: int
    within_tolerance: bool
    server_log: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Measured:
    """RTO, RPO, the writer's counts, lost sequence ranges and data verification."""

    rto_s: float | None = None
    rpo_s: float | None = None
    issued_writes: int | None = None
    acked_writes: int | None = None
    failed_writes: int | None = None
    unknown_writes: int | None = None
    lost_writes: int | None = None
    holes: int | None = None
    unexpected: int | None = None
    lost_seq_ranges: tuple[tuple[int, int], ...] | None = None
    hole_seq_ranges: tuple[tuple[int, int], ...] | None = None
    unexpected_seq_ranges: tuple[tuple[int, int], ...] | None = None
    last_surviving_seq: int | None = None
    data_verified: bool | None = None
    restored_from: str | None = None
    recovered_by: str | None = None
    seed_rows_lost: int | None = None
    tables_damaged: tuple[str, ...] | None = None
    pitr: Pitr | None = None


@dataclass(frozen=True, kw_only=True)
class Phases:
    """The RTO split into detection, restore and verification (monotonic seconds)."""

    detect_s: float | None = None
    restore_s: float | None = None
    verify_s: float | None = None
    # restore_s split where the recovery restored a backup: the backup's checksum re-check,
    # the fresh server's start (a physical restore: up to its promotion, its own WAL replay
    # included) and the restore tool's own run (pg_restore, the client, copying a base backup,
    # a binlog replay); what is left of restore_s is the harness's own steps.
    backup_check_s: float | None = None
    server_start_s: float | None = None
    restore_tool_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class FaultEntry:
    """One injected fault: when, where, and whether it took effect (or a gate blocked it)."""

    blocked_by_gate: bool = False
    type: str
    target: str
    at: str
    at_s: float
    took_effect: bool
    evidence: str


@dataclass(frozen=True, kw_only=True)
class BackupEntry:
    """One backup the drill took, with its verification level."""

    name: str
    method: str = "logical"
    store: str | None = None
    path: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    source_bytes: int | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    last_acked_seq_at_start: int | None = None
    verification: str = "none"
    verification_failure: str = ""
    checks: tuple[str, ...] = ()
    log_tail: str = ""
    # The database the backup was taken of, where it is known (a backup made outside the
    # tool and restore-tested names it); drills of the synthetic dataset leave it None.
    source_database: str | None = None
    # Jobs of a logical backup taken and restored in parallel (1: the single stream).
    parallel: int = 1


@dataclass(frozen=True, kw_only=True)
class RecoveryStepEntry:
    """One attempt of a recovery step; ``server_log`` is journaled only when there is one."""

    step: str
    outcome: str
    started_at: str | None = None
    duration_s: float | None = None
    backup: str | None = None
    detail: str = ""
    server_log: tuple[str, ...] = field(default=(), metadata={"omit_empty": True})


@dataclass(frozen=True, kw_only=True)
class Lag:
    """The lag monitor's maxima, and its samples as the engine reported them."""

    interval_s: float
    max_archive_lag_bytes: int | None = None
    max_replay_lag_bytes: Mapping[str, int] = field(default_factory=dict)
    archive_failures: int = 0
    samples: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, kw_only=True)
class ThreeTwoOne:
    """The 3-2-1 rule at the moment of the incident (issue 13): copies of the data (the live
    database and every backup that had passed verification), kinds of store, copies off the
    database host, and backups on a store the database host could write to."""

    copies: int
    store_kinds: tuple[str, ...]
    off_host: int
    immutable: int = 0
    db_writable: tuple[str, ...] = ()
    met: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Alert:
    """A backup alert the team would have received."""

    at_s: float
    backup: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class OldReader:
    """A reader left on the old primary after a failover: what it could still read."""

    table: str
    reads_ok: int
    reads_failed: int
    first_error: str | None = None


@dataclass(frozen=True, kw_only=True)
class TableFingerprint:
    """Row count and content hash of one seeded table."""

    rows: int
    digest: str


@dataclass(frozen=True, kw_only=True)
class Fingerprints:
    """Seeded tables before the incident and after recovery (None: the table is gone)."""

    reference: Mapping[str, TableFingerprint] = field(default_factory=dict)
    recovered: Mapping[str, TableFingerprint | None] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """The seeded tables."""

    tables: int
    rows_per_table: int
    seed: int
    file: str | None = None
    database: str | None = None


@dataclass(frozen=True, kw_only=True)
class TeamDifference:
    """A table or schema object of the team's database that does not match its source."""

    kind: str
    name: str
    status: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class TeamCheck:
    """A team's own check: its results on the source and the recovered database, as text."""

    name: str
    expectation: str
    source: str | None = None
    recovered: str | None = None
    passed: bool
    reason: str


@dataclass(frozen=True, kw_only=True)
class TeamData:
    """A team's own database: what was loaded, how long loading and the truths took, the
    comparison after recovery (``verified`` None before it) and the team's checks."""

    file: str
    kind: str
    gzipped: bool = False
    file_bytes: int = 0
    database: str
    load_s: float
    truth_s: float
    recovered_truth_s: float | None = None
    tables: int
    objects: int
    objects_by_kind: Mapping[str, int] = field(default_factory=dict)
    rows: int
    verified: bool | None = None
    summary: str = ""
    differences: tuple[TeamDifference, ...] = ()
    checks: tuple[TeamCheck, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MigrationFidelity:
    """A cross-version migration's fidelity check: every table's digest and every schema
    object of the old server (writes frozen, just before the cutover) against the new one."""

    old_truth_s: float
    new_truth_s: float | None = None
    tables: int
    objects: int
    objects_by_kind: Mapping[str, int] = field(default_factory=dict)
    verified: bool | None = None
    summary: str = ""
    differences: tuple[TeamDifference, ...] = ()
    repaired: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Workload:
    """The writer that kept writing during the drill."""

    rate_per_s: float
    after_recovery_s: float
    clients: int = 1
    # workload.transaction as the scenario gave it (table, seq_column, sql, setup, also_writes).
    transaction: dict[str, Any] | None = field(default=None, metadata={"omit_empty": True})


@dataclass(frozen=True, kw_only=True)
class LatencyWindow:
    """Latencies of the acknowledged writes of one window (milliseconds), and their rate."""

    writes: int
    acked_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True, kw_only=True)
class WriterLatency:
    """The writer's latency from its start to the fault, and on the recovered server."""

    before_fault: LatencyWindow | None = None
    after_recovery: LatencyWindow | None = None


@dataclass(frozen=True, kw_only=True)
class Clock:
    """How time was measured."""

    durations: str
    monotonic_resolution_s: float
    wall: str
    probe_interval_s: float
    rto_uncertainty_s: float


@dataclass(frozen=True, kw_only=True)
class HostLoad:
    """The host's load while the drill ran: its timings on a saturated host (work waiting for
    a CPU half the time, by Linux PSI; else the 1-minute load average above the CPUs) measure
    the host as much as the recovery (``harness.measurement.host_load``)."""

    cpus: int
    jobs: int = 1
    load_1m_start: float | None = None
    load_1m_max: float | None = None
    load_1m_mean: float | None = None
    samples: int = 0
    cpu_stall_share: float | None = None
    saturated: bool = False
    docker_host: str | None = None


@dataclass(frozen=True, kw_only=True)
class DrillRecord:
    """One drill run; ``action`` is what the runner was doing last (the failure breadcrumb)."""

    run_id: str
    status: DrillStatus
    action: str = ""
    scenario: str
    strategy: str | None = None
    scenario_file: str | None = None
    summary: str | None = None
    source: Source | None = None
    lesson: str = ""
    twin_of: str | None = None
    engine: str
    image: str | None = None
    image_requested: str | None = None
    image_local_build: bool | None = None
    started_at: str
    ended_at: str | None = None
    duration_s: float | None = None
    verdict: str | None = None
    reasons: tuple[str, ...] = ()
    error: str = ""
    error_detail: str = ""
    objectives: Objectives
    expect: Expect
    expectations: tuple[Expectation, ...] = ()
    measured: Measured = field(default_factory=Measured)
    phases: Phases = field(default_factory=Phases)
    timings: Mapping[str, float] = field(default_factory=dict)
    faults: tuple[FaultEntry, ...] = ()
    backups: tuple[BackupEntry, ...] = ()
    recovery: tuple[RecoveryStepEntry, ...] = ()
    lag: Lag | None = None
    alerts: tuple[Alert, ...] = ()
    outcome: str = ""
    old_reader: OldReader | None = None
    fingerprints: Fingerprints = field(default_factory=Fingerprints)
    dataset: Dataset
    workload: Workload
    clock: Clock
    writer_latency: WriterLatency | None = None
    three_two_one: ThreeTwoOne | None = None
    team_data: TeamData | None = None
    host: HostLoad | None = None
    migration_fidelity: MigrationFidelity | None = None

    def disruptive_fault(self) -> FaultEntry | None:
        """The fault that took a server down (not a fault acting on a backup job)."""
        return next((f for f in self.faults if not f.target.startswith("backup:")), None)
