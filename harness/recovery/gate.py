"""The migration safety gate: the copy matches the original, and a young backup restores."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from harness.backups.catalog import Catalog
from harness.dataset import Fingerprint
from harness.recovery.context import RecoveryContext
from harness.recovery.restore import restore_test
from harness.scenario.model import MigrationGate
from harness.server.node import Node

TableStates = dict[str, Fingerprint | None]


@dataclass(frozen=True)
class GateResult:
    """The gate's checks that failed; it passes when there are none."""

    failures: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def reason(self) -> str:
        """Every failed check, for evidence."""
        return "; ".join(self.failures)


def _rows(fingerprint: Fingerprint | None) -> int:
    return fingerprint.rows if fingerprint else 0


def check_gate(
    gate: MigrationGate,
    *,
    original: Node,
    copy: Node,
    reference: Mapping[str, Fingerprint | None],
    catalog: Catalog,
    table_states: Callable[[Node], TableStates],
    restore_context: Callable[[], RecoveryContext],
) -> GateResult:
    """Compare the copy with the original table by table; when the gate asks for it, restore
    the newest backup younger than its limit and compare that with the reference."""
    failures: list[str] = []
    before, after = table_states(original), table_states(copy)
    differing = [t for t in reference if before.get(t) != after.get(t)]
    if differing:
        failures.append(
            "copy differs from the original in "
            + ", ".join(
                f"{t} ({_rows(before.get(t))} rows vs {_rows(after.get(t))})" for t in differing
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
            tested = restore_test(
                restore_context(),
                young[0],
                matches_reference=lambda n: table_states(n) == reference,
            )
            if not tested.passed:
                failures.append(tested.reason)
    return GateResult(tuple(failures))
