"""Recovery driving: the context recovery steps work in, and the run of the scenario's steps."""

from __future__ import annotations

from harness.backups.catalog import Catalog
from harness.recovery.context import Recovered, RecoveryContext
from harness.recovery.pipeline import run_recovery
from harness.runner.state import Ledger, Stage
from harness.server.node import Node


def recovery_context(
    stage: Stage,
    catalog: Catalog,
    *,
    failed: Node,
    incident_wall: float,
    fault_position: tuple[str, float] | None = None,
) -> RecoveryContext:
    """The context for recovering ``failed`` (or for restore-testing a backup)."""
    s, topo = stage.scenario, stage.topology
    return RecoveryContext(
        lab=stage.lab,
        engine=stage.engine,
        image=stage.image.name,
        agent=topo.agent,
        catalog=catalog,
        failed=failed,
        probe_interval_s=s.recovery.probe_interval_s,
        announce=stage.progress.phase,
        nodes=topo.nodes,
        incident_wall=incident_wall,
        fault_position=fault_position,
        archive_volume=topo.archive_volume,
        connect=stage.connect,
        backups={b.name: b for b in s.backups},
    )


def drive_recovery(
    stage: Stage,
    ledger: Ledger,
    *,
    failed: Node,
    incident_wall: float,
    fault_position: tuple[str, float] | None,
) -> Recovered | None:
    """Run the scenario's recovery steps; every attempt is journaled from ``ledger.recovery``."""
    ctx = ledger.recovery = recovery_context(
        stage,
        ledger.catalog,
        failed=failed,
        incident_wall=incident_wall,
        fault_position=fault_position,
    )
    result = run_recovery(ctx, stage.scenario.recovery.steps)
    return result if isinstance(result, Recovered) else None
