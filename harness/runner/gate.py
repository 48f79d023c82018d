"""The migration safety gate on this drill's servers (the checks are recovery/gate.py's)."""

from __future__ import annotations

import time

from harness.backups.catalog import Catalog
from harness.dataset import Fingerprint
from harness.recovery.gate import GateResult, check_gate
from harness.runner.recover import recovery_context
from harness.runner.state import Stage
from harness.scenario.model import MigrationGate


def gate_check(
    stage: Stage, reference: dict[str, Fingerprint], catalog: Catalog, gate: MigrationGate
) -> GateResult:
    """The gate before a cutover or a decommission: the copy (``gate.compare_with``) against
    the primary, and a restore test of a backup younger than the gate's limit."""
    stage.do("checking the migration safety gate")
    old = stage.topology.primary
    return check_gate(
        gate,
        original=old,
        copy=stage.topology.nodes[gate.compare_with],
        reference=reference,
        catalog=catalog,
        table_states=lambda node: stage.table_states(node, list(reference)),
        restore_context=lambda: recovery_context(
            stage, catalog, failed=old, incident_wall=time.time()
        ),
    )
