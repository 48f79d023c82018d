"""The migration safety gate: checked before a cutover is allowed to go ahead."""

from __future__ import annotations

import time

from harness.backups.catalog import Catalog
from harness.dataset import Fingerprint
from harness.recovery.restore import restore_test
from harness.runner.recover import recovery_context
from harness.runner.state import Stage
from harness.scenario.model import MigrationGate
from harness.server.node import Node


def _rows(fingerprint: Fingerprint | None) -> int:
    return fingerprint.rows if fingerprint else 0


def gate_check(
    stage: Stage, reference: dict[str, Fingerprint], catalog: Catalog, gate: MigrationGate
) -> str:
    """The migration safety gate: the copy matches the original, and a backup younger
    than the limit restores to the reference. Returns "" when every check passes."""
    stage.do("checking the migration safety gate")

    def table_states_of(node: Node) -> dict[str, Fingerprint | None]:
        return stage.table_states(node, list(reference))

    failures: list[str] = []
    old, new = stage.topology.primary, stage.topology.nodes[gate.compare_with]
    original, copy = table_states_of(old), table_states_of(new)
    differing = [t for t in reference if original.get(t) != copy.get(t)]
    if differing:
        failures.append(
            "copy differs from the original in "
            + ", ".join(
                f"{t} ({_rows(original.get(t))} rows vs {_rows(copy.get(t))})" for t in differing
            )
        )
    if gate.max_backup_age_s is not None:
        young = [
            r
            for r in catalog.newest_first()
            if time.monotonic() - r.ended_mono <= gate.max_backup_age_s
        ]
        if not young:
            failures.append(f"no backup younger than {gate.max_backup_age_s:g} s")
        else:
            ctx = recovery_context(stage, catalog, failed=old, incident_wall=time.time())
            problem = restore_test(
                ctx,
                young[0],
                matches_reference=lambda n: table_states_of(n) == reference,
            )
            if problem:
                failures.append(problem)
    return "; ".join(failures)
