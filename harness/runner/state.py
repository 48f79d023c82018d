"""What the phases of a drill share: the stage they act on, and what the run has learned.

``Stage`` and the phase results (``Seeded``, ``Workers``, ``Incident``, ``Measured``) are
frozen. ``RunState`` holds one slot per phase result, each written once, and a ``Ledger`` of
what accumulates while the drill runs (backups, faults, alerts, recovery attempts, timings),
so that a drill that fails half way still journals everything up to its failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.backups.catalog import Catalog
from harness.backups.schedule import BackupAlert
from harness.dataset import Fingerprint
from harness.engines.base import Engine
from harness.errors import InfrastructureError
from harness.faults import FaultContext, FaultOutcome, NodeFault
from harness.lab.images import ResolvedImage
from harness.lab.lab import Lab
from harness.measurement.catalogue import Comparison
from harness.measurement.checks import CheckResult, CheckRun
from harness.measurement.fidelity import Measured, table_states
from harness.measurement.latency import WriterLatency
from harness.measurement.monitor import LagMonitor
from harness.measurement.three_two_one import CopyAtFault
from harness.measurement.workload import Reader, Writer
from harness.progress import Progress
from harness.recovery.context import Recovered, RecoveryContext
from harness.scenario.model import Scenario
from harness.seeding import Seeded
from harness.server.byo import Loaded
from harness.server.node import Node
from harness.server.topology import Topology
from harness.truth import Truth


@dataclass(frozen=True)
class Stage:
    """The running lab a drill's phases act on, and the breadcrumb they set (``do``)."""

    scenario: Scenario
    engine: Engine
    lab: Lab
    image: ResolvedImage
    topology: Topology
    progress: Progress
    do: Callable[[str], None]

    def connect(self, node: Node) -> Any:
        """A connection to ``node`` (driver errors become InfrastructureError)."""
        engine = self.engine
        try:
            return engine.connect(node.endpoint(self.lab, engine), timeout_s=10)
        except engine.driver_errors() as exc:
            raise InfrastructureError(f"could not connect to {node.name}: {exc}") from exc

    def table_states(self, node: Node, tables: list[str]) -> dict[str, Fingerprint | None]:
        """Each table's fingerprint on ``node`` now, None where it cannot be read."""
        conn = self.connect(node)
        try:
            return table_states(self.engine, conn, tables)
        finally:
            conn.close()


@dataclass(frozen=True)
class Workers:
    """The writer, the lag monitor and (for a bad migration) the old code's reader; ``t0`` is
    the writer's start, the origin of every ``at_s``."""

    writer: Writer
    monitor: LagMonitor
    reader: Reader | None
    t0: float

    def stop(self) -> None:
        for worker in (self.writer, self.reader, self.monitor):
            if worker is not None:
                worker.stop()


@dataclass(frozen=True)
class Incident:
    """How the incident went: when it struck, when the probe noticed, what came back."""

    node: str
    fault_mono: float
    detected_mono: float | None
    recovered: Recovered | None = None
    unrecoverable: bool = False


@dataclass
class Ledger:
    """What accumulates while the drill runs; journaled also when the drill fails."""

    catalog: Catalog = field(default_factory=Catalog)
    faults: list[FaultOutcome] = field(default_factory=list)
    alerts: list[BackupAlert] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    recovery: RecoveryContext | None = None
    # Faults to revert in ``finally``, in the order they were injected.
    reverts: list[tuple[NodeFault, FaultContext]] = field(default_factory=list)
    # Each backup as it stood when the incident struck (for the 3-2-1 count).
    copies_at_fault: list[CopyAtFault] | None = None

    @property
    def gate_blocked(self) -> bool:
        """Whether a safety gate stopped a fault."""
        return any(f.blocked for f in self.faults)


@dataclass
class TeamData:
    """A team's own database: what was loaded, its source truth and checks before the
    timeline, and (after recovery) the comparison and the checks judged."""

    loaded: Loaded
    truth: Truth
    source_checks: dict[str, CheckRun] = field(default_factory=dict)
    recovered_truth: Truth | None = None
    comparison: Comparison | None = None
    checks: list[CheckResult] = field(default_factory=list)
    # Catalogue keys of the counters a custom transaction moves (workload.transaction).
    writer_counters: set[str] = field(default_factory=set)

    @property
    def verified(self) -> bool | None:
        """True when every table, object and check matches; None before the comparison."""
        if self.comparison is None:
            return None
        return self.comparison.ok and all(c.passed for c in self.checks)


@dataclass
class MigrationFidelity:
    """A migration's fidelity check: the old server's truth taken just before the cutover
    (writes frozen), the new server's after the copy, their comparison, and the differences
    the cutover repaired (sequence values copied)."""

    old_truth: Truth
    new_truth: Truth | None = None
    comparison: Comparison | None = None
    repaired: list[str] = field(default_factory=list)
    # Whether the clients moved to the new server (a blocked cutover leaves them on the old).
    cut_over: bool = True

    @property
    def verified(self) -> bool | None:
        """True when every difference (if any) was repaired; None before the comparison."""
        if self.comparison is None:
            return None
        return all(d.name in self.repaired for d in self.comparison.differences)


@dataclass
class RunState:
    """One slot per phase result, each written once, and the ledger."""

    ledger: Ledger = field(default_factory=Ledger)
    image: ResolvedImage | None = None
    seeded: Seeded | None = None
    workers: Workers | None = None
    incident: Incident | None = None
    measured: Measured | None = None
    # Where the writer streams its acknowledgment log (None: kept in memory only).
    acks_path: Path | None = None
    latency: WriterLatency | None = None
    team: TeamData | None = None
    migration_fidelity: MigrationFidelity | None = None
