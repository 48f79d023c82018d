"""The migration safety gate: the copy matches the original, and a young backup restores."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from harness.backups.catalog import BackupRecord, Catalog, Verification
from harness.dataset import Fingerprint
from harness.errors import HarnessError, first_line
from harness.recovery.context import RecoveryContext
from harness.recovery.restore import restore_logical, restore_physical, verified_backup
from harness.scenario.model import MigrationGate
from harness.server.node import Node

TableStates = dict[str, Fingerprint | None]
# Restoring a backup for a restore test ends within this.
RESTORE_TEST_TIMEOUT_S = 300.0


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


@dataclass(frozen=True)
class RestoreTestResult:
    """Whether a backup restored to the reference, and what was found."""

    backup: str
    passed: bool
    reason: str


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


def restore_test(
    ctx: RecoveryContext, record: BackupRecord, *, matches_reference: Callable[[Node], bool]
) -> RestoreTestResult:
    """Restore ``record`` into a scratch server and compare it with the reference.

    The scratch server is removed either way. On success the backup reaches the
    restore-tested level.
    """
    if not verified_backup(ctx, record):
        return RestoreTestResult(
            record.name,
            passed=False,
            reason=f"backup {record.name} failed verification: {record.verification_failure}",
        )
    try:
        if record.method == "physical":
            restored = restore_physical(ctx, record, target=None, timeout_s=RESTORE_TEST_TIMEOUT_S)
        else:
            restored = restore_logical(ctx, record, timeout_s=RESTORE_TEST_TIMEOUT_S)
    except HarnessError as exc:
        reason = f"restore test of {record.name} failed: {first_line(exc, limit=300)}"
        return RestoreTestResult(record.name, passed=False, reason=reason)
    try:
        if not matches_reference(restored.node):
            reason = f"restore test of {record.name}: restored data does not match the reference"
            return RestoreTestResult(record.name, passed=False, reason=reason)
    finally:
        ctx.lab.remove(restored.node.container_id)
    record.verification = Verification.RESTORE_TESTED
    record.checks.append("restore_tested")
    return RestoreTestResult(
        record.name, passed=True, reason=f"{record.name} restored to the reference"
    )
